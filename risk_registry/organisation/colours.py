"""A grade level's colour: validated and normalised at the door, converted safely for the
writers, and the text colour ("ink") a badge of that colour takes (WCAG 2.1 contrast).

A level's colour used to be any text of up to seven characters: "red" made openpyxl raise on every
Excel export of the unit, and "#c00" was padded to ``C009999`` (olive). The decision: a colour is
``#rgb`` or ``#rrggbb`` (hex digits, either case) and is stored as lower-case ``#rrggbb``;
anything else is refused with a message. Rows stored before this check are fixed by migration
``0008_grade_level_colour_normalised``; the writers still go through ``safe_colour`` / ``argb``,
which never raise and fall back to ``DEFAULT_COLOUR``.

Every badge whose background is a level's colour writes its text in the ink ``badge_ink`` chooses:
black or white, whichever contrasts more. For any opaque colour one of the two reaches at least
4.58:1 (the worst case is a background of relative luminance ≈ 0.18), so a level colour that is
a valid ``#rrggbb`` is always readable; ``readable_ink`` still checks the figure.
"""

from __future__ import annotations

import functools
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: The colour of a level whose stored colour cannot be read (grey).
DEFAULT_COLOUR = "#999999"

_SHORT = re.compile(r"#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])")
_LONG = re.compile(r"#[0-9a-fA-F]{6}")


def normalise_colour(value: str) -> str:
    """``#rgb`` or ``#rrggbb`` (surrounding spaces ignored) as lower-case ``#rrggbb``; anything
    else raises ``ValidationError`` with a message naming the expected form."""
    text = (value or "").strip()
    short = _SHORT.fullmatch(text)
    if short:
        return "#" + "".join(digit * 2 for digit in short.groups()).lower()
    if _LONG.fullmatch(text):
        return text.lower()
    raise ValidationError(
        _("“%(value)s” is not a colour: write it as #rgb or #rrggbb in hexadecimal digits (e.g. #c62828)."),
        code="invalid_colour",
        params={"value": text[:20]},
    )


def validate_colour(value: str) -> None:
    """Model field validator: ``value`` must be a colour ``normalise_colour`` accepts."""
    normalise_colour(value)


def safe_colour(value: str | None) -> str:
    """A stored colour as ``#rrggbb`` for a document (CSS, PDF); never raises: an unreadable value
    (stored before the check) prints as ``DEFAULT_COLOUR``."""
    try:
        return normalise_colour(value or "")
    except ValidationError:
        return DEFAULT_COLOUR


def argb(value: str | None) -> str:
    """A stored colour as openpyxl's opaque ``FFRRGGBB``; never raises (see ``safe_colour``)."""
    return "FF" + safe_colour(value)[1:].upper()


MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text
BLACK = "#000000"
WHITE = "#ffffff"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_hex_colour(value: str) -> bool:
    return bool(HEX_COLOUR.match(value or ""))


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG's relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@functools.lru_cache(maxsize=1024)  # a pure function of a few dozen level colours, called per row
def readable_ink(background: str) -> str | None:
    """Black or white, whichever contrasts more with ``background``; None when neither reaches 4.5:1
    or the colour is not ``#rrggbb``."""
    if not is_hex_colour(background):
        return None
    ink = max((BLACK, WHITE), key=lambda candidate: contrast_ratio(background, candidate))
    return ink if contrast_ratio(background, ink) >= MIN_CONTRAST else None


def badge_ink(background: str) -> str:
    """The CSS class of a badge's text on ``background``: ``ink-dark`` or ``ink-light``."""
    ink = readable_ink(background)
    if ink is None:  # not a colour (the badge then falls back to the default grey of its class)
        return "ink-light"
    return "ink-dark" if ink == BLACK else "ink-light"
