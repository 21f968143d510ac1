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
from risk_registry.organisation.models import Band

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


def ledger_statistics(items: QuerySet[WarningItem]) -> LedgerStatistics:
    """Counts by channel, band, grade, outcome and month of a (scoped, filtered) ledger: seven queries.

    Grades are counted per level, most serious first; a label that several scales use (二级 of two
    institutions' scales) is named with the institution that set the scale."""
    base = items.order_by()
    grades = list(
        base.values("grade_id", "grade__label", "grade__band", "grade__rank", "grade__institution__name")
        .annotate(n=Count("id"))
        .order_by(band_order("grade__band"), "grade__rank", "grade_id")
    )
    labels = [row["grade__label"] for row in grades]
    return LedgerStatistics(
        total=base.count(),
        overdue=base.filter(Q(overdue=True)).count(),  # the annotation of ledger_for
        by_channel=[
            {"key": row["channel_id"], "label": row["channel__name"], "n": row["n"]}
            for row in base.values("channel_id", "channel__name").annotate(n=Count("id")).order_by("channel__name")
        ],
        by_band=[
            {"key": row["grade__band"], "label": Band(row["grade__band"]).label, "n": row["n"]}
            for row in base.values("grade__band").annotate(n=Count("id")).order_by(band_order("grade__band"))
        ],
        by_grade=[
            {
                "key": row["grade_id"],
                "label": _grade_label(row, ambiguous=labels.count(row["grade__label"]) > 1),
                "band": row["grade__band"],
                "n": row["n"],
            }
            for row in grades
        ],
        by_status=[
            {"key": row["status"], "label": WarningStatus(row["status"]).label, "n": row["n"]}
            for row in base.values("status").annotate(n=Count("id")).order_by("status")
        ],
        by_month=[
            {
                "key": f"{row['received_on__year']}-{row['received_on__month']:02d}",
                "label": f"{row['received_on__year']}-{row['received_on__month']:02d}",
                "n": row["n"],
            }
            for row in base.values("received_on__year", "received_on__month")
            .annotate(n=Count("id"))
            .order_by("received_on__year", "received_on__month")
        ],
    )
