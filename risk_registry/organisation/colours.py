"""A grade level's colour: validated and normalised at the door, converted safely for the writers.

A level's colour used to be any text of up to seven characters: "red" made openpyxl raise on every
Excel export of the unit, and "#c00" was padded to ``C009999`` (olive). The decision: a colour is
``#rgb`` or ``#rrggbb`` (hex digits, either case) and is stored as lower-case ``#rrggbb``;
anything else is refused with a message. Rows stored before this check are fixed by migration
``0008_grade_level_colour_normalised``; the writers still go through ``safe_colour`` / ``argb``,
which never raise and fall back to ``DEFAULT_COLOUR``.
"""

from __future__ import annotations

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
