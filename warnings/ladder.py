"""The disposition ladder (处置阶梯) as data: the measures, their rungs, and one transition table.

Seed 003 (三)三 for persons: 《廉政风险警示提醒书》 → 《廉政风险诫勉谈话告知书》 → 《廉政风险责令整改通知书》
→ 纪检介入调查 (移送); the light forms of seed 001 二(一)3 (谈心疏导, 批评教育, 函询, 信访约谈) sit
below the first rung. For departments and units seed 001 lists 责任领导诫勉谈话, 纪检建议书,
专题民主生活会, 问廉问责书 and 限期整改 without an order; we rank them (docs/warnings.md).

A measure is offered only when the rung below it failed (``next_measures``); a disposition moves
through ``TRANSITIONS``, applied by ``integrity_warnings.services.disposition_transition`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class SubjectKind(models.TextChoices):
    PERSON = "person", _("Person")
    POSITION = "position", _("Position")
    DEPARTMENT = "department", _("Department")
    INSTITUTION = "institution", _("Institution")


PERSON_KINDS = (SubjectKind.PERSON, SubjectKind.POSITION)


class Measure(models.TextChoices):
    # persons: light forms (rung 0)
    HEART_TO_HEART = "heart_to_heart", _("Heart-to-heart talk")
    CRITICISM = "criticism", _("Criticism and education")
    LETTER_INQUIRY = "letter_inquiry", _("Letter of inquiry")
    PETITION_INTERVIEW = "petition_interview", _("Interview on a petition")
    # persons: the ladder
    WARNING_REMINDER = "warning_reminder", _("Warning reminder")
    ADMONITION = "admonition", _("Admonishing talk")
    RECTIFICATION_ORDER = "rectification_order", _("Order to rectify")
    # units
    LEADER_ADMONITION = "leader_admonition", _("Admonishing talk with the responsible leader")
    DISCIPLINE_PROPOSAL = "discipline_proposal", _("Discipline inspection proposal")
    DEMOCRATIC_MEETING = "democratic_meeting", _("Special democratic life meeting")
    ACCOUNTABILITY_LETTER = "accountability_letter", _("Letter of accountability")
    DEADLINE_RECTIFICATION = "deadline_rectification", _("Rectification within a time limit")
    # both: the top
    REFERRAL = "referral", _("Referral for investigation")


@dataclass(frozen=True)
class Rung:
    rung: int  # 0 = light form; the next rung is offered only when one below failed
    for_persons: bool
    for_units: bool
    notice_title: Promise  # the notice's title in the official style
    needs_response: bool = True


M = Measure
RUNGS: dict[str, Rung] = {
    M.HEART_TO_HEART: Rung(0, True, False, _("Record of a heart-to-heart talk on integrity risk")),
    M.CRITICISM: Rung(0, True, False, _("Record of criticism and education on integrity risk")),
    M.LETTER_INQUIRY: Rung(0, True, False, _("Letter of inquiry on integrity risk")),
    M.PETITION_INTERVIEW: Rung(0, True, False, _("Notice of an interview on a petition")),
    M.WARNING_REMINDER: Rung(1, True, False, _("Integrity risk warning reminder")),
    M.ADMONITION: Rung(2, True, False, _("Notice of an admonishing talk on integrity risk")),
    M.RECTIFICATION_ORDER: Rung(3, True, False, _("Order to rectify an integrity risk")),
    M.LEADER_ADMONITION: Rung(1, False, True, _("Notice of an admonishing talk with the responsible leader")),
    M.DISCIPLINE_PROPOSAL: Rung(1, False, True, _("Discipline inspection proposal")),
    M.DEMOCRATIC_MEETING: Rung(1, False, True, _("Instruction to hold a special democratic life meeting")),
    M.ACCOUNTABILITY_LETTER: Rung(2, False, True, _("Letter of accountability on integrity")),
    M.DEADLINE_RECTIFICATION: Rung(3, False, True, _("Notice of rectification within a time limit")),
    M.REFERRAL: Rung(4, True, True, _("Referral for investigation"), needs_response=False),
}


def rung_of(measure: str) -> Rung:
    return RUNGS[measure]


def measures_for(subject_kind: str) -> list[str]:
    person = subject_kind in PERSON_KINDS
    return [m for m in Measure if (RUNGS[m].for_persons if person else RUNGS[m].for_units)]


def next_measures(*, subject_kind: str, failed_rung: int | None) -> list[str]:
    """The measures the office may issue now: rung 0 and 1 at first, else the rung above the
    highest one that failed (a failed light form opens rung 1)."""
    allowed = measures_for(subject_kind)
    if failed_rung is None:
        return [m for m in allowed if RUNGS[m].rung <= 1]
    return [m for m in allowed if RUNGS[m].rung == max(failed_rung, 0) + 1]


class DispositionState(models.TextChoices):
    ISSUED = "issued", _("Awaiting the written report")
    ANSWERED = "answered", _("Report received")
    ACCEPTED = "accepted", _("Report accepted")
    FAILED = "failed", _("Not corrected")
    DONE = "done", _("Done")  # a referral: no report is asked for


D = DispositionState


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: Promise
    by_recipient: bool = False  # the recipient (or the office for one without an account) acts
    needs_reason: bool = False
    needs_overdue: bool = False


TRANSITIONS: tuple[Transition, ...] = (
    Transition("respond", (D.ISSUED,), D.ANSWERED, _("Submit the written report"), by_recipient=True),
    Transition("accept", (D.ANSWERED,), D.ACCEPTED, _("Accept the report")),
    Transition("ask_again", (D.ANSWERED,), D.ISSUED, _("Ask again (say what is missing)"), needs_reason=True),
    Transition("reject", (D.ANSWERED,), D.FAILED, _("Not accepted: not corrected"), needs_reason=True),
    Transition("lapse", (D.ISSUED,), D.FAILED, _("Not answered in time"), needs_reason=True, needs_overdue=True),
)
BY_NAME = {t.name: t for t in TRANSITIONS}
OPEN_STATES = (D.ISSUED, D.ANSWERED)
