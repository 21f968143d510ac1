"""Unit assessment (单位考核评估): services and reads.

The institution scores itself item by item (0–100) with a note, links to its own records and
uploaded files; the product fills in the figures it already holds. It submits; then a discipline or
superior office above it assesses (统一评估) each item with findings and finishes the assessment:
the weighted total and the grade are computed, never typed. Outcomes follow: 表彰/评先评优, 整改
with a deadline (a task of the cycle, so the deadline scan reminds and escalates it, and it is done
when the institution reports it rectified), 问责 naming a warnings-ledger item by its number.

The arithmetic: ``total = Σ weightᵢ × scoreᵢ / Σ weightᵢ``, rounded half up to one decimal; the
grade is the first band (highest minimum first) whose minimum the total reaches.

Warnings belong to the integrity_warnings feature, which this one must not import: the figure of
notices answered in time and the ledger number of an accountability are read through
``django.apps.apps.get_model``, by model name only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import access as cycle_access
from assessments.completion import tasks_refresh
from assessments.models import (
    Checklist,
    ChecklistItem,
    Cycle,
    EvidenceSource,
    Phase,
    Task,
    UnitAssessment,
    UnitEvidenceFile,
    UnitItem,
    UnitOutcome,
)
from controls.models import Control, ControlRun
from positions.models import Position
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation import files
from risk_registry.organisation.models import AuditAction, Institution, Membership, Role
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.services import audit_record

ONE_DECIMAL = Decimal("0.1")
CONTROL_RUN_STATES = (RiskPointState.APPROVED, RiskPointState.IN_NOTICE, RiskPointState.ISSUED)

# --- arithmetic ------------------------------------------------------------------------------


def weighted_total(pairs: Iterable[tuple[Decimal, Decimal | None]]) -> Decimal | None:
    """Σ weight × score / Σ weight over (weight, score) pairs, half up to one decimal; None while
    any item is unscored (a total of some items only would mislead)."""
    pairs = list(pairs)
    if not pairs or any(score is None for _weight, score in pairs):
        return None
    weights = sum((Decimal(weight) for weight, _score in pairs), Decimal(0))
    if weights <= 0:
        return None
    points = sum((Decimal(weight) * Decimal(score) for weight, score in pairs if score is not None), Decimal(0))
    return (points / weights).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def weighted_points(weight: Decimal, score: Decimal | None, weights: Decimal) -> Decimal | None:
    """An item's share of the total (weight × score / Σ weights), for the documents' 得分 column."""
    if score is None or not weights:
        return None
    return (Decimal(weight) * Decimal(score) / Decimal(weights)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade_for(total: Decimal | None, bands: Sequence[Mapping[str, Any]]) -> str:
    """The name of the first band, highest minimum first, whose minimum ``total`` reaches."""
    if total is None:
        return ""
    for band in sorted(bands, key=lambda b: Decimal(str(b["min"])), reverse=True):
        if total >= Decimal(str(band["min"])):
            return str(band["name"])
    return ""


def grade_bands_check(bands: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Names unique and non-empty, minimums 0–100 and distinct, one band starting at 0."""
    cleaned = []
    for band in bands:
        name = str(band.get("name", "")).strip()
        try:
            minimum = Decimal(str(band.get("min")))
        except ArithmeticError:
            raise ValidationError(_("Each grade needs a minimum score between 0 and 100.")) from None
        if not name or not (0 <= minimum <= 100):
            raise ValidationError(_("Each grade needs a name and a minimum score between 0 and 100."))
        cleaned.append({"name": name[:20], "min": float(minimum) if minimum % 1 else int(minimum)})
    names = [band["name"] for band in cleaned]
    minimums = [band["min"] for band in cleaned]
    if len(set(names)) != len(names) or len(set(minimums)) != len(minimums):
        raise ValidationError(_("Grades need different names and different minimum scores."))
    if 0 not in minimums:
        raise ValidationError(_("One grade must start at 0, so that every total has a grade."))
    return sorted(cleaned, key=lambda band: band["min"], reverse=True)


# --- figures the product holds ---------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    done: int
    total: int

    @property
    def share(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(100) * self.done / self.total).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

    def as_json(self) -> dict[str, Any]:
        share = self.share
        return {"done": self.done, "total": self.total, "share": str(share) if share is not None else None}


FIGURE_TEXT = {
    EvidenceSource.POSTS_WITH_POINTS: gettext_lazy("%(done)d of %(total)d posts have risk points of the year"),
    EvidenceSource.CONTROLS_WITH_RUNS: gettext_lazy(
        "%(done)d of %(total)d controls of the approved register have runs recorded this year"
    ),
    EvidenceSource.WARNINGS_IN_TIME: gettext_lazy("%(done)d of %(total)d warning notices due were answered in time"),
}


def figure_text(source: str, figure: Mapping[str, Any]) -> str:
    if source not in FIGURE_TEXT or not figure:
        return ""
    text = FIGURE_TEXT[EvidenceSource(source)] % {"done": figure["done"], "total": figure["total"]}
    if figure.get("share") is not None:
        text += f" ({figure['share']}%)"
    return text


def _posts_with_points(institution: Institution, year: int) -> Figure:
    points = RiskPoint.objects.filter(position=OuterRef("pk"), year=year).exclude(state=RiskPointState.DRAFT)
    row = Position.objects.filter(department__institution=institution).aggregate(
        total=Count("pk"), done=Count("pk", filter=Q(Exists(points)))
    )
    return Figure(row["done"], row["total"])


def _controls_with_runs(institution: Institution, year: int) -> Figure:
    runs = ControlRun.objects.filter(control=OuterRef("pk"), ran_on__year=year)
    row = Control.objects.filter(
        risk_point__institution=institution, risk_point__year=year, risk_point__state__in=CONTROL_RUN_STATES
    ).aggregate(total=Count("pk"), done=Count("pk", filter=Q(Exists(runs))))
    return Figure(row["done"], row["total"])


def _warnings_in_time(institution: Institution, year: int, today: datetime.date) -> Figure:
    """Notices (dispositions) of the institution's ledger due in the year and by today: answered
    no later than their due date. Items of a confidential channel are left out: the figure must
    not tell the unit that one exists. Read by model name: assessments does not import warnings."""
    disposition = apps.get_model("integrity_warnings", "Disposition")
    row = disposition.objects.filter(
        item__institution=institution, item__confidential=False, due_on__year=year, due_on__lte=today
    ).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(responded_at__isnull=False, responded_at__date__lte=F("due_on"))),
    )
    return Figure(row["done"], row["total"])


def unit_figures(
    institution: Institution, year: int, today: datetime.date, sources: Iterable[str]
) -> dict[str, Figure]:
    """The figures the items ask for (one query each, whatever the size of the institution)."""
    wanted = set(sources)
    figures: dict[str, Figure] = {}
    if EvidenceSource.POSTS_WITH_POINTS in wanted:
        figures[EvidenceSource.POSTS_WITH_POINTS] = _posts_with_points(institution, year)
    if EvidenceSource.CONTROLS_WITH_RUNS in wanted:
        figures[EvidenceSource.CONTROLS_WITH_RUNS] = _controls_with_runs(institution, year)
    if EvidenceSource.WARNINGS_IN_TIME in wanted:
        figures[EvidenceSource.WARNINGS_IN_TIME] = _warnings_in_time(institution, year, today)
    return figures


# --- links to the institution's own records --------------------------------------------------

RECORD_LABELS = {
    "register": gettext_lazy("Risk register of the year"),
    "risks": gettext_lazy("Risk points of the year"),
    "rules": gettext_lazy("Rule catalogue"),
    "runs": gettext_lazy("Control runs on the cycle board"),
    "warnings": gettext_lazy("Warning ledger"),
}


def record_url(key: str, *, cycle: Cycle, institution: Institution) -> str:
    """Where a record lives; the page it opens applies its own access rules."""
    code, year = institution.code, cycle.year
    urls = {
        "register": lambda: reverse("register_detail", args=[code, year]),
        "risks": lambda: f"{reverse('risk_point_list')}?institution={code}&year={year}",
        "rules": lambda: reverse("rule_list", args=[code]),
        "runs": lambda: f"{reverse('cycle_board', args=[cycle.pk])}?institution={code}",
        "warnings": lambda: f"{reverse('warning_ledger')}?institution={institution.pk}",
    }
    return urls[key]()


def records_of(item: UnitItem, *, cycle: Cycle, institution: Institution) -> list[dict[str, str]]:
    return [
        {"key": key, "label": str(RECORD_LABELS[key]), "url": record_url(key, cycle=cycle, institution=institution)}
        for key in item.records
        if key in RECORD_LABELS
    ]


# --- checklists ------------------------------------------------------------------------------


@transaction.atomic
def checklist_adopt(*, by, checklist: Checklist, institution: Institution) -> Checklist:
    """Copy a checklist (a preset, or another) into an office's own, to change its weights."""
    if not cycle_access.checklist_owner_institutions(by).filter(pk=institution.pk).exists():
        raise PermissionDenied
    copy = Checklist.objects.create(
        institution=institution, name=checklist.name, source=checklist.source, grade_bands=checklist.grade_bands
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            checklist=copy,
            order=item.order,
            title=item.title,
            guidance=item.guidance,
            weight=item.weight,
            evidence=item.evidence,
        )
        for item in checklist.items.all()
    )
    audit_record(
        actor=by,
        action=AuditAction.UNIT_CHECKLIST_ADOPT,
        target=copy,
        institution=institution,
        summary=copy.name,
        changes={"from": checklist.pk},
    )
    return copy


@dataclass(frozen=True)
class ItemSpec:
    title: str
    weight: Decimal
    guidance: str = ""
    evidence: str = ""


@transaction.atomic
def checklist_update(
    *, by, checklist: Checklist, name: str, items: Sequence[ItemSpec], grade_bands: Sequence[Mapping[str, Any]]
) -> Checklist:
    """Replace a checklist's items and grades. Unit assessments already opened keep their copy."""
    if checklist.institution_id is None or not cycle_access.checklists_managed_by(by).filter(pk=checklist.pk).exists():
        raise PermissionDenied
    if not items:
        raise ValidationError(_("A checklist needs at least one item."))
    if any(item.weight <= 0 for item in items):
        raise ValidationError(_("Every weight must be greater than 0."))
    bands = grade_bands_check(grade_bands)
    before = {
        "name": checklist.name,
        "items": [[i.title, str(i.weight)] for i in checklist.items.all()],
        "grades": checklist.grade_bands,
    }
    checklist.name = name.strip() or checklist.name
    checklist.grade_bands = bands
    checklist.save(update_fields=["name", "grade_bands"])
    checklist.items.all().delete()
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            checklist=checklist,
            order=order,
            title=item.title,
            weight=item.weight,
            guidance=item.guidance,
            evidence=item.evidence,
        )
        for order, item in enumerate(items, start=1)
    )
    audit_record(
        actor=by,
        action=AuditAction.UNIT_CHECKLIST_UPDATE,
        target=checklist,
        institution=checklist.institution,
        summary=checklist.name,
        changes={
            "before": before,
            "after": {"name": checklist.name, "items": [[i.title, str(i.weight)] for i in items], "grades": bands},
        },
    )
    return checklist


# --- the assessment ----------------------------------------------------------------------------


def _check_in_cycle(cycle: Cycle, institution: Institution) -> None:
    if not institution.is_within(cycle.institution):
        raise ValidationError(_("The institution is not part of this cycle."))


@transaction.atomic
def unit_open(*, by, cycle: Cycle, institution: Institution, checklist: Checklist) -> UnitAssessment:
    """Open the institution's assessment with a copy of the checklist's items and grades."""
    if not (cycle_access.can_self_assess_unit(by, institution) or cycle_access.can_assess_unit(by, institution)):
        raise PermissionDenied
    _check_in_cycle(cycle, institution)
    if not cycle.is_running:
        raise ValidationError(_("The cycle is closed."))
    if not cycle_access.checklists_for(institution).filter(pk=checklist.pk).exists():
        raise ValidationError(_("This checklist cannot be used for this institution."))
    if UnitAssessment.objects.filter(cycle=cycle, institution=institution).exists():
        raise ValidationError(_("The unit assessment has already been opened."))
    assessment = UnitAssessment.objects.create(
        cycle=cycle,
        institution=institution,
        checklist=checklist,
        checklist_name=checklist.name,
        source=checklist.source,
        grade_bands=checklist.grade_bands,
        opened_by=by,
    )
    UnitItem.objects.bulk_create(
        UnitItem(
            assessment=assessment,
            order=item.order,
            title=item.title,
            guidance=item.guidance,
            weight=item.weight,
            evidence=item.evidence,
        )
        for item in checklist.items.all()
    )
    audit_record(
        actor=by, action=AuditAction.UNIT_OPEN, target=assessment, institution=institution, summary=checklist.name
    )
    return assessment


@dataclass(frozen=True)
class SelfScore:
    item_id: int
    score: Decimal | None
    note: str = ""
    records: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssessedScore:
    item_id: int
    score: Decimal | None
    findings: str = ""


def _items_by_id(assessment: UnitAssessment) -> dict[int, UnitItem]:
    return {item.pk: item for item in UnitItem.objects.select_for_update().filter(assessment=assessment)}


def _locked(assessment: UnitAssessment) -> UnitAssessment:
    return UnitAssessment.objects.select_for_update().get(pk=assessment.pk)


@transaction.atomic
def unit_self_score(
    *, by, assessment: UnitAssessment, scores: Sequence[SelfScore], submit: bool, today: datetime.date
) -> UnitAssessment:
    """Save the institution's scores, notes and record links; ``submit`` freezes them (with the
    product's figures of the day) and hands the assessment to the office above."""
    if not cycle_access.can_self_assess_unit(by, assessment.institution):
        raise PermissionDenied
    assessment = _locked(assessment)
    if assessment.state != UnitAssessment.State.SELF:
        raise ValidationError(_("The self-assessment has already been submitted."))
    items = _items_by_id(assessment)
    changed = []
    for entry in scores:
        item = items.get(entry.item_id)
        if item is None:
            raise ValidationError(_("An item does not belong to this assessment."))
        item.self_score, item.self_note = entry.score, entry.note.strip()
        item.records = [key for key in entry.records if key in RECORD_LABELS]
        changed.append(item)
    UnitItem.objects.bulk_update(changed, ["self_score", "self_note", "records"])
    changes: dict[str, Any] = {"scores": {item.title: _text(item.self_score) for item in changed}}
    if submit:
        ordered = sorted(items.values(), key=lambda i: i.order)
        if any(item.self_score is None for item in ordered):
            raise ValidationError(_("Score every item before submitting."))
        figures = unit_figures(assessment.institution, assessment.cycle.year, today, (i.evidence for i in ordered))
        for item in ordered:
            item.figure = figures[EvidenceSource(item.evidence)].as_json() if item.evidence in figures else {}
        UnitItem.objects.bulk_update(ordered, ["figure"])
        assessment.self_total = weighted_total((i.weight, i.self_score) for i in ordered)
        assessment.state = UnitAssessment.State.SUBMITTED
        assessment.submitted_by, assessment.submitted_at = by, timezone.now()
        assessment.save(update_fields=["self_total", "state", "submitted_by", "submitted_at"])
        changes["self_total"] = _text(assessment.self_total)
    audit_record(
        actor=by,
        action=AuditAction.UNIT_SELF_SUBMIT if submit else AuditAction.UNIT_SELF_SCORE,
        target=assessment,
        institution=assessment.institution,
        summary=str(assessment.cycle),
        changes=changes,
    )
    return assessment


@transaction.atomic
def unit_assess(
    *, by, assessment: UnitAssessment, scores: Sequence[AssessedScore], conclusion: str, finish: bool
) -> UnitAssessment:
    """The office above scores each item with its findings (统一评估); ``finish`` computes the
    total and the grade. A finished assessment may be corrected by scoring again and finishing."""
    if not cycle_access.can_assess_unit(by, assessment.institution):
        raise PermissionDenied
    assessment = _locked(assessment)
    if assessment.state == UnitAssessment.State.SELF:
        raise ValidationError(_("The institution has not submitted its self-assessment yet."))
    items = _items_by_id(assessment)
    changed = []
    for entry in scores:
        item = items.get(entry.item_id)
        if item is None:
            raise ValidationError(_("An item does not belong to this assessment."))
        item.final_score, item.findings = entry.score, entry.findings.strip()
        changed.append(item)
    UnitItem.objects.bulk_update(changed, ["final_score", "findings"])
    assessment.conclusion = conclusion.strip()
    fields = ["conclusion"]
    changes: dict[str, Any] = {"scores": {item.title: _text(item.final_score) for item in changed}}
    ordered = sorted(items.values(), key=lambda i: i.order)
    if finish:
        if any(item.final_score is None for item in ordered):
            raise ValidationError(_("Score every item before finishing the assessment."))
        before = {"total": _text(assessment.final_total), "grade": assessment.grade}
        assessment.final_total = weighted_total((i.weight, i.final_score) for i in ordered)
        assessment.grade = grade_for(assessment.final_total, assessment.grade_bands)
        assessment.state = UnitAssessment.State.ASSESSED
        assessment.assessed_by, assessment.assessed_at = by, timezone.now()
        fields += ["final_total", "grade", "state", "assessed_by", "assessed_at"]
        changes |= {"before": before, "total": _text(assessment.final_total), "grade": assessment.grade}
    assessment.save(update_fields=fields)
    audit_record(
        actor=by,
        action=AuditAction.UNIT_ASSESS if finish else AuditAction.UNIT_ASSESS_SCORE,
        target=assessment,
        institution=assessment.institution,
        summary=f"{assessment.cycle} {assessment.grade}".strip(),
        changes=changes,
    )
    return assessment


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --- evidence files ------------------------------------------------------------------------------

EVIDENCE_KINDS = (files.PDF, files.PNG, files.JPEG, files.DOCX, files.XLSX)
EVIDENCE = files.FileStore("RISK_REGISTRY_EVIDENCE_DIR")


def evidence_dir() -> Path:
    return EVIDENCE.folder()


@transaction.atomic
def evidence_upload(*, by, item: UnitItem, upload) -> UnitEvidenceFile:
    """Store an uploaded file for an item, checked by size and content; written under ``var/``
    by a random name and recorded with its SHA-256."""
    assessment = item.assessment
    if not cycle_access.can_self_assess_unit(by, assessment.institution):
        raise PermissionDenied
    if assessment.state != UnitAssessment.State.SELF:
        raise ValidationError(_("The self-assessment has already been submitted."))
    limit = settings.RISK_REGISTRY_EVIDENCE_MAX_BYTES
    too_large = _("The file is larger than %(mb)d MB.")
    kind = files.check(
        upload,
        limit=limit,
        kinds=EVIDENCE_KINDS,
        refusals=files.Refusals(
            empty=_("Only PDF, PNG or JPEG images, Word (.docx) or Excel (.xlsx) files can be uploaded."),
            too_large=too_large,
            kind=_("Only PDF, PNG or JPEG images, Word (.docx) or Excel (.xlsx) files can be uploaded."),
        ),
    )
    try:
        stored = EVIDENCE.store(upload, limit=limit)
    except files.TooLarge:
        raise ValidationError(too_large % {"mb": limit // (1024 * 1024)}, code="too_large") from None
    stored_as, size, path = stored.key, stored.size, EVIDENCE.path_of(stored.key)
    try:
        record = UnitEvidenceFile.objects.create(
            item=item,
            name=files.download_name(
                getattr(upload, "name", "") or "", kind.extension, fallback="evidence", length=120, from_file_name=True
            ),
            content_type=kind.content_type,
            size=size,
            sha256=stored.sha256,
            stored_as=stored_as,
            uploaded_by=by,
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    audit_record(
        actor=by,
        action=AuditAction.UNIT_EVIDENCE,
        target=record,
        institution=assessment.institution,
        summary=f"{item.title}: {record.name}",
        changes={"sha256": record.sha256, "size": size},
    )
    return record


def evidence_path(record: UnitEvidenceFile) -> Path:
    """The stored file of a record; ValueError for a key the store did not write."""
    return EVIDENCE.path_of(record.stored_as)


# --- outcomes -----------------------------------------------------------------------------------


def _rectification_owner(institution: Institution) -> int | None:
    """The principal leader, else the leadership, else the nearest discipline office."""
    rows = list(
        Membership.objects.filter(
            Q(institution=institution, role__in=(Role.PRINCIPAL, Role.LEADERSHIP))
            | Q(institution_id__in=path_ids(institution.path), role=Role.DISCIPLINE)
        ).values_list("user_id", "role", "institution__depth")
    )
    rank: dict[str, int] = {Role.PRINCIPAL: 0, Role.LEADERSHIP: 1, Role.DISCIPLINE: 2}
    rows.sort(key=lambda row: (rank[row[1]], -row[2], row[0]))
    return rows[0][0] if rows else None


def _warning_item_id(institution: Institution, number: str) -> int:
    """The id of the ledger item of that number in the institution's part of the tree."""
    item = apps.get_model("integrity_warnings", "WarningItem")
    found = (
        item.objects.filter(institution__path__startswith=institution.path, number=number)
        .values_list("pk", flat=True)
        .first()
    )
    if found is None:
        raise ValidationError(
            _("No warning numbered %(number)s is in the ledger of %(institution)s.")
            % {"number": number, "institution": institution.name}
        )
    return int(found)


@transaction.atomic
def outcome_record(
    *,
    by,
    assessment: UnitAssessment,
    kind: str,
    text: str,
    deadline: datetime.date | None = None,
    warning_number: str = "",
    today: datetime.date,
) -> UnitOutcome:
    """Record an outcome of a finished assessment. A rectification becomes a task of the cycle due
    on its deadline, owned by the institution's principal leader: the deadline scan reminds and
    escalates it like any task, and it is done when the institution reports it rectified."""
    if not cycle_access.can_assess_unit(by, assessment.institution):
        raise PermissionDenied
    if assessment.state != UnitAssessment.State.ASSESSED:
        raise ValidationError(_("Outcomes are recorded once the assessment is finished."))
    if not text.strip():
        raise ValidationError(_("Describe the outcome."))
    outcome = UnitOutcome(assessment=assessment, kind=kind, text=text.strip(), recorded_by=by)
    if kind == UnitOutcome.Kind.RECTIFY:
        if deadline is None:
            raise ValidationError(_("A rectification needs a deadline."), code="deadline")
        if deadline < today:
            raise ValidationError(_("The deadline is in the past."), code="deadline")
        if not assessment.cycle.is_running:
            raise ValidationError(_("The cycle is closed: its deadline scan no longer runs."), code="deadline")
        outcome.deadline = deadline
    elif kind == UnitOutcome.Kind.ACCOUNTABILITY:
        number = warning_number.strip()
        if not number:
            raise ValidationError(_("Give the number of the warning in the ledger."), code="warning_number")
        outcome.warning_number = number
        outcome.warning_item_id = _warning_item_id(assessment.institution, number)
    outcome.save()
    if kind == UnitOutcome.Kind.RECTIFY and deadline is not None:
        phase = Phase.objects.get(cycle=assessment.cycle, kind=Phase.Kind.INSPECTION)
        outcome.task = Task.objects.create(
            cycle=assessment.cycle,
            phase=phase,
            kind=Task.Kind.RECTIFICATION,
            key=f"rectification:{outcome.pk}",
            year=assessment.cycle.year,
            institution=assessment.institution,
            due_on=deadline,
            owner_id=_rectification_owner(assessment.institution),
        )
        outcome.save(update_fields=["task"])
    audit_record(
        actor=by,
        action=AuditAction.UNIT_OUTCOME,
        target=outcome,
        institution=assessment.institution,
        summary=f"{outcome.get_kind_display()} {outcome.warning_number}".strip(),
        changes={"kind": kind, "deadline": str(deadline) if deadline else None, "warning": outcome.warning_number},
    )
    return outcome


@transaction.atomic
def outcome_rectified(*, by, outcome: UnitOutcome, note: str) -> UnitOutcome:
    """The institution reports a rectification done: its task is done from then on."""
    if not cycle_access.can_self_assess_unit(by, outcome.assessment.institution):
        raise PermissionDenied
    outcome = UnitOutcome.objects.select_for_update().get(pk=outcome.pk)
    if outcome.kind != UnitOutcome.Kind.RECTIFY or outcome.done_at is not None:
        raise ValidationError(_("Only an open rectification can be reported done."))
    if not note.strip():
        raise ValidationError(_("Say how it was rectified."))
    outcome.done_at, outcome.done_by, outcome.done_note = timezone.now(), by, note.strip()
    outcome.save(update_fields=["done_at", "done_by", "done_note"])
    audit_record(
        actor=by,
        action=AuditAction.UNIT_RECTIFIED,
        target=outcome,
        institution=outcome.assessment.institution,
        summary=note.strip(),
    )
    if outcome.task_id:
        tasks_refresh(Task.objects.filter(pk=outcome.task_id))
    return outcome


# --- reads --------------------------------------------------------------------------------------


@dataclass
class Comparison:
    """The units of a cycle side by side, per checklist: one column per item."""

    checklist: str
    items: list[str]
    rows: list[dict[str, Any]]


def unit_comparison(*, user, cycle: Cycle) -> list[Comparison]:
    """The assessments of the cycle the user may read, grouped by checklist; two queries."""
    assessments = list(
        cycle_access.unit_assessments_visible_to(user)
        .filter(cycle=cycle)
        .select_related("institution")
        .order_by("checklist_name", "institution__path")
    )
    items = UnitItem.objects.filter(assessment__in=[a.pk for a in assessments]).order_by("assessment_id", "order")
    by_assessment: dict[int, list[UnitItem]] = {}
    for item in items:
        by_assessment.setdefault(item.assessment_id, []).append(item)
    groups: dict[str, Comparison] = {}
    for assessment in assessments:
        own = by_assessment.get(assessment.pk, [])
        group = groups.setdefault(assessment.checklist_name, Comparison(assessment.checklist_name, [], []))
        for item in own:
            if item.title not in group.items:
                group.items.append(item.title)
        group.rows.append(
            {
                "assessment": assessment,
                "scores": {item.title: item.final_score for item in own},
                "self": {item.title: item.self_score for item in own},
            }
        )
    for group in groups.values():
        for row in group.rows:
            row["cells"] = [(row["self"].get(title), row["scores"].get(title)) for title in group.items]
        group.rows.sort(key=lambda row: (row["assessment"].final_total is None, -(row["assessment"].final_total or 0)))
    return list(groups.values())
