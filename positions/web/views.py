"""Pages of positions: the post, the power inventory (清权) with its process flows, rotation (轮岗交流).

Every change goes through ``risk_registry.services`` so that it is audited and flags the points
of the positions concerned for re-grading (the register path), never around them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from positions import services as positions_services
from positions.flow import flow_layout
from positions.models import PowerItem, ProcessStep
from positions.web.forms import CatalogueExportForm, PowerItemForm, PowerRetireForm, RotationForm, StepFormSet
from risk_registry import access
from risk_registry import services as register_services
from risk_registry.documents import power_import
from risk_registry.organisation.models import Institution
from risk_registry.selectors import current_year
from risk_registry.web.pagination import keyset_page


@require_GET
def position_detail(request: HttpRequest, pk: int) -> HttpResponse:
    position = access.object_or_404(
        access.positions_visible_to(request.user).select_related("department", "institution"), pk=pk
    )
    holdings = access.holdings_visible_to(request.user).filter(position=position).select_related("user")
    power_items = (
        access.power_items_visible_to(request.user)
        .filter(positions=position, retired_on__isnull=True)
        .select_related("category")
        .prefetch_related(Prefetch("steps", queryset=ProcessStep.objects.order_by("order")))
    )
    visible = access.risk_points_visible_to(request.user).filter(position=position)
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else current_year()
    years = sorted({year, *visible.order_by().values_list("year", flat=True).distinct()}, reverse=True)
    risk_points = list(
        visible.filter(year=year).select_related("risk_type", "level").prefetch_related("controls")[:200]
    )
    # 记录执行: the controls whose runs this user records, from the rows already loaded (no query)
    run_controls = [
        (point, control)
        for point in risk_points
        if access.can_record_runs_of(request.user, point)
        for control in point.controls.all()
    ]
    return render(
        request,
        "positions/position_detail.html",
        {
            "position": position,
            "holdings": holdings,
            "power_items": power_items,
            "risk_points": risk_points,
            "run_controls": run_controls,
            "year": year,
            "years": years,
            "can_add": access.can_add_risk_point_to_position(request.user, position),
        },
    )


# --- the power inventory (职权目录) -------------------------------------------------------------


@require_GET
def power_list(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    show_retired = request.GET.get("retired") == "1"
    items = (
        access.power_items_visible_to(request.user)
        .filter(institution=institution, retired_on__isnull=not show_retired)
        .select_related("category", "department")
        .annotate(step_count=Count("steps", distinct=True), position_count=Count("positions", distinct=True))
    )
    query = request.GET.get("q", "").strip()[:60]
    if query:
        items = items.filter(Q(name__icontains=query) | Q(legal_basis__icontains=query))
    page = keyset_page(items, after=request.GET.get("after"))
    return render(
        request,
        "positions/power_list.html",
        {
            "institution": institution,
            "page": page,
            "q": query,
            "show_retired": show_retired,
            "can_create": access.can_manage_powers(request.user, institution)
            or bool(_managed_departments(request.user, institution)),
            "export_form": CatalogueExportForm(),
            "can_import": power_import.can_import_powers(request.user, institution),
        },
    )


def _managed_departments(user, institution: Institution):
    """The departments whose powers the user may create: all for the discipline office, else their own."""
    departments = access.departments_visible_to(user).filter(institution=institution)
    if access.can_manage_powers(user, institution):
        return departments
    return departments.filter(pk__in=access.scope_of(user).department_ids)


@require_http_methods(["GET", "POST"])
def power_create(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    departments = _managed_departments(request.user, institution)
    access.require(access.can_manage_powers(request.user, institution) or departments.exists())
    form = PowerItemForm(request.POST or None, institution=institution, departments=departments)
    if request.method == "POST" and form.is_valid():
        department = form.cleaned_data["department"]
        if not access.can_manage_powers(request.user, institution, department.pk if department else None):
            form.add_error("department", _("Choose one of your departments."))
        else:
            try:
                item = positions_services.power_item_create(
                    institution=institution,
                    positions=form.cleaned_data["positions"],
                    by=request.user,
                    **form.service_fields(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The power item was added to the inventory. Now draw its flow."))
                return redirect("power_steps", pk=item.pk)
    return render(request, "positions/power_form.html", {"institution": institution, "form": form, "item": None})


def _item_or_404(request: HttpRequest, pk: int) -> PowerItem:
    return access.object_or_404(
        access.power_items_visible_to(request.user).select_related("institution", "category", "department"), pk=pk
    )


@require_GET
def power_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    steps = list(item.steps.select_related("handling_position__department").order_by("order"))
    year = current_year()
    points = (
        access.risk_points_visible_to(request.user)
        .filter(process_step__power_item=item, year=year)
        .select_related("level")
        .only("pk", "description", "process_step_id", "level__name", "level__colour", "level__rank", "state")
    )
    history = access.history_of(request.user, item).select_related("actor")[:50]
    return render(
        request,
        "positions/power_detail.html",
        {
            "item": item,
            "flow": flow_layout(steps, points),
            "year": year,
            "positions": item.positions.select_related("department"),
            "history": history,
            "can_manage": access.can_manage_powers(request.user, item.institution, item.department_id),
            "retire_form": PowerRetireForm(initial={"on": timezone.localdate()}),
        },
    )


def _managed_item(request: HttpRequest, pk: int) -> PowerItem:
    item = _item_or_404(request, pk)
    access.require(access.can_manage_powers(request.user, item.institution, item.department_id))
    return item


@require_http_methods(["GET", "POST"])
def power_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _managed_item(request, pk)
    departments = _managed_departments(request.user, item.institution)
    form = PowerItemForm(request.POST or None, instance=item, institution=item.institution, departments=departments)
    if request.method == "POST" and form.is_valid():
        # The form wrote its values onto ``item``; the service compares with the stored row.
        try:
            register_services.power_item_update(
                item=PowerItem.objects.get(pk=item.pk),
                positions=form.cleaned_data["positions"],
                by=request.user,
                **form.service_fields(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The power item was saved; the points of its posts are flagged for re-grading.")
            )
            return redirect("power_detail", pk=item.pk)
    return render(request, "positions/power_form.html", {"institution": item.institution, "form": form, "item": item})


@require_http_methods(["GET", "POST"])
def power_steps(request: HttpRequest, pk: int) -> HttpResponse:
    item = _managed_item(request, pk)
    if item.is_retired:
        messages.error(request, _("A retired power item keeps its flow as it was."))
        return redirect("power_detail", pk=item.pk)
    positions = item.institution.positions.select_related("department")
    steps = item.steps.select_related("handling_position").order_by("order")
    formset = StepFormSet(request.POST or None, queryset=steps, form_kwargs={"positions": positions})
    if request.method == "POST" and formset.is_valid():
        try:
            register_services.process_steps_save(item=item, rows=formset.rows(), by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The process flow was saved."))
            return redirect("power_detail", pk=item.pk)
    return render(request, "positions/power_steps.html", {"item": item, "formset": formset})


@require_POST
def power_retire(request: HttpRequest, pk: int) -> HttpResponse:
    item = _managed_item(request, pk)
    form = PowerRetireForm(request.POST)
    if form.is_valid():
        try:
            register_services.power_item_retire(item=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The power item was retired; its history and points stay."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("power_detail", pk=item.pk)


# --- rotation (轮岗交流) -------------------------------------------------------------------------


def long_held_key_posts(user, institution: Institution, *, today: datetime.date):
    """Open holdings of key posts that started more than the rotation period ago (those the user sees)."""
    years = settings.RISK_REGISTRY_ROTATION_YEARS
    try:
        since = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        since = today.replace(year=today.year - years, day=28)
    return (
        access.holdings_visible_to(user)
        .filter(
            position__institution=institution,
            position__is_key_post=True,
            ended_on__isnull=True,
            started_on__lte=since,
        )
        .select_related("user", "position__department")
        .order_by("started_on", "pk")
    )


@require_http_methods(["GET", "POST"])
def rotation(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    access.require(access.can_record_rotation(request.user, institution))
    one = Institution.objects.filter(pk=institution.pk)
    people = access.people_of(one, former_holders=True).filter(is_active=True)
    form = RotationForm(
        request.POST or None,
        institution=institution,
        people=people,
        holdings=access.holdings_visible_to(request.user),
        positions=access.positions_visible_to(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            flagged = _record_rotation(request.user, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, flagged)
            return redirect("rotation", code=institution.code)
    today = timezone.localdate()
    recent = (
        access.audit_entries_visible_to(request.user)
        .filter(institution=institution, action__in=("holding.start", "holding.end"), target_type="positions.holding")
        .select_related("actor")
        .order_by("-at")[:30]
    )
    return render(
        request,
        "positions/rotation.html",
        {
            "institution": institution,
            "form": form,
            "long_held": long_held_key_posts(request.user, institution, today=today),
            "rotation_years": settings.RISK_REGISTRY_ROTATION_YEARS,
            "recent": recent,
        },
    )


def _record_rotation(user, data: dict) -> str:
    kind, on = data["kind"], data["on"]
    if kind == RotationForm.Kind.START:
        positions_services.holding_start(user=data["user"], position=data["position"], started_on=on, by=user)
        return _("The holding was recorded.")
    holding = data["holding"]
    if kind == RotationForm.Kind.ROTATE:
        register_services.holding_rotate(holding=holding, to_position=data["position"], on=on, by=user)
    else:
        register_services.holding_end(holding=holding, ended_on=on, by=user)
    return _("The change was recorded; the points of the post left are flagged for re-grading.")
