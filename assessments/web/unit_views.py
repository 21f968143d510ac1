"""Pages of the unit assessment (单位考核评估): the comparison of a cycle's units, one unit's
assessment (self-scoring, evidence, the office's assessment, outcomes), the results as Excel and
PDF, and the offices' checklists. Thin: parse, ask the access module, call one service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as cycle_access
from assessments import unit
from assessments.models import Checklist, Cycle, UnitAssessment, UnitEvidenceFile, UnitItem, UnitOutcome
from assessments.unit_documents import result_document, result_filename
from assessments.web.unit_forms import (
    SUBMIT,
    AssessForm,
    ChecklistAdoptForm,
    ChecklistForm,
    ChecklistItemFormSet,
    EvidenceForm,
    OutcomeForm,
    RectifiedForm,
    SelfScoreForm,
    UnitOpenForm,
    grade_bands_text,
)
from risk_registry import access
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import AuditAction, Institution
from risk_registry.organisation.services import audit_record

UNLISTED_LIMIT = 100
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


@dataclass
class Unit:
    """One unit's assessment page: what it shows and who may do what on it."""

    cycle: Cycle
    institution: Institution
    assessment: UnitAssessment | None
    can_self: bool
    can_assess: bool
    items: list[UnitItem] = field(default_factory=list)

    @property
    def self_open(self) -> bool:
        return self.assessment is not None and self.assessment.state == UnitAssessment.State.SELF

    @property
    def assessed(self) -> bool:
        return self.assessment is not None and self.assessment.state == UnitAssessment.State.ASSESSED


def _unit(request: HttpRequest, pk: int, code: str) -> Unit:
    cycle = access.object_or_404(cycle_access.cycles_visible_to(request.user).select_related("institution"), pk=pk)
    institution = access.object_or_404(cycle_access.units_overseen_by(request.user), code=code)
    if not institution.is_within(cycle.institution):
        raise Http404
    assessment = (
        UnitAssessment.objects.filter(cycle=cycle, institution=institution)
        .select_related("submitted_by", "assessed_by")
        .first()
    )
    found = Unit(
        cycle=cycle,
        institution=institution,
        assessment=assessment,
        can_self=cycle_access.can_self_assess_unit(request.user, institution),
        can_assess=cycle_access.can_assess_unit(request.user, institution),
    )
    if assessment is not None:
        found.items = list(UnitItem.objects.filter(assessment=assessment).prefetch_related("files").order_by("order"))
    return found


def _render(request: HttpRequest, u: Unit, **forms: Any) -> HttpResponse:
    """The unit's page, with the forms the user may use (a refused form is passed back bound)."""
    today = timezone.localdate()
    context: dict[str, Any] = {"u": u, "cycle": u.cycle, "institution": u.institution, "a": u.assessment}
    if u.assessment is None:
        if (u.can_self or u.can_assess) and u.cycle.is_running:
            context["open_form"] = forms.get("open_form") or UnitOpenForm(
                checklists=cycle_access.checklists_for(u.institution).select_related("institution")
            )
        return render(request, "assessments/unit_assessment.html", context)
    live = {}
    if u.self_open:  # the figures of the day; frozen into the items when the scores are submitted
        live = unit.unit_figures(u.institution, u.cycle.year, today, (i.evidence for i in u.items))
    context["rows"] = [
        {
            "item": item,
            "figure": unit.figure_text(
                item.evidence, live[item.evidence].as_json() if item.evidence in live else item.figure
            ),
            "records": unit.records_of(item, cycle=u.cycle, institution=u.institution),
        }
        for item in u.items
    ]
    if u.self_open and u.can_self:
        context["self_form"] = forms.get("self_form") or SelfScoreForm(items=u.items)
        context["evidence_form"] = forms.get("evidence_form") or EvidenceForm()
    if not u.self_open and u.can_assess:
        context["assess_form"] = forms.get("assess_form") or AssessForm(
            items=u.items, conclusion=u.assessment.conclusion
        )
    if u.assessed:
        context["outcomes"] = list(u.assessment.outcomes.select_related("task").order_by("id"))
        if u.can_assess:
            context["outcome_form"] = forms.get("outcome_form") or OutcomeForm()
        if u.can_self:
            context["rectified_form"] = forms.get("rectified_form") or RectifiedForm()
    for row in context["rows"]:
        pk = row["item"].pk
        if "self_form" in context:
            form = context["self_form"]
            row["self_fields"] = (form[f"score_{pk}"], form[f"note_{pk}"], form[f"records_{pk}"])
        if "assess_form" in context:
            form = context["assess_form"]
            row["assess_fields"] = (form[f"final_{pk}"], form[f"findings_{pk}"])
    context["error_item"] = forms.get("error_item")
    return render(request, "assessments/unit_assessment.html", context)


@require_GET
def unit_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """The cycle's units side by side: per checklist, one row per unit and one column per item."""
    cycle = access.object_or_404(cycle_access.cycles_visible_to(request.user).select_related("institution"), pk=pk)
    comparisons = unit.unit_comparison(user=request.user, cycle=cycle)
    assessed = {row["assessment"].institution_id for group in comparisons for row in group.rows}
    # The units of the cycle: the institutions below its own, and its own when an office above it
    # can assess it (a root of the tree has nobody above it).
    units = cycle_access.units_overseen_by(request.user).filter(path__startswith=cycle.institution.path)
    if cycle.institution.parent_id is None:
        units = units.exclude(pk=cycle.institution.pk)
    unlisted = list(units.exclude(pk__in=assessed).order_by("path")[: UNLISTED_LIMIT + 1])
    return render(
        request,
        "assessments/unit_compare.html",
        {
            "cycle": cycle,
            "comparisons": comparisons,
            "unlisted": unlisted[:UNLISTED_LIMIT],
            "more_unlisted": len(unlisted) > UNLISTED_LIMIT,
        },
    )


@require_POST
def unit_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The results of the units the user may read, as Excel or PDF; the export is audited."""
    if fmt not in FORMATS:
        raise Http404
    cycle = access.object_or_404(cycle_access.cycles_visible_to(request.user).select_related("institution"), pk=pk)
    assessments = list(
        cycle_access.unit_assessments_visible_to(request.user)
        .filter(cycle=cycle)
        .select_related("institution")
        .order_by("institution__path")
    )
    try:
        data, count = result_document(cycle=cycle, assessments=assessments, fmt=fmt)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect("unit_compare", pk=cycle.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.UNIT_EXPORT,
        target=cycle,
        institution=cycle.institution,
        summary=f"{fmt} {count}",
        changes={"units": [a.institution.code for a in assessments]},
    )
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, result_filename(cycle, fmt))
    return response


@require_GET
def unit_assessment(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    return _render(request, _unit(request, pk, code))


def _back(u: Unit) -> HttpResponse:
    return redirect("unit_assessment", pk=u.cycle.pk, code=u.institution.code)


@require_POST
def unit_open(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    u = _unit(request, pk, code)
    access.require((u.can_self or u.can_assess) and u.assessment is None and u.cycle.is_running)
    form = UnitOpenForm(request.POST, checklists=cycle_access.checklists_for(u.institution))
    if form.is_valid():
        try:
            unit.unit_open(
                by=request.user, cycle=u.cycle, institution=u.institution, checklist=form.cleaned_data["checklist"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The unit assessment was opened."))
            return _back(u)
    return _render(request, u, open_form=form)


@require_POST
def unit_self_score(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    u = _unit(request, pk, code)
    access.require(u.can_self and u.self_open)
    assert u.assessment is not None
    form = SelfScoreForm(request.POST, items=u.items)
    if form.is_valid():
        submit = request.POST.get("action") == SUBMIT
        try:
            unit.unit_self_score(
                by=request.user,
                assessment=u.assessment,
                scores=form.scores(),
                submit=submit,
                today=timezone.localdate(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The self-assessment was submitted.") if submit else _("The self-scores were saved.")
            )
            return _back(u)
    return _render(request, u, self_form=form)


@require_POST
def unit_evidence_upload(request: HttpRequest, pk: int, code: str, item: int) -> HttpResponse:
    u = _unit(request, pk, code)
    target = next((i for i in u.items if i.pk == item), None)
    if target is None:
        raise Http404
    access.require(u.can_self and u.self_open)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            unit.evidence_upload(by=request.user, item=target, upload=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, _("The file was added."))
            return _back(u)
    return _render(request, u, evidence_form=form, error_item=target.pk)


@require_GET
def unit_evidence_file(request: HttpRequest, pk: int, code: str, file: int) -> FileResponse:
    """An evidence file, to the unit assessment's readers only, as an attachment."""
    u = _unit(request, pk, code)
    record = access.object_or_404(UnitEvidenceFile.objects.filter(item__assessment=u.assessment), pk=file)
    try:
        path = unit.evidence_path(record)
    except ValueError:  # a key the store did not write
        raise Http404 from None
    if u.assessment is None or not path.exists():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=record.name, content_type=record.content_type)


@require_POST
def unit_assess(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    u = _unit(request, pk, code)
    access.require(u.can_assess and u.assessment is not None and not u.self_open)
    assert u.assessment is not None
    form = AssessForm(request.POST, items=u.items)
    if form.is_valid():
        finish = request.POST.get("action") == SUBMIT
        try:
            unit.unit_assess(
                by=request.user,
                assessment=u.assessment,
                scores=form.scores(),
                conclusion=form.cleaned_data["conclusion"],
                finish=finish,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The assessment was finished.") if finish else _("The scores were saved."))
            return _back(u)
    return _render(request, u, assess_form=form)


@require_POST
def unit_outcome(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    u = _unit(request, pk, code)
    access.require(u.can_assess and u.assessed)
    assert u.assessment is not None
    form = OutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            unit.outcome_record(
                by=request.user,
                assessment=u.assessment,
                kind=data["kind"],
                text=data["text"],
                deadline=data["deadline"],
                warning_number=data["warning_number"],
                today=timezone.localdate(),
            )
        except ValidationError as error:
            field_name = error.code if error.code in ("deadline", "warning_number") else None
            form.add_error(field_name, error)
        else:
            messages.success(request, _("The outcome was recorded."))
            return _back(u)
    return _render(request, u, outcome_form=form)


@require_POST
def unit_rectified(request: HttpRequest, pk: int, code: str, outcome: int) -> HttpResponse:
    u = _unit(request, pk, code)
    record = access.object_or_404(
        UnitOutcome.objects.filter(assessment=u.assessment, kind=UnitOutcome.Kind.RECTIFY).select_related(
            "assessment__institution"
        ),
        pk=outcome,
    )
    access.require(u.can_self and record.done_at is None)
    form = RectifiedForm(request.POST)
    if form.is_valid():
        try:
            unit.outcome_rectified(by=request.user, outcome=record, note=form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The rectification was reported done."))
            return _back(u)
    return _render(request, u, rectified_form=form)


# --- checklists ----------------------------------------------------------------------------------


def _adoptable(request: HttpRequest):
    return Checklist.objects.filter(
        pk__in=Checklist.objects.filter(institution__isnull=True).values("pk")
    ) | cycle_access.checklists_managed_by(request.user)


@require_GET
def checklist_list(request: HttpRequest) -> HttpResponse:
    access.require(cycle_access.may_manage_checklists(request.user))
    checklists = list(
        _adoptable(request).select_related("institution").prefetch_related("items").order_by("institution_id", "id")
    )
    form = ChecklistAdoptForm(
        checklists=_adoptable(request), institutions=cycle_access.checklist_owner_institutions(request.user)
    )
    return render(request, "assessments/checklist_list.html", {"checklists": checklists, "form": form})


@require_POST
def checklist_adopt(request: HttpRequest) -> HttpResponse:
    access.require(cycle_access.may_manage_checklists(request.user))
    form = ChecklistAdoptForm(
        request.POST,
        checklists=_adoptable(request),
        institutions=cycle_access.checklist_owner_institutions(request.user),
    )
    if form.is_valid():
        copy = unit.checklist_adopt(
            by=request.user, checklist=form.cleaned_data["checklist"], institution=form.cleaned_data["institution"]
        )
        messages.success(request, _("The checklist was copied: change its weights and grades here."))
        return redirect("checklist_edit", pk=copy.pk)
    checklists = list(_adoptable(request).select_related("institution").prefetch_related("items"))
    return render(request, "assessments/checklist_list.html", {"checklists": checklists, "form": form})


@require_http_methods(["GET", "POST"])
def checklist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    checklist = access.object_or_404(
        cycle_access.checklists_managed_by(request.user).select_related("institution"), pk=pk
    )
    items = list(checklist.items.order_by("order"))
    initial = [{"title": i.title, "weight": i.weight, "guidance": i.guidance, "evidence": i.evidence} for i in items]
    form = ChecklistForm(
        request.POST or None,
        initial={"name": checklist.name, "grades": grade_bands_text(checklist.grade_bands)},
    )
    formset = ChecklistItemFormSet(request.POST or None, initial=initial, prefix="items")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        specs = [f.spec() for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        try:
            unit.checklist_update(
                by=request.user,
                checklist=checklist,
                name=form.cleaned_data["name"],
                items=specs,
                grade_bands=form.cleaned_data["grades"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The checklist was saved."))
            return redirect("checklist_edit", pk=checklist.pk)
    return render(
        request, "assessments/checklist_form.html", {"checklist": checklist, "form": form, "formset": formset}
    )
