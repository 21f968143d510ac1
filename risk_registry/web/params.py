"""Numbers, ids and years from the address or a form: parsed here, in one place, with bounds.

A value that is not what the page asks for is the visitor's mistake, answered with a 400 page in
their language (``BadParameter``, through ``handler400``), never a 500 and never silently widened
into "everything". Only ASCII digits count: ``str.isdigit`` accepts '²' and ``int`` then fails;
``int`` accepts '٣', which no one types on purpose. Bounds keep values inside the database's
integer types (a year is a smallint, an id a bigint).
"""

from __future__ import annotations

import re

from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _

from risk_registry.organisation.dates import MAX_YEAR, MIN_YEAR

MAX_ID = 2**63 - 1  # bigint
_DIGITS = re.compile(r"[0-9]{1,19}")


class BadParameter(BadRequest):
    """A parameter of the request that cannot be used; the message says which and why."""


def int_param(raw: str | None, *, name: str, minimum: int, maximum: int, default: int | None = None) -> int | None:
    """``raw`` as a whole number in [minimum, maximum]; ``default`` when absent or empty."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    value = int(text) if _DIGITS.fullmatch(text) else None
    if value is None or not minimum <= value <= maximum:
        raise BadParameter(
            _("%(name)s must be a whole number from %(minimum)d to %(maximum)d.")
            % {"name": name, "minimum": minimum, "maximum": maximum}
        )
    return value


def id_param(raw: str | None, *, name: str, default: int | None = None) -> int | None:
    """A record number (a positive bigint)."""
    return int_param(raw, name=name, minimum=1, maximum=MAX_ID, default=default)


def id_or_none(raw: str | None) -> int | None:
    """A record number, or None when ``raw`` is not one (absent, empty, not ASCII digits, out of
    range): for a caller that answers a wrong id as it answers an id it cannot find (a 404, a
    choice the form refuses, a filter left out)."""
    try:
        return id_param(raw, name="id")
    except BadParameter:
        return None


def year_param(raw: str | None, *, name: str | None = None, default: int | None = None) -> int | None:
    """A year of a register, 2000 to 2100."""
    return int_param(raw, name=name or _("The year"), minimum=MIN_YEAR, maximum=MAX_YEAR, default=default)


class YearConverter:
    """``<year:year>`` in URLs: four digits, 2000 to 2100; anything else does not match (404)."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        year = int(value)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError(value)
        return year

    def to_url(self, value) -> str:
        return f"{int(value):04d}"
