"""Pages of the register: home, the organisation, the risk-point list, detail and edit."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from integrity_warnings import access as warning_access
from risk_registry import access, selectors, services
from risk_registry.filters import RiskPointFilterForm
from risk_registry.organisation import selectors as org_selectors
from risk_registry.web.forms.points import (
    ControlFormSet,
    RiskPointForm,
    control_changes,
    control_initial,
)
from risk_registry.web.forms.workflow import ProposalForm
from risk_registry.web.htmx import render_page_or_partial
from risk_registry.web.pagination import keyset_page, seriousness_page
from risk_registry.workflow import transitions as workflow
from risk_registry.workflow.registers import decision_rules_for
from risk_registry.workflow.selectors import revision_request

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = selectors.home_for(user=request.user, year=selectors.current_year())
    return render(request, "risk_registry/home.html", context)


@require_GET
def institution_tree(request: HttpRequest) -> HttpResponse:
    """The top of the user's part of the tree; deeper levels open institution by institution."""
    visible = access.institutions_visible_to(request.user)
    text = request.GET.get("q", "").strip()[:60]
    if text:
        nodes = visible.filter(name__icontains=text)[:100]
    else:
        top_depth = visible.order_by("depth").values_list("depth", flat=True).first()
        nodes = visible.filter(depth__lte=top_depth + 1)[:500] if top_depth is not None else visible.none()
    return render(request, "risk_registry/institution_tree.html", {"nodes": nodes, "q": text})


@require_GET
def institution_detail(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(
        access.institutions_visible_to(request.user).select_related("parent", "grading_scheme"), code=code
    )
    children = access.institutions_visible_to(request.user).filter(parent=institution)
    departments = (
        access.departments_visible_to(request.user)
        .filter(institution=institution)
        .annotate(position_count=Count("positions"))
    )
    points = access.risk_points_visible_to(request.user).filter(institution=institution)
    return render(
        request,
        "risk_registry/institution_detail.html",
        {
            "institution": institution,
            "children": children,
            "departments": departments,
            "grading": org_selectors.grading_table(institution),
            "level_counts": selectors.level_counts(queryset=points),
            "can_record_rotation": access.can_record_rotation(request.user, institution),
            "can_edit_grading": access.can_edit_grading_scheme(request.user, institution),
            "current_year": selectors.current_year(),
        },
    )


@require_GET
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    department = access.object_or_404(access.departments_visible_to(request.user).select_related("institution"), pk=pk)
    visible = access.risk_points_visible_to(request.user).filter(department=department).values("pk")
    positions = (
        access.positions_visible_to(request.user)
        .filter(department=department)
        .annotate(point_count=Count("risk_points", filter=Q(risk_points__in=visible), distinct=True))
        .prefetch_related("holdings__user")
    )
    return render(
        request,
        "risk_registry/department_detail.html",
        {
            "department": department,
            "positions": positions,
            "can_add": access.can_add_risk_point_to_department(request.user, department),
        },
    )


@require_GET
def risk_point_list(request: HttpRequest) -> HttpResponse:
    form = RiskPointFilterForm(request.GET or None, institutions=access.institutions_visible_to(request.user))
    filters = form.filters()
    queryset = selectors.risk_points_for_list(user=request.user, filters=filters)
    if form.serious_first():
        page = seriousness_page(queryset, after=request.GET.get("after"))
    else:
        page = keyset_page(
            queryset,
            after=request.GET.get("after"),
            walk_ids=selectors.walks_ids(request.user),
            part=access.q_one_part(request.user),
        )
    query = request.GET.copy()
    query.pop("after", None)
    # The schemes of the rows shown ("grading schemes shown"): reading those of every matching
    # point took seconds for a province's 10,000 schemes, for a legend nobody reads that long.
    legend = org_selectors.band_legend({row.level.scheme_id for row in page.rows})
    return render_page_or_partial(
        request,
        page="risk_registry/risk_point_list.html",
        partial="risk_registry/_risk_point_rows.html",
        context={
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "legend": legend,
            "spans_institutions": filters.institution is None,
        },
    )


@require_GET
def risk_point_detail(request: HttpRequest, pk: int) -> HttpResponse:
    risk_point = access.object_or_404(
        access.risk_points_visible_to(request.user).select_related(
            "institution__grading_scheme",
            "department",
            "position",
            "power_item",
            "process_step",
            "risk_type",
            "level",
            "created_by",
        ),
        pk=pk,
    )
    controls = risk_point.controls.select_related("rule").in_line_order()
    history = access.risk_point_history_visible_to(request.user, risk_point).select_related("actor")[:50]
    return render(
        request,
        "risk_registry/risk_point_detail.html",
        {
            "risk_point": risk_point,
            "revision": revision_request(risk_point),
            "controls": controls,
            "history": history,
            "can_edit": access.can_edit_risk_point(request.user, risk_point),
            # measures after 审定 (where the institution's rules say so), and the revisions so far
            "can_revise_controls": access.can_propose_control_revision(request.user, risk_point)
            and decision_rules_for(risk_point.institution).measures_after_approval,
            "revisions": risk_point.control_revisions.select_related("proposed_by")[:20],
            "can_record_runs": access.can_record_runs_of(request.user, risk_point),
            "steps": [
                t for t in workflow.transitions_for(request.user, risk_point) if t.name not in workflow.REGISTER_STEPS
            ],
            "proposal_form": ProposalForm(scheme=risk_point.institution.grading_scheme)
            if access.can_propose_level(request.user, risk_point)
            else None,
            # the point's warning history, as far as the warning ledger lets this user see it
            "warning_items": warning_access.items_visible_to(request.user)
            .filter(risk_points=risk_point)
            .select_related("channel", "grade")
            .order_by("-received_on"),
        },
    )


def _risk_point_form_page(request, *, institution, department, position, risk_point=None):
    """Shared by create and edit: bind the point form and its controls formset, call one service."""
    form_kwargs = {"institution": institution, "department": department, "position": position}
    if request.method == "POST":
        form = RiskPointForm(request.POST, **form_kwargs)
        formset = ControlFormSet(request.POST, prefix="controls", form_kwargs={"institution": institution})
        if form.is_valid() and formset.is_valid():
            try:
                if risk_point is None:
                    risk_point = services.risk_point_create(
                        by=request.user,
                        department=department,
                        position=position,
                        year=selectors.current_year(),
                        fields=form.cleaned_data,
                        controls=control_changes(formset),
                    )
                    messages.success(request, _("The draft risk point was saved."))
                else:
                    services.risk_point_update(
                        by=request.user,
                        risk_point=risk_point,
                        fields=form.cleaned_data,
                        controls=control_changes(formset),
                        version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, _("The changes were saved."))
                return redirect("risk_point_detail", pk=risk_point.pk)
            except ValidationError as error:
                form.add_error(None, error)
    else:
        initial = RiskPointForm.initial_from(risk_point) if risk_point else {}
        form = RiskPointForm(initial=initial, **form_kwargs)
        formset = ControlFormSet(
            initial=control_initial(risk_point) if risk_point else [],
            prefix="controls",
            form_kwargs={"institution": institution},
        )
    return render(
        request,
        "risk_registry/risk_point_form.html",
        {
            "form": form,
            "formset": formset,
            "institution": institution,
            "department": department,
            "position": position,
            "risk_point": risk_point,
        },
    )


@require_http_methods(["GET", "POST"])
def risk_point_create_for_position(request: HttpRequest, pk: int) -> HttpResponse:
    position = access.object_or_404(
        access.positions_visible_to(request.user).select_related("department", "institution__grading_scheme"), pk=pk
    )
    access.require(access.can_add_risk_point_to_position(request.user, position))
    return _risk_point_form_page(
        request, institution=position.institution, department=position.department, position=position
    )


@require_http_methods(["GET", "POST"])
def risk_point_create_for_department(request: HttpRequest, pk: int) -> HttpResponse:
    department = access.object_or_404(
        access.departments_visible_to(request.user).select_related("institution__grading_scheme"), pk=pk
    )
    access.require(access.can_add_risk_point_to_department(request.user, department))
    return _risk_point_form_page(request, institution=department.institution, department=department, position=None)


@require_http_methods(["GET", "POST"])
def risk_point_edit(request: HttpRequest, pk: int) -> HttpResponse:
    risk_point = access.object_or_404(
        access.risk_points_visible_to(request.user).select_related(
            "institution__grading_scheme", "department", "position", "level"
        ),
        pk=pk,
    )
    access.require(access.can_edit_risk_point(request.user, risk_point))
    return _risk_point_form_page(
        request,
        institution=risk_point.institution,
        department=risk_point.department,
        position=risk_point.position,
        risk_point=risk_point,
    )


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers (200) or not (503). Says nothing about the data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("health: the database does not answer: %s", error)
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})
