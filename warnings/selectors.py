"""Reads of the warning ledger: the filtered ledger, an item's page, a recipient's notices.

Every read starts from integrity_warnings.access; selectors take clean values (the forms parse)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from integrity_warnings import access
from integrity_warnings.grades import band_order
from integrity_warnings.ladder import DispositionState
from integrity_warnings.models import Disposition, ReportAttachment, WarningGrade, WarningItem, WarningStatus
from risk_registry.organisation.models import BAND_ORDER, Band

SERIOUS = "serious"  # the ledger's order: most serious first (band, then rank), else newest first


def _overdue(today: datetime.date):
    return Exists(Disposition.objects.filter(item_id=OuterRef("pk"), state=DispositionState.ISSUED, due_on__lt=today))


def ledger_for(
    *,
    user,
    today: datetime.date,
    channel=None,
    grade: WarningGrade | None = None,
    band: str = "",
    institution=None,
    status: str = "",
    overdue: bool = False,
    month: datetime.date | None = None,
    order: str = "",
) -> QuerySet[WarningItem]:
    """The ledger's rows the user may see, filtered; each with ``readable`` and ``overdue``.

    ``grade`` is a level of one scale; ``band`` compares items of institutions grading with
    different scales. ``order=serious``: by band, then rank (never by label), newest first within."""
    items = access.items_visible_to(user).annotate(overdue=_overdue(today))
    if channel is not None:
        items = items.filter(channel=channel)
    if grade is not None:
        items = items.filter(grade=grade)
    if band:
        items = items.filter(grade__band=band)
    if institution is not None:
        items = items.filter(institution=institution)
    if status:
        items = items.filter(status=status)
    if overdue:
        items = items.filter(overdue=True)
    if month is not None:
        items = items.filter(received_on__year=month.year, received_on__month=month.month)
    if order == SERIOUS:
        items = items.order_by(band_order("grade__band"), "grade__rank", "-received_on", "-id")
    return items.select_related(
        "channel", "grade", "institution", "subject_user", "subject_position", "subject_department"
    )


def item_for(*, user, pk: int, today: datetime.date) -> WarningItem:
    """One visible item (404 otherwise)."""
    return access.object_or_404(
        access.items_visible_to(user)
        .annotate(overdue=_overdue(today))
        .select_related("channel", "grade", "institution", "subject_user", "subject_position", "subject_department"),
        pk=pk,
    )


def dispositions_of(item: WarningItem) -> list[Disposition]:
    return list(item.dispositions.select_related("recipient_user", "issued_by", "responded_by").order_by("id"))


def disposition_for(*, user, pk: int) -> Disposition:
    return access.object_or_404(
        access.dispositions_visible_to(user).select_related("item__institution", "recipient_user"), pk=pk
    )


def item_for_drafting(*, user, pk: int) -> WarningItem:
    """An item looked up for drafting a risk point from it: the caller asks access.draft_target,
    which answers 404 to anyone else (the item need not be in their ledger: a holder has none)."""
    return access.object_or_404(
        WarningItem.objects.select_related(
            "institution__grading_scheme", "subject_position__department", "subject_department", "channel"
        ),
        pk=pk,
    )


def attachments_of(disposition: Disposition) -> list[ReportAttachment]:
    return list(disposition.attachments.select_related("uploaded_by").order_by("id"))


def attachment_for(*, user, pk: int) -> ReportAttachment:
    """A report's file: 404 unless its notice is visible to the user, 403 unless they may read it."""
    attachment = access.object_or_404(
        ReportAttachment.objects.filter(disposition__in=access.dispositions_visible_to(user)).select_related(
            "disposition__item__institution"
        ),
        pk=pk,
    )
    access.require(access.can_read_attachments(user, attachment.disposition))
    return attachment


def notices_addressed_to(user) -> QuerySet[Disposition]:
    """The recipient's notices, open ones first (the recipient's inbox of warnings)."""
    if not getattr(user, "is_authenticated", False):
        return Disposition.objects.none()
    return (
        Disposition.objects.filter(recipient_user_id=user.pk)
        .select_related("item__institution")
        .order_by("-issued_on", "-id")
    )


def notices_to_answer(user) -> QuerySet[Disposition]:
    """The recipient's notices still awaiting their written report (the one inbox's section)."""
    return notices_addressed_to(user).filter(state=DispositionState.ISSUED).order_by("due_on", "id")


@dataclass(frozen=True)
class LedgerStatistics:
    """Counts of a scoped, filtered ledger. Each row carries ``key``: the ledger filter's value
    (channel id, grade id, band, status, ``YYYY-MM``) that lists exactly the items it counts."""

    total: int
    overdue: int
    by_channel: list[dict[str, Any]]
    by_band: list[dict[str, Any]]
    by_grade: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    by_month: list[dict[str, Any]]


def _grade_label(row: Mapping[str, Any], *, ambiguous: bool) -> str:
    label = f"{row['grade__label']}（{Band(row['grade__band']).label}）"
    if ambiguous:
        label += f" · {row['grade__institution__name'] or _('Default scale')}"
    return label


# What ``ledger_statistics`` groups the ledger by: every figure is a sum over these rows.
STATISTICS_KEYS = (
    "channel_id",
    "channel__name",
    "grade_id",
    "grade__label",
    "grade__band",
    "grade__rank",
    "grade__institution__name",
    "status",
    "received_on__year",
    "received_on__month",
)


def _summed(rows: list[dict[str, Any]], *fields: str) -> dict[tuple, int]:
    totals: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row[name] for name in fields)
        totals[key] = totals.get(key, 0) + row["n"]
    return totals


def ledger_statistics(items: QuerySet[WarningItem]) -> LedgerStatistics:
    """Counts by channel, band, grade, outcome and month of a (scoped, filtered) ledger: one query.

    The items are counted once per combination of every figure's key (a few hundred rows for a
    city's ledger, never one per item) and each figure is summed from those rows in Python; the
    figures' orders are the ledger's: channels by name, bands most serious first, grades by band
    then rank (never by label), statuses by their code, months in time. Grades are counted per
    level; a label that several scales use (二级 of two institutions' scales) is named with the
    institution that set the scale."""
    rows = list(
        items.order_by()
        .values(*STATISTICS_KEYS)
        .annotate(n=Count("id"), late=Count("id", filter=Q(overdue=True)))  # the annotation of ledger_for
    )
    channels = _summed(rows, "channel_id", "channel__name")
    bands = _summed(rows, "grade__band")
    grade_fields = ("grade_id", "grade__label", "grade__band", "grade__rank", "grade__institution__name")
    grades = sorted(
        _summed(rows, *grade_fields).items(),
        key=lambda item: (BAND_ORDER.get(item[0][2], len(BAND_ORDER) + 1), item[0][3], item[0][0]),
    )
    labels = [key[1] for key, _n in grades]
    statuses = _summed(rows, "status")
    months = _summed(rows, "received_on__year", "received_on__month")
    return LedgerStatistics(
        total=sum(row["n"] for row in rows),
        overdue=sum(row["late"] for row in rows),
        by_channel=[
            {"key": pk, "label": name, "n": n}
            for (pk, name), n in sorted(channels.items(), key=lambda item: (item[0][1], item[0][0]))
        ],
        by_band=[
            {"key": band, "label": Band(band).label, "n": n}
            for (band,), n in sorted(bands.items(), key=lambda item: BAND_ORDER.get(item[0][0], len(BAND_ORDER) + 1))
        ],
        by_grade=[
            {
                "key": key[0],
                "label": _grade_label(dict(zip(grade_fields, key, strict=True)), ambiguous=labels.count(key[1]) > 1),
                "band": key[2],
                "n": n,
            }
            for key, n in grades
        ],
        by_status=[
            {"key": status, "label": WarningStatus(status).label, "n": n} for (status,), n in sorted(statuses.items())
        ],
        by_month=[
            {"key": f"{year}-{month:02d}", "label": f"{year}-{month:02d}", "n": n}
            for (year, month), n in sorted(months.items())
        ],
    )
