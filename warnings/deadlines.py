"""The warning ledger's response deadlines (限时回告) as a source of the one deadline scan.

Registered by ``apps.IntegrityWarningsConfig.ready`` (``risk_registry.workflow.deadlines``); the scan
of ``assessments`` sends, exactly once per deadline: the notice itself to its recipient as soon as it
is issued (so it is also e-mailed), a reminder the working day before the deadline, then after it
the recipient and the recipient's supervisor, then the discipline office. A notice asked again gets
a new deadline, so its reminders go out again. An answered notice is no longer watched.

The texts name the notice (title, 文号, recipient, due date), never an item's facts or source.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import translation

from integrity_warnings.ladder import DispositionState, rung_of
from integrity_warnings.models import Disposition
from positions.models import Holding
from risk_registry.organisation.names import person
from risk_registry.workflow.deadlines import Deadline, Described

NAME = "warning-notice"


class NoticeDeadlines:
    name = NAME
    reminder_days: tuple[int, ...] = (1,)
    supervisor_after_days = 1
    discipline_after_days = 3
    announce = True
    written_report = True

    def open_deadlines(self, *, today: datetime.date) -> list[Deadline]:
        """Notices awaiting their report. The supervisor is the head of the item's department (or of
        its position's), else of the department where the recipient holds a post in the institution."""
        held = Holding.objects.filter(
            user_id=OuterRef("recipient_user_id"),
            position__institution_id=OuterRef("item__institution_id"),
            ended_on__isnull=True,
        ).order_by("id")
        rows: Iterable[Mapping[str, Any]] = (
            Disposition.objects.filter(state=DispositionState.ISSUED, due_on__isnull=False)
            .annotate(held_department=Subquery(held.values("position__department_id")[:1]))
            .values(
                "id",
                "due_on",
                "recipient_user_id",
                "item__institution_id",
                "item__institution__path",
                "item__subject_department_id",
                "item__subject_position__department_id",
                "held_department",
            )
        )
        return [
            Deadline(
                key=row["id"],
                due_on=row["due_on"],
                owner_id=row["recipient_user_id"],
                institution_id=row["item__institution_id"],
                institution_path=row["item__institution__path"],
                department_id=row["item__subject_department_id"]
                or row["item__subject_position__department_id"]
                or row["held_department"],
            )
            for row in rows
        ]

    def describe(self, keys: Iterable[int]) -> Mapping[int, Described]:
        notices = Disposition.objects.filter(pk__in=list(keys)).select_related("item__institution", "recipient_user")
        described = {}
        for notice in notices:
            with translation.override("zh-hans"):  # the notice's title is always the official Chinese one
                title = str(rung_of(notice.measure).notice_title)
            described[notice.pk] = Described(
                title=f"{title}（{notice.number}）",
                url=reverse("disposition_detail", args=[notice.pk]),
                due_on=notice.due_on or notice.issued_on,
                institution=notice.item.institution.name,
                owner=person(notice.recipient_user) or notice.recipient_name,
            )
        return described


notice_deadlines = NoticeDeadlines()
