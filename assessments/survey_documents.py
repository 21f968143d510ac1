"""Documents of the measures of docs/surveys.md: the QR code printed on each survey code slip, and
the results of a survey round and of a rating round as Excel and PDF through the document
machinery of ``risk_registry.documents`` (always in Chinese, like the other official forms)."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe

QR_ERROR = "m"  # 15 % of the symbol may be smudged or torn and the slip still reads
QR_SCALE = 3  # pixels per module: a 29-module (version 3) symbol with its quiet zone is 111 px


def qr_matrix(link: str) -> tuple[tuple[bool, ...], ...]:
    """The modules (dark = True) of the QR code of ``link``, row by row, without the quiet zone."""
    return tuple(tuple(bool(cell) for cell in row) for row in segno.make(link, error=QR_ERROR).matrix)


def qr_svg(link: str) -> SafeString:
    """The QR code of ``link`` as an inline ``<svg>`` (no style attribute, no script: the CSP holds).

    The SVG is made by segno from the link's modules only (it carries no text of the link), so it
    is safe to put in the page as it is.
    """
    svg = segno.make(link, error=QR_ERROR).svg_inline(
        scale=QR_SCALE, svgclass="survey-qr", lineclass=None, omitsize=True
    )
    return mark_safe(svg)  # noqa: S308 — segno's own markup of the modules, no user text in it
