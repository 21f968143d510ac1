"""Anonymous 腐败接触率 surveys (001 一(二)4): rounds, single-use codes, answers and their results.

The rules an answer is judged by, the anonymity of what is stored and the suppression of small
groups are in docs/surveys.md; the tests in assessments/tests/test_surveys.py hold them.
An answer writes no audit entry and no log line: the audit trail records the round's opening, the
codes issued and the close with its count of answers.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.stats import Proportion, wilson
from assessments.survey_models import (
    PostGroup,
    Questionnaire,
    RoundState,
    SurveyAnswer,
    SurveyCode,
    SurveyRound,
    TimeBucket,
)
from risk_registry.organisation.models import AuditAction, Institution
from risk_registry.organisation.services import audit_record

# The study's lists (001 一(二)4(1)); a round may change them before its first code is issued.
DEFAULT_BEHAVIOURS: dict[str, list[str]] = {
    Questionnaire.EXTERNAL: ["收受红包礼金", "接受宴请", "说情打招呼", "收受回扣", "入“干股”", "违规兼职"],
    Questionnaire.INTERNAL: ["买官卖官", "贪污挪用", "行贿", "设立“小金库”"],
}
ANSWERS = ("yes", "no", "unsure")
# Codes: no 0/O, 1/I/L, so a code read aloud or typed from paper is not mistaken; 10 characters
# of 31 are about 49.5 bits, far beyond guessing at the rate the answer page allows.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
MAX_CODES_PER_BATCH = 2000

# Why an answer is not counted (stored on the answer, shown as counts on the results page).
INVALID_CONTRADICTORY = "contradictory"
INVALID_NO_INFORMATION = "no_information"


class CodeRefused(Exception):
    """The code is unknown, already used, or its round is closed: one answer for all three."""


def normalise_code(raw: str) -> str:
    """What the respondent typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:32]


def code_display(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def bucket_start(day: datetime.date, bucket: str) -> datetime.date:
    """The first day of the day, ISO week (Monday) or month that ``day`` falls in."""
    if bucket == TimeBucket.DAY:
        return day
    if bucket == TimeBucket.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if bucket == TimeBucket.MONTH:
        return day.replace(day=1)
    raise ValueError(bucket)


def judge(answers: dict[str, str], overall: bool) -> tuple[bool, str, bool]:
    """(valid, reason when not, exposed) of one complete answer, by the rules of docs/surveys.md.

    - every behaviour answered "unsure": no information, not counted;
    - the closing question contradicts the behaviours (says "none" while one is "yes", or says
      "some" while every behaviour is "no"): contradictory, not counted;
    - otherwise valid, and exposed when at least one behaviour is "yes".
    """
    values = list(answers.values())
    exposed = "yes" in values
    if all(value == "unsure" for value in values):
        return False, INVALID_NO_INFORMATION, False
    if overall != exposed and (exposed or all(value == "no" for value in values)):
        return False, INVALID_CONTRADICTORY, False
    return True, "", exposed


def _clean_behaviours(behaviours: dict[str, list[str]]) -> dict[str, list[str]]:
    cleaned = {}
    for kind in Questionnaire.values:
        labels = [label.strip() for label in behaviours.get(kind, []) if label.strip()]
        if not labels:
            raise ValidationError(_("Each questionnaire needs at least one behaviour."))
        if len(set(labels)) != len(labels):
            raise ValidationError(_("A questionnaire lists the same behaviour twice."))
        cleaned[kind] = labels
    return cleaned


@transaction.atomic
def survey_round_open(
    *,
    by,
    institution: Institution,
    year: int,
    name: str,
    behaviours: dict[str, list[str]] | None = None,
    time_bucket: str = TimeBucket.WEEK,
    min_group: int | None = None,
) -> SurveyRound:
    survey_round = SurveyRound.objects.create(
        institution=institution,
        year=year,
        name=name,
        behaviours=_clean_behaviours(behaviours or DEFAULT_BEHAVIOURS),
        time_bucket=time_bucket,
        min_group=min_group if min_group is not None else settings.RISK_REGISTRY_SURVEY_MIN_GROUP,
        opened_by=by,
    )
    audit_record(
        actor=by,
        action=AuditAction.SURVEY_ROUND_OPEN,
        target=survey_round,
        institution=institution,
        summary=name,
        changes={"time_bucket": time_bucket, "min_group": survey_round.min_group},
    )
    return survey_round


def _new_codes(count: int) -> list[str]:
    taken: set[str] = set()
    while len(taken) < count:
        taken.add("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
    clashing = set(SurveyCode.objects.filter(code__in=taken).values_list("code", flat=True))
    return [code for code in taken if code not in clashing]


@transaction.atomic
def survey_codes_issue(*, by, survey_round: SurveyRound, questionnaire: str, group: str, count: int) -> list[str]:
    """``count`` new single-use codes for one questionnaire and post group of an open round."""
    survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if survey_round.state != RoundState.OPEN:
        raise ValidationError(_("The round is closed."))
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ValidationError(_("Issue between 1 and %(max)s codes at a time.") % {"max": MAX_CODES_PER_BATCH})
    codes = _new_codes(count)
    SurveyCode.objects.bulk_create(
        SurveyCode(round=survey_round, code=code, questionnaire=questionnaire, group=group) for code in codes
    )
    survey_round.codes_issued += len(codes)
    survey_round.save(update_fields=["codes_issued"])
    audit_record(
        actor=by,
        action=AuditAction.SURVEY_CODES_ISSUE,
        target=survey_round,
        institution=survey_round.institution,
        summary=f"{Questionnaire(questionnaire).label} · {PostGroup(group).label} · {len(codes)}",
        changes={"questionnaire": questionnaire, "group": group, "count": len(codes)},
    )
    return codes


@transaction.atomic
def survey_codes_print(*, by, survey_round: SurveyRound) -> list[SurveyCode]:
    """The codes never printed, now marked printed: each code is on one sheet only."""
    codes = list(
        SurveyCode.objects.select_for_update()
        .filter(round=survey_round, printed=False)
        .order_by("questionnaire", "group", "code")
    )
    SurveyCode.objects.filter(pk__in=[c.pk for c in codes]).update(printed=True)
    audit_record(
        actor=by,
        action=AuditAction.SURVEY_CODES_PRINT,
        target=survey_round,
        institution=survey_round.institution,
        summary=str(len(codes)),
        changes={"codes": len(codes)},
    )
    return codes


def survey_code_find(raw: str) -> SurveyCode | None:
    """The unused code of an open round, or None (unknown, used and closed look the same)."""
    code = normalise_code(raw)
    if len(code) != CODE_LENGTH:
        return None
    return SurveyCode.objects.select_related("round").filter(code=code, round__state=RoundState.OPEN).first()


def survey_answer_submit(
    *, code: str, answers: dict[str, str], overall: bool, today: datetime.date | None = None
) -> SurveyAnswer:
    """Burn the code and store the answer, in one transaction: of two submissions with one code
    exactly one deletes the row and is stored; the other raises CodeRefused and stores nothing.

    Nothing of the request reaches this function: no user, address, agent or time but the day.
    """
    with transaction.atomic():
        found = survey_code_find(code)
        if found is None:
            raise CodeRefused
        survey_round = found.round
        behaviours = survey_round.behaviours[found.questionnaire]
        if set(answers) != set(behaviours) or any(value not in ANSWERS for value in answers.values()):
            raise ValidationError(_("Answer every question."))
        # The DELETE is the burn: a concurrent submission blocks on the row and then deletes none.
        deleted, _rows = SurveyCode.objects.filter(pk=found.pk).delete()
        if deleted != 1:
            raise CodeRefused
        valid, reason, exposed = judge(answers, overall)
        day = today or timezone.localdate()
        return SurveyAnswer.objects.create(
            round=survey_round,
            questionnaire=found.questionnaire,
            group=found.group,
            answered_in=bucket_start(day, survey_round.time_bucket),
            answers={label: answers[label] for label in behaviours},
            overall=overall,
            valid=valid,
            invalid_reason=reason,
            exposed=exposed,
        )


@transaction.atomic
def survey_round_close(*, by, survey_round: SurveyRound) -> SurveyRound:
    """Close with the count of answers; the unused codes are deleted (they can admit nothing more)."""
    survey_round = SurveyRound.objects.select_for_update().get(pk=survey_round.pk)
    if survey_round.state != RoundState.OPEN:
        raise ValidationError(_("The round is closed."))
    survey_round.state = RoundState.CLOSED
    survey_round.closed_at = timezone.now()
    survey_round.answer_count = survey_round.answers.count()
    unused, _rows = survey_round.codes.all().delete()
    survey_round.save(update_fields=["state", "closed_at", "answer_count"])
    audit_record(
        actor=by,
        action=AuditAction.SURVEY_ROUND_CLOSE,
        target=survey_round,
        institution=survey_round.institution,
        summary=str(survey_round.answer_count),
        changes={"answers": survey_round.answer_count, "unused_codes": unused},
    )
    return survey_round


# --- results -------------------------------------------------------------------------------------


@dataclass
class GroupResult:
    questionnaire: str
    group: str
    shown: bool
    answers: int = 0  # only when shown
    valid: int = 0
    invalid: dict[str, int] = field(default_factory=dict)
    rate: Proportion | None = None
    behaviours: list[tuple[str, int]] = field(default_factory=list)  # (label, answered "yes")

    def percent(self, value: float) -> str:
        return f"{value * 100:.1f} %"

    @property
    def rate_text(self) -> str:
        return self.percent(self.rate.rate) if self.rate else ""

    @property
    def interval_text(self) -> str:
        return f"{self.percent(self.rate.low)} – {self.percent(self.rate.high)}" if self.rate else ""

    @property
    def questionnaire_label(self) -> str:
        return str(Questionnaire(self.questionnaire).label)

    @property
    def group_label(self) -> str:
        return str(PostGroup(self.group).label)


def survey_results(survey_round: SurveyRound) -> list[GroupResult]:
    """The 腐败接触率 of each questionnaire and post group that has answers: exposed / valid answers
    with its 95 % Wilson interval. A group with fewer valid answers than the round's threshold
    shows nothing but that it is below it (no rate, no counts of its own). One query."""
    return survey_results_of([survey_round])[survey_round.pk]


def survey_results_of(rounds: list[SurveyRound]) -> dict[int, list[GroupResult]]:
    """``survey_results`` of several rounds (the list page compares institutions): one query."""
    rows: dict[tuple[int, str, str], list[SurveyAnswer]] = {}
    answers = SurveyAnswer.objects.filter(round__in=[r.pk for r in rounds]).only(
        "round_id", "questionnaire", "group", "answers", "valid", "invalid_reason", "exposed"
    )
    for answer in answers:
        rows.setdefault((answer.round_id, answer.questionnaire, answer.group), []).append(answer)
    return {r.pk: _round_results(r, rows) for r in rounds}


def _round_results(
    survey_round: SurveyRound, rows: dict[tuple[int, str, str], list[SurveyAnswer]]
) -> list[GroupResult]:
    results = []
    for questionnaire in Questionnaire.values:
        for group in PostGroup.values:
            answers = rows.get((survey_round.pk, questionnaire, group), [])
            if not answers:
                continue
            valid = [a for a in answers if a.valid]
            if len(valid) < survey_round.min_group:
                results.append(GroupResult(questionnaire, group, shown=False))
                continue
            invalid: dict[str, int] = {}
            for answer in answers:
                if not answer.valid:
                    invalid[answer.invalid_reason] = invalid.get(answer.invalid_reason, 0) + 1
            labels = survey_round.behaviours[questionnaire]
            results.append(
                GroupResult(
                    questionnaire,
                    group,
                    shown=True,
                    answers=len(answers),
                    valid=len(valid),
                    invalid=invalid,
                    rate=wilson(sum(a.exposed for a in valid), len(valid)),
                    behaviours=[(label, sum(a.answers.get(label) == "yes" for a in valid)) for label in labels],
                )
            )
    return results
