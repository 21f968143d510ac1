"""PDF (WeasyPrint) in the official forms: title, repeated table header, 第 X 页 共 Y 页, signature and seal.

Chinese needs a CJK font. The document names Noto Serif/Sans CJK SC (Debian's ``fonts-noto-cjk``)
first, so a missing font cannot silently turn into boxes: ``cjk_font`` checks that one is
installed and the render is refused with a clear message otherwise. Rare characters of people's
and places' names (CJK Extension B and later: 𡒄 U+21484, 𪚥 U+2A6A5) are not in Noto CJK: the
stack goes on with HanaMinA/HanaMinB (``fonts-hanazono``: Extension A–F) and BabelStone Han
(``fonts-babelstone-han``: part of Extension G and H).

A character that no installed font covers would print as a box (⊠) with only a WeasyPrint
warning in a log. Before WeasyPrint sees a document, ``mark_missing_glyphs`` checks every
character of its HTML against the union of the installed fonts' coverage (fontconfig's charsets,
read once per process) and replaces each uncovered one by a visible mark naming it,
``〔缺字U+F0000〕``: the document is still produced (a filed version must stay printable from its
snapshot), and what it cannot show is said on the page, never a silent box.
"""

from __future__ import annotations

import bisect
import functools
import glob
import logging
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable
from typing import IO, Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from risk_registry.documents.definitions import (
    GRADED_DIRECTLY,
    DocumentHeader,
    FormSpec,
    filed_line,
    section_signature,
    supervision,
)
from risk_registry.organisation.colours import safe_colour
from risk_registry.organisation.text import printable

CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
# After Noto, for the characters it lacks: Extension A–F (fonts-hanazono), part of G and H (fonts-babelstone-han).
FALLBACK_FAMILIES = ("HanaMinA", "HanaMinB", "BabelStone Han")
MISSING_GLYPH = "〔缺字U+{code:04X}〕"  # printed instead of a character no installed font can show
FONT_GLOBS = ("/usr/share/fonts/**/NotoSerifCJK*", "/usr/share/fonts/**/NotoSansCJK*")
# WeasyPrint keeps the whole layout in memory: past this many points a PDF is refused (use Excel).
PDF_MAX_POINTS = 5000
# WeasyPrint logs every layout step at INFO; the root logger's INFO would print them all.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)


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


def _fc_list(*arguments: str) -> str:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return ""
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [fc_list, *arguments], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout


@functools.cache
def installed_fallback_families() -> tuple[str, ...]:
    """The fallback families for rare characters that fontconfig knows (read once per process)."""
    names = {name.strip() for line in _fc_list(":", "family").splitlines() for name in line.split(",")}
    return tuple(family for family in FALLBACK_FAMILIES if family in names)


def cjk_font() -> str:
    """The CSS font-family list for documents (Noto CJK, then the fallbacks for rare characters),
    or DocumentUnavailable when no CJK font is installed."""
    families = installed_cjk_families()
    if not families:
        raise DocumentUnavailable(
            _(
                "No Chinese (CJK) font is installed, so the PDF would print boxes instead of text. "
                "Install Debian's fonts-noto-cjk (Noto Serif CJK SC) and try again."
            )
        )
    return ", ".join(f'"{family}"' for family in (*families, *installed_fallback_families()))


def _charset_ranges(charset: str) -> Iterable[tuple[int, int]]:
    """fontconfig's charset text (``20-7e a0-17f 192``) as (first, last) code points."""
    for part in charset.split():
        first, _dash, last = part.partition("-")
        try:
            yield int(first, 16), int(last or first, 16)
        except ValueError:
            continue


@functools.cache
def font_coverage() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Every code point some installed font covers, as merged ranges (starts, ends): what Pango can
    draw, since it falls back through fontconfig to any installed font. Read once per process."""
    ranges = sorted(r for line in _fc_list("--format", "%{charset}\n").splitlines() for r in _charset_ranges(line))
    merged: list[list[int]] = []
    for first, last in ranges:
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple(r[0] for r in merged), tuple(r[1] for r in merged)


def _needs_no_glyph(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def is_covered(char: str) -> bool:
    starts, ends = font_coverage()
    index = bisect.bisect_right(starts, ord(char)) - 1
    return index >= 0 and ord(char) <= ends[index]


def missing_glyphs(text: str) -> list[str]:
    """The characters of ``text`` that no installed font covers, each once, in code point order;
    none when fontconfig cannot tell (no ``fc-list``: ``cjk_font`` then found the font files)."""
    if not font_coverage()[0]:
        return []
    return sorted(char for char in set(text) if ord(char) > 0x7E and not _needs_no_glyph(char) and not is_covered(char))


def mark_missing_glyphs(html: str) -> str:
    """``html`` with every character no installed font covers replaced by ``〔缺字U+XXXX〕`` (text
    only: the mark holds no markup character, so it is safe anywhere in the HTML)."""
    missing = missing_glyphs(html)
    if not missing:
        return html
    logger.warning("document: no installed font covers %s; marked", ", ".join(f"U+{ord(c):04X}" for c in missing))
    return html.translate({ord(char): MISSING_GLYPH.format(code=ord(char)) for char in missing})


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
    sections = []
    for label, section_rows in form.sections(rows):
        listed = list(section_rows)
        signature = section_signature(form, (supervision(row) for row in listed)) if not header.working else []
        table = _table_rows(form, listed)
        sections.append({"label": label, "rows": table, "figure": figures.get(label, ""), "signature": signature})
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
            "sections": sections or [{"label": "", "rows": [], "signature": section_signature(form)}],
            "filed_line": filed_line(header) if header.version else "",
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
    document = HTML(string=mark_missing_glyphs(html)).render()
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

    return HTML(string=mark_missing_glyphs(html)).render().write_pdf()
