"""The user-agent stylesheet of the official forms' PDF (register.html, page_numbers.html).

WeasyPrint matches its whole HTML5 user-agent stylesheet (256 lines: lists, forms, ruby, bidi,
headings h2–h6, footnotes…) against every element of a document before its own; a 125-point part
has about 5,000 elements. The forms use a handful of elements, so they are laid out with only
the rules of that stylesheet that apply to them, copied unchanged (WeasyPrint 70's
``css/html5_ua.css``): the same computed styles, so the same bytes (checked: every form's PDF is
byte-identical with either sheet, docs/performance.md “PDF, round 5”). Measured: the cascade of a
part 0.37 → 0.14 s, a part's CPU about −10 %.

An element the forms start to use must get its rules here (copied from ``html5_ua.css``), or it
is laid out as ``display: inline`` with no margins. Other documents (notices, ledgers, the
archive's index, dashboards) keep WeasyPrint's whole sheet: ``document_class(forms=False)``.

``forms_pdfs`` lays out a forms' document wherever it runs: in the process that asked for it or
in a child process laying out parts of a long register (``pdf._lay_out``). No Django here: the
child processes import this module alone.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Iterable
from typing import Any

FORMS_CSS = """
head { display: none }
html, body, section, div, p, h1 { display: block }
table { display: table }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group }
tbody { display: table-row-group }
tr { display: table-row }
td, th { display: table-cell }
p { margin-top: 1em; margin-bottom: 1em }
body { margin: 8px }
h1 { margin-top: .67em; margin-bottom: .67em; font-size: 2em; font-weight: bold }
table { border-spacing: 2px; border-collapse: separate; text-indent: initial; box-sizing: border-box }
td, th { padding: 1px }
thead, tbody { vertical-align: middle }
tr, td, th { vertical-align: inherit }
html { color-scheme: light }
th { font-weight: bold }
table, td, th { border-color: gray }
thead, tbody, tr { border-color: inherit }
svg { overflow: hidden }
h1 { bookmark-level: 1; bookmark-label: content(text); hyphens: manual; break-after: avoid; break-inside: avoid }
@page {
  margin: 75px;
  @top-left { text-align: left; vertical-align: middle }
  @top-center { text-align: center; vertical-align: middle }
  @top-right { text-align: right; vertical-align: middle }
  @bottom-left { text-align: left; vertical-align: middle }
  @bottom-center { text-align: center; vertical-align: middle }
  @bottom-right { text-align: right; vertical-align: middle }
}
"""


@functools.cache
def document_class(*, forms: bool) -> Any:
    """WeasyPrint's ``HTML`` class for a document: the forms' with ``FORMS_CSS`` as its user-agent
    stylesheet, any other document WeasyPrint's own."""
    from weasyprint import CSS, HTML  # imported here: loading Pango costs time every command would pay

    if not forms:
        return HTML
    from weasyprint.css.counters import CounterStyle

    # Its own counter styles: the forms' sheet defines none (WeasyPrint's are still loaded by HTML).
    sheets = [CSS(string=FORMS_CSS, counter_style=CounterStyle())]

    class FormDocument(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return sheets

    return FormDocument


def laid_out(html: str, font_faces: str, *, forms: bool) -> Any:
    """WeasyPrint's laid-out document of ``html`` with the documents' @font-face rules
    ``font_faces``, and its own FontConfiguration: its bytes do not depend on what the process laid
    out before it. ``forms``: laid out with the forms' user-agent stylesheet."""
    from weasyprint import CSS  # imported here: loading Pango costs time every command would pay
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    faces = CSS(string=font_faces, font_config=fonts)
    return document_class(forms=forms)(string=html).render(stylesheets=[faces], font_config=fonts)


def forms_pdfs(htmls: Iterable[str], font_faces: str) -> list[bytes]:
    """The PDF of each forms' document (their missing glyphs already marked), one after the other:
    the same bytes whether this process lays them out or a child process does (``pdf._lay_out``).
    After each, the memory its boxes took is given back to the system: WeasyPrint's boxes hold
    reference cycles (about 50,000 objects a 125-point part) that wait for a full collection, and
    glibc keeps freed pages unless trimmed (``malloc_trim``; elsewhere only the collection is done).
    What the process held before is frozen meanwhile (``gc.freeze``), so each collection walks the
    layout's objects only: 39 ms a part instead of 89 in a Django process. Measured on a 1,000-point
    register: the process tree's peak 5-9 MiB lower."""
    pdfs = []
    gc.freeze()
    try:
        for html in htmls:
            pdfs.append(laid_out(html, font_faces, forms=True).write_pdf())
            gc.collect()
            trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
            if trim is not None:
                trim(0)
    finally:
        gc.unfreeze()
    return pdfs
