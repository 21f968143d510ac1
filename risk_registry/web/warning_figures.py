"""The warning ledger's figures on the dashboards: counts by channel, band, grade, outcome and month.

An entry point (it may read the integrity_warnings feature; ``risk_registry.dashboards`` may not).
The figures are the ledger's own statistics (``integrity_warnings.selectors.ledger_statistics``)
over the ledger's own rows (``ledger_for``, scoped by ``integrity_warnings.access``): a
confidential item is counted exactly when the ledger lists it, and never described. Each figure
links to the ledger filtered to exactly the items it counts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrity_warnings import access as warning_access
from integrity_warnings import selectors as warning_selectors
from risk_registry.organisation.models import Institution


@dataclass(frozen=True)
class WarningGroup:
    key: str  # the ledger filter: channel, band, grade, status, month
    title: str
    rows: list[dict[str, Any]]  # label, n, url


@dataclass(frozen=True)
class WarningFigures:
    total: int
    overdue: int
    ledger_url: str
    overdue_url: str
    groups: list[WarningGroup]
    summary: str


def _ledger_url(base: dict[str, object], **changes: object) -> str:
    query = {key: str(value) for key, value in {**base, **changes}.items() if value not in (None, "")}
    return reverse("warning_ledger") + (f"?{urlencode(query)}" if query else "")


def warning_figures(user, *, year: int, institution: Institution | None, today: datetime.date) -> WarningFigures | None:
    """The figures of the user's ledger (of ``institution`` alone when given); None when the user
    has no ledger. Counts cover every year, as the ledger does; the months listed are ``year``'s.
    One query whatever the number of items (``ledger_statistics``: the ledger grouped once)."""
    if not warning_access.may_see_ledger(user):
        return None
    items = warning_selectors.ledger_for(user=user, today=today, institution=institution)
    stats = warning_selectors.ledger_statistics(items)
    base: dict[str, object] = {"institution": institution.pk} if institution is not None else {}
    months = [row for row in stats.by_month if str(row["key"]).startswith(f"{year}-")]
    groups = [
        WarningGroup("channel", _("By channel"), stats.by_channel),
        WarningGroup("band", _("By county-wide band"), stats.by_band),
        WarningGroup("grade", _("By grade"), stats.by_grade),
        WarningGroup("status", _("By status"), stats.by_status),
        WarningGroup("month", _("By month received in %(year)d") % {"year": year}, months),
    ]
    for group in groups:
        for row in group.rows:
            row["url"] = _ledger_url(base, **{group.key: row["key"]})
    summary = ngettext(
        "%(total)d warning in the ledger (all years), %(overdue)d with an overdue notice.",
        "%(total)d warnings in the ledger (all years), %(overdue)d with an overdue notice.",
        stats.total,
    ) % {"total": stats.total, "overdue": stats.overdue}
    if stats.by_channel:
        top = max(stats.by_channel, key=lambda row: row["n"])
        summary += " " + _("Most came through %(channel)s (%(n)d); %(year)d: %(in_year)d received.") % {
            "channel": top["label"],
            "n": top["n"],
            "year": year,
            "in_year": sum(row["n"] for row in months),
        }
    return WarningFigures(
        total=stats.total,
        overdue=stats.overdue,
        ledger_url=_ledger_url(base),
        overdue_url=_ledger_url(base, overdue="on"),
        groups=groups,
        summary=summary,
    )
