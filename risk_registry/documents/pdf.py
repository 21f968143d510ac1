"""PDF (WeasyPrint) in the official forms: title, repeated table header, 第 X 页 共 Y 页, signature and seal.

Chinese needs a CJK font. The document names Noto Serif/Sans CJK SC (Debian's ``fonts-noto-cjk``)
and nothing else, so a missing font cannot silently turn into boxes: ``cjk_font`` checks that one
is installed first and the render is refused with a clear message otherwise.
"""

from __future__ import annotations

import glob
import logging
import shutil
import subprocess
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from risk_registry.documents.definitions import GRADED_DIRECTLY, DocumentHeader, FormSpec
from risk_registry.organisation.colours import safe_colour
from risk_registry.organisation.text import printable

CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
FONT_GLOBS = ("/usr/share/fonts/**/NotoSerifCJK*", "/usr/share/fonts/**/NotoSansCJK*")
# WeasyPrint keeps the whole layout in memory: past this many points a PDF is refused (use Excel).
PDF_MAX_POINTS = 5000
# WeasyPrint logs every layout step at INFO; the root logger's INFO would print them all.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


class DocumentUnavailable(Exception):
    """A document cannot be produced here (no CJK font, too many points); the message says why."""


def installed_cjk_families() -> list[str]:
    """The named CJK families fontconfig knows (fc-list), or those whose files are present."""
    fc_list = shutil.which("fc-list")
    if fc_list:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=30, check=False
        )
        names = {name.strip() for line in result.stdout.splitlines() for name in line.split(",")}
        return [family for family in CJK_FAMILIES if family in names]
    found = [path for pattern in FONT_GLOBS for path in glob.glob(pattern, recursive=True)]
    return [family for family in CJK_FAMILIES if any(family.replace(" ", "")[:9] in path for path in found)]


def cjk_font() -> str:
    """The CSS font-family list for documents, or DocumentUnavailable when no CJK font is installed."""
    families = installed_cjk_families()
    if not families:
        raise DocumentUnavailable(
            _(
                "No Chinese (CJK) font is installed, so the PDF would print boxes instead of text. "
                "Install Debian's fonts-noto-cjk (Noto Serif CJK SC) and try again."
            )
        )
    return ", ".join(f'"{family}"' for family in families)


def _table_rows(form: FormSpec, rows: Iterable[dict]) -> list[dict]:
    result = []
    for serial, row in enumerate(rows, start=1):
        row["_serial"] = serial
        cells: list[dict[str, Any]] = []
        for column in form.columns:
            value = column.value(row)
            text = "" if value is None else printable(str(value))
            if column.numeric and text == GRADED_DIRECTLY and cells and cells[-1]["text"] == GRADED_DIRECTLY:
                # the narrow 发生概率/危害程度 columns would wrap it a character a line: printed once across both
                cells[-1]["colspan"] += 1
                continue
            cells.append(
                {
                    "text": text,
                    "colour": safe_colour(row["level"].get("colour")) if column.level else "",
                    "centre": column.numeric or column.level,
                    "colspan": 1,
                }
            )
        result.append({"cells": cells})
    return result


def render_html(
    *, form: FormSpec, header: DocumentHeader, rows: Iterable[dict], figures: dict[str, str] | None = None
) -> str:
    """The document's HTML; ``figures`` (section label → markup rendered by a template, so escaped)
    go above their section's table, such as a power's flow chart."""
    figures = figures or {}
    sections = [
        {"label": label, "rows": _table_rows(form, section_rows), "figure": figures.get(label, "")}
        for label, section_rows in form.sections(rows)
    ]
    total = sum(len(section["rows"]) for section in sections)
    if total > PDF_MAX_POINTS:
        raise DocumentUnavailable(
            _("A PDF is limited to %(limit)d risk points (this one has %(count)d): export Excel instead.")
            % {"limit": PDF_MAX_POINTS, "count": total}
        )
    grouped = form.has_groups
    top: list[dict[str, Any]] = []
    bottom: list[str] = []
    for column in form.columns:
        if not grouped or not column.group:
            top.append({"text": column.header, "rowspan": 2 if grouped else 1, "colspan": 1})
        elif not top or top[-1].get("group") != column.group:
            top.append({"text": column.group, "rowspan": 1, "colspan": 1, "group": column.group})
        else:
            top[-1]["colspan"] += 1
        if grouped and column.group:
            bottom.append(column.header)
    total_width = sum(column.width for column in form.columns)
    return render_to_string(
        "documents/pdf/register.html",
        {
            "font": cjk_font(),
            "form": form,
            "header": header,
            "title": header.title(form),
            "sections": sections or [{"label": "", "rows": []}],
            "widths": [round(100 * column.width / total_width, 2) for column in form.columns],
            "top": top,
            "bottom": bottom,
            "total": total,
        },
    )


def write_pdf(
    out: IO[bytes] | str,
    *,
    form: FormSpec,
    header: DocumentHeader,
    rows: Iterable[dict],
    phase: Callable[[str], None] | None = None,
    figures: dict[str, str] | None = None,
) -> int:
    """Render ``rows`` in ``form`` as a PDF into ``out``; returns the number of points.

    WeasyPrint lays the whole document out at once, so there is no count of points written to
    report: ``phase`` is told each step instead (``rows``, ``layout``, ``writing``)."""
    from weasyprint import HTML  # imported here: loading Pango costs time every command would pay

    step = phase or (lambda name: None)
    step("rows")
    html = render_html(form=form, header=header, rows=rows, figures=figures)
    step("layout")
    document = HTML(string=html).render()
    step("writing")
    data = document.write_pdf()
    if isinstance(out, str):
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        out.write(data)
    return html.count('class="point"')


def html_to_pdf(html: str) -> bytes:
    """Any document's HTML (which names ``cjk_font()``) as PDF bytes."""
    from weasyprint import HTML  # imported here: loading Pango costs time every command would pay

    return HTML(string=html).render().write_pdf()
