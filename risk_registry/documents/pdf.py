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
import io
import json
import logging
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from risk_registry.documents import fonts, part_cache, user_agent
from risk_registry.documents.definitions import (
    GRADED_DIRECTLY,
    SERIAL,
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
# Above PARTS_FROM points a PDF is laid out in parts of about PART_POINTS points, PDF_WORKERS at a
# time: this process lays out a share of them itself and PDF_WORKERS - 1 child processes the others
# (measured: docs/performance.md), instead of in one piece. The parts are kept (part_cache): 125
# rather than 250 halves what an edit lays out again (each part embeds its own font subset: 1,000
# points 1.4 MiB instead of 1.0; a child lays out several parts, so no more start-ups).
PARTS_FROM = 300
PART_POINTS = 125
PDF_WORKERS = max(1, min(2, os.cpu_count() or 1))
# What a child process runs: its parts' HTML (the missing glyphs marked already) as a JSON list on
# stdin, the documents' @font-face rules (fonts.font_face_css) and the project's folder (to import
# user_agent, which needs no Django) as its arguments, and on stdout each part's PDF after its
# length (8 bytes, big-endian), in order. The parts are laid out by ``user_agent.forms_pdfs``, as
# those this process lays out itself: each a document of its own, the same bytes wherever made.
_CHILD = (
    "import json, struct, sys; sys.path.insert(0, sys.argv[2])\n"
    "from risk_registry.documents.user_agent import forms_pdfs\n"
    "for data in forms_pdfs(json.loads(sys.stdin.buffer.read()), sys.argv[1]):\n"
    "    sys.stdout.buffer.write(struct.pack('>Q', len(data)) + data)\n"
)
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
    """The CSS font-family list for documents (the documents' own subset of Noto Serif CJK SC when
    it is built, then the installed Noto CJK, then the fallbacks for rare characters), or
    DocumentUnavailable when no CJK font is installed."""
    families = installed_cjk_families()
    if not families:
        raise DocumentUnavailable(
            _(
                "No Chinese (CJK) font is installed, so the PDF would print boxes instead of text. "
                "Install Debian's fonts-noto-cjk (Noto Serif CJK SC) and try again."
            )
        )
    built = (fonts.FAMILY,) if fonts.font_face_css() else ()
    return ", ".join(f'"{family}"' for family in (*built, *families, *installed_fallback_families()))


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
    covered = bytearray(sys.maxunicode + 1)  # a byte per code point: 1.1 MB, not a tuple per range
    for line in set(_fc_list("--format", "%{charset}\n").splitlines()):  # the faces of a collection repeat theirs
        for first, last in _charset_ranges(line):
            last = min(last, sys.maxunicode)
            if first <= last:
                covered[first : last + 1] = b"\x01" * (last + 1 - first)
    runs = [(run.start(), run.end() - 1) for run in re.finditer(b"\x01+", covered)]
    return tuple(first for first, _last in runs), tuple(last for _first, last in runs)


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
                    "serial": column.key == SERIAL.key,
                    "colspan": 1,
                }
            )
        result.append({"cells": cells})
    return result


def _sections(form: FormSpec, header: DocumentHeader, rows: Iterable[dict], figures: dict[str, str]) -> list[dict]:
    """The document's sections (label, table rows, figure, signature); refused above PDF_MAX_POINTS."""
    sections: list[dict[str, Any]] = []
    for label, section_rows in form.sections(rows):
        listed = list(section_rows)
        signature = section_signature(form, (supervision(row) for row in listed)) if not header.working else []
        table = _table_rows(form, listed)
        sections.append(
            {"label": label, "rows": table, "figure": figures.get(label, ""), "signature": signature, "heading": True}
        )
    total = sum(len(section["rows"]) for section in sections)
    if total > PDF_MAX_POINTS:
        raise DocumentUnavailable(
            _("A PDF is limited to %(limit)d risk points (this one has %(count)d): export Excel instead.")
            % {"limit": PDF_MAX_POINTS, "count": total}
        )
    return sections


def _html(*, form: FormSpec, header: DocumentHeader, sections: list[dict], total: int, part: str = "whole") -> str:
    """The HTML of ``sections``. ``part`` is ``whole`` (a document in one piece, its own page
    numbers), or, for a document rendered in parts (``_write_in_parts``), ``middle`` (no page
    numbers, no closing signature or legend) or ``last`` (no page numbers: they are stamped on the
    joined document)."""
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
            "sections": sections or [{"label": "", "rows": [], "signature": section_signature(form), "heading": True}],
            "filed_line": filed_line(header) if header.version else "",
            "widths": [round(100 * column.width / total_width, 2) for column in form.columns],
            "top": top,
            "bottom": bottom,
            "total": total,
            "page_numbers": part == "whole",
            "closing": part != "middle",
        },
    )


def render_html(
    *, form: FormSpec, header: DocumentHeader, rows: Iterable[dict], figures: dict[str, str] | None = None
) -> str:
    """The document's HTML in one piece; ``figures`` (section label → markup rendered by a
    template, so escaped) go above their section's table, such as a power's flow chart."""
    sections = _sections(form, header, rows, figures or {})
    return _html(form=form, header=header, sections=sections, total=sum(len(s["rows"]) for s in sections))


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

    WeasyPrint lays a document out at once, so there is no count of points written to report:
    ``phase`` is told each step instead (``rows``, ``layout``, ``writing``). A document of more
    than ``PARTS_FROM`` points is laid out in parts by child processes (``_write_in_parts``)."""
    step = phase or (lambda name: None)
    step("rows")
    sections = _sections(form, header, rows, figures or {})
    total = sum(len(section["rows"]) for section in sections)
    if total > PARTS_FROM:
        data = _write_in_parts(form=form, header=header, sections=sections, total=total, step=step)
    else:
        html = _html(form=form, header=header, sections=sections, total=total)
        step("layout")
        document = _render(mark_missing_glyphs(html), forms=True)
        step("writing")
        data = document.write_pdf()
    if isinstance(out, str):
        with open(out, "wb") as handle:
            handle.write(data)
    else:
        out.write(data)
    return total


def _parts(sections: list[dict], size: int) -> list[list[dict]]:
    """``sections`` cut into parts of at most ``size`` points. A longer section goes on in the
    next part: its heading and figure in its first piece, its signature in its last, its serial
    numbers unbroken (they were counted over the whole section); shorter ones share a part, each
    on its own pages as always."""
    parts: list[list[dict]] = []
    current: list[dict] = []
    count = 0
    for section in sections:
        rows, start = section["rows"], 0
        while True:
            if count >= size:
                parts.append(current)
                current, count = [], 0
            piece = rows[start : start + size - count]
            end = start + len(piece)
            current.append(
                {
                    **section,
                    "rows": piece,
                    "heading": start == 0,
                    "figure": section["figure"] if start == 0 else "",
                    "signature": section["signature"] if end >= len(rows) else [],
                }
            )
            count, start = count + len(piece), end
            if start >= len(rows):
                break
    if current:
        parts.append(current)
    return parts


def _tail(stderr: bytes) -> str:
    return stderr.decode(errors="replace")[-2000:]


def _child() -> subprocess.Popen:
    """A child process running ``_CHILD``: it loads Python and WeasyPrint, then reads its parts'
    HTML on stdin."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed code; the HTML on stdin
        [sys.executable, "-X", "faulthandler", "-c", _CHILD, fonts.font_face_css(), str(settings.BASE_DIR)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stop(child: subprocess.Popen) -> None:
    child.kill()
    child.communicate()


def _lay_out(htmls: list[str]) -> list[bytes]:
    """Each forms' HTML laid out as a PDF, ``PDF_WORKERS`` at a time, the PDFs in the order of
    ``htmls``. The parts are dealt in turn into shares: this process lays out the first share
    itself (``_in_process``: no start-up, and no child at all for a single part, such as an edited
    register's one changed part or the page numbers' document), a child process each of the others
    (``_in_child``). Child processes, not a multiprocessing pool: a Celery worker's pool process is
    a daemon and may not have one."""
    workers = max(1, min(PDF_WORKERS, len(htmls)))
    shares = [htmls[first::workers] for first in range(workers)]
    with ThreadPoolExecutor(max_workers=max(1, workers - 1)) as pool:
        others = [pool.submit(_in_child, share) for share in shares[1:]]
        laid_out = [_in_process(shares[0]), *(other.result() for other in others)]
    return [laid_out[index % workers][index // workers] for index in range(len(htmls))]


def _in_process(htmls: list[str]) -> list[bytes]:
    """``htmls`` laid out by this process, one after the other, the memory of each given back to
    the system when it is written (``user_agent.forms_pdfs``): a worker process lives on after the
    document."""
    return user_agent.forms_pdfs(htmls, fonts.font_face_css())


def _in_child(htmls: list[str]) -> list[bytes]:
    """``htmls`` laid out one after the other by a child process (``_CHILD``: one start-up of
    Python and WeasyPrint for all of them; the child gives its memory back when it ends)."""
    for attempt in (1, 2):
        child = _child()
        try:
            stdout, stderr = child.communicate(json.dumps(htmls, ensure_ascii=False).encode(), timeout=1800)
        except BaseException:
            _stop(child)
            raise
        if child.returncode < 0 and attempt == 1:
            # Killed by a signal (a crash inside the native libraries was seen once in a whole
            # test run, with two parts at once): its parts are laid out again, once; its
            # traceback (faulthandler) goes to the log.
            logger.warning("PDF part killed by signal %s, laid out again: %s", -child.returncode, _tail(stderr))
            continue
        if child.returncode:
            raise RuntimeError(f"PDF part failed ({child.returncode}): {_tail(stderr)}")
        return _framed(stdout, len(htmls))
    raise AssertionError("unreachable")


def _framed(output: bytes, count: int) -> list[bytes]:
    """The ``count`` PDFs a child wrote, each after its length; anything else is a failure."""
    pdfs: list[bytes] = []
    at = 0
    while at + 8 <= len(output) and len(pdfs) < count:
        (size,) = struct.unpack(">Q", output[at : at + 8])
        pdfs.append(output[at + 8 : at + 8 + size])
        at += 8 + size
    if len(pdfs) != count or at != len(output) or not all(data.startswith(b"%PDF") for data in pdfs):
        raise RuntimeError(f"PDF part failed: {count} parts asked for, the child's output did not hold them")
    return pdfs


def _write_in_parts(
    *, form: FormSpec, header: DocumentHeader, sections: list[dict], total: int, step: Callable[[str], None]
) -> bytes:
    """The document laid out in parts of about ``PART_POINTS`` points (``_lay_out``: two cores,
    two at a time; each part's boxes freed when it is written), joined, then numbered:
    a part cannot know the total number of pages, so the parts have no page footer and one
    footer-only document of that many pages (``page_numbers.html``) is stamped on the joined
    pages. The result depends only on the rows (a filed version prints the same bytes every time:
    pypdf writes no random file identifier unless it encrypts), so each part, the footer document
    and the joined document are kept by the SHA-256 of their HTML (``part_cache``): printed again,
    only the parts that changed are laid out. ``sections`` is emptied once the parts' HTML is made."""
    pieces = _parts(sections, math.ceil(total / math.ceil(total / PART_POINTS)))
    last = len(pieces) - 1
    htmls = [
        mark_missing_glyphs(
            _html(form=form, header=header, sections=part, total=total, part="last" if index == last else "middle")
        )
        for index, part in enumerate(pieces)
    ]
    step("layout")
    names = [part_cache.key(html) for html in htmls]
    whole = part_cache.key("joined", *names)
    if (kept := part_cache.get(whole)) is not None:  # nothing changed since it was last printed
        step("writing")
        return kept
    del pieces  # the parts' rows and cells: only their HTML is needed now, and the sections' cells
    sections.clear()  # (11,000 dicts for 1,000 points) are freed before the layout: the caller is done with them
    datas = part_cache.rendered(htmls, _lay_out, names=names)
    step("writing")
    from pypdf import PdfReader, PdfWriter  # imported here: only a long PDF needs it, once its parts are laid out

    writer = PdfWriter()
    for data in datas:
        writer.append(PdfReader(io.BytesIO(data)))
    (numbered,) = part_cache.rendered([page_numbers_html(len(writer.pages))], _lay_out)
    for page, number in zip(writer.pages, PdfReader(io.BytesIO(numbered)).pages, strict=True):
        page.merge_page(number)
        page.compress_content_streams()
    writer.add_metadata(dict(PdfReader(io.BytesIO(datas[0])).metadata or {}))  # title and producer of the parts
    joined = io.BytesIO()
    writer.write(joined)
    part_cache.put(whole, joined.getvalue())
    return joined.getvalue()


def page_numbers_html(pages: int) -> str:
    """A document of ``pages`` empty pages bearing only the footer 第 N 页 共 M 页 of the forms."""
    return render_to_string("documents/pdf/page_numbers.html", {"font": cjk_font(), "pages": range(pages)})


def _render(html: str, *, forms: bool = False) -> Any:
    """WeasyPrint's laid-out document of ``html``, with the documents' @font-face rules; ``forms``:
    one of the official forms (register.html), laid out with their own user-agent stylesheet."""
    return user_agent.laid_out(html, fonts.font_face_css(), forms=forms)


def html_to_pdf(html: str) -> bytes:
    """Any document's HTML (which names ``cjk_font()``) as PDF bytes."""
    return _render(mark_missing_glyphs(html)).write_pdf()
