"""Pages of the annual cycle: the inbox, cycles (launch, board, edit, close), self-assessment and
the changes between years. Thin: parse, ask the access module, call one service or selector."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as cycle_access
from assessments import selectors, services
from assessments.models import SelfAssessment
from assessments.web.forms import CycleCloseForm, CycleForm, SelfAssessmentForm
from risk_registry import access
from risk_registry.selectors import current_year
from risk_registry.web.params import id_param, year_param

BOARD_PAGE = 50  # rows of the progress board a page


def _cycle_or_404(request: HttpRequest, pk: int):
    return access.object_or_404(cycle_access.cycles_visible_to(request.user).select_related("institution"), pk=pk)


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The old 我的任务 page: its tasks and notifications are sections of the one inbox (我的待办)."""
    return redirect("inbox")


@require_GET
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One notification of the reader's own: a digest with every task it lists (404 for anyone
    else's, as for any object out of scope). Reading it marks nothing: a GET writes nothing."""
    notification = access.object_or_404(cycle_access.notifications_of(request.user).select_related("recipient"), pk=pk)
    page = selectors.notification_page(notification, user=request.user, today=timezone.localdate())
    return render(request, "assessments/notification_detail.html", {"page": page, "n": page.notification})


@require_POST
def inbox_mark_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    return redirect(reverse("inbox") + "#notifications")


@require_GET
def cycle_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assessments/cycle_list.html",
        {
            "cycles": selectors.cycles_for_list(user=request.user),
            "can_launch": cycle_access.cycle_launch_institutions(request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def cycle_launch(request: HttpRequest) -> HttpResponse:
    institutions = cycle_access.cycle_launch_institutions(request.user)
    access.require(institutions.exists())
    # The launch form's dates follow the chosen year (a bad one is a 400, as everywhere).
    year = year_param(request.GET.get("year")) or current_year()
    form = CycleForm(request.POST or None, institutions=institutions, year=year)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cycle = services.cycle_launch(
                by=request.user,
                institution=data["institution"],
                year=data["year"],
                name=data["name"],
                phases=form.phases(),
                reminder_days=data["reminder_days"],
                supervisor_after_days=data["supervisor_after_days"],
                discipline_after_days=data["discipline_after_days"],
                confirm_late=data["confirm_late"],
            )
        except ValidationError as error:
            form.add_error("confirm_late" if error.code == "late" else None, error)
        else:
            messages.success(request, _("The cycle was launched; its tasks are being generated."))
            return redirect("cycle_board", pk=cycle.pk)
    return render(request, "assessments/cycle_form.html", {"form": form, "cycle": None})


@require_http_methods(["GET", "POST"])
def cycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _cycle_or_404(request, pk)
    access.require(cycle_access.can_manage_cycle(request.user, cycle) and cycle.is_running)
    form = CycleForm(request.POST or None, cycle=cycle, year=cycle.year)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.cycle_update(
                by=request.user,
                cycle=cycle,
                name=data["name"],
                phases=form.phases(),
                reminder_days=data["reminder_days"],
                supervisor_after_days=data["supervisor_after_days"],
                discipline_after_days=data["discipline_after_days"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The cycle was saved."))
            return redirect("cycle_board", pk=cycle.pk)
    return render(request, "assessments/cycle_form.html", {"form": form, "cycle": cycle})


@require_GET
def cycle_board(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = _cycle_or_404(request, pk)
    node = department = None
    if code := request.GET.get("institution"):
        node = access.object_or_404(access.institutions_visible_to(request.user), code=code)
        if not node.is_within(cycle.institution):
            node = None
    if dept := id_param(request.GET.get("department"), name=_("The department")):
        department = access.object_or_404(access.departments_visible_to(request.user), pk=dept)
    board = selectors.cycle_board(
        user=request.user, cycle=cycle, today=timezone.localdate(), node=node, department=department
    )
    # a county's root has a row per child institution (1,000 in a big one): 50 a page, the total
    # row still counts them all
    page = Paginator(board.rows, BOARD_PAGE).get_page(request.GET.get("page"))
    kept = {key: value for key, value in (("institution", node and node.code), ("department", dept)) if value}
    return render(
        request,
        "assessments/cycle_board.html",
        {
            "board": board,
            "rows": page.object_list,
            "page": page if page.paginator.num_pages > 1 else None,
            "kept": urlencode(kept),
            "can_manage": cycle_access.can_manage_cycle(request.user, cycle) and cycle.is_running,
        },
    )


@require_http_methods(["GET", "POST"])
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The close page says who has not filed and what will be carried over. The first POST asks
    for confirmation with what the close will do in numbers and writes nothing; only the POST with
    ``confirmed=1`` closes (as the register's approve, publish, issue and file do)."""
    cycle = _cycle_or_404(request, pk)
    access.require(cycle_access.can_manage_cycle(request.user, cycle) and cycle.is_running)
    form = CycleCloseForm(request.POST or None)
    preview = services.cycle_rollover_preview(cycle)
    context = {"cycle": cycle, "form": form, "preview": preview}
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        if preview.unfiled and not reason.strip():
            form.add_error("reason", services.unfiled_refusal(cycle, preview.unfiled))
        elif request.POST.get("confirmed") != "1":
            return render(
                request, "assessments/cycle_close.html", context | {"confirming": _close_sentences(cycle, preview)}
            )
        else:
            try:
                result = services.cycle_close(by=request.user, cycle=cycle, force_reason=reason)
            except ValidationError as error:
                form.add_error("reason" if getattr(error, "code", None) == "unfiled" else None, error)
            else:
                messages.success(
                    request,
                    _("The cycle was closed: %(points)d points with %(controls)d controls carried over to %(year)d.")
                    % {"points": result.points, "controls": result.controls, "year": cycle.year + 1},
                )
                return redirect("cycle_board", pk=cycle.pk)
            preview = services.cycle_rollover_preview(cycle)  # the refusal may have found a new unfiled one
            context["preview"] = preview
    return render(request, "assessments/cycle_close.html", context)


def _close_sentences(cycle, preview: services.RolloverPreview) -> list[str]:
    """What the close will do, in numbers ("将结转 N 个单位的 M 个风险点；其中 K 个单位未备案…")."""
    sentences = [
        ngettext(
            "%(points)d risk point of %(units)d institutions will be carried into %(year)d as drafts, with its "
            "controls, for the holders to re-check.",
            "%(points)d risk points of %(units)d institutions will be carried into %(year)d as drafts, with their "
            "controls, for the holders to re-check.",
            preview.points,
        )
        % {"points": preview.points, "units": preview.institutions, "year": cycle.year + 1}
    ]
    if preview.unfiled:
        sentences.append(
            ngettext(
                "Of these, %(count)d institution has not filed: %(approved)d points are carried in their last "
                "approved state, marked as carried from an unfiled register; %(left)d points never approved are "
                "not carried over.",
                "Of these, %(count)d institutions have not filed: %(approved)d points are carried in their last "
                "approved state, marked as carried from an unfiled register; %(left)d points never approved are "
                "not carried over.",
                len(preview.unfiled),
            )
            % {"count": len(preview.unfiled), "approved": preview.unfiled_points, "left": preview.not_approved_points}
        )
    sentences.append(_("The cycle is then closed; this cannot be undone."))
    return sentences


@require_http_methods(["GET", "POST"])
def self_assessment(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    cycle = access.object_or_404(cycle_access.cycles_of_user(request.user).select_related("institution"), pk=pk)
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    existing = (
        SelfAssessment.objects.filter(cycle=cycle, institution=institution).select_related("submitted_by").first()
    )
    allowed = cycle_access.can_submit_self_assessment(request.user, institution)
    form = SelfAssessmentForm(request.POST or None)
    if request.method == "POST":
        access.require(allowed)
        if form.is_valid():
            try:
                services.self_assessment_submit(
                    by=request.user, cycle=cycle, institution=institution, summary=form.cleaned_data["summary"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The self-assessment was submitted."))
                return redirect("self_assessment", pk=cycle.pk, code=institution.code)
    return render(
        request,
        "assessments/self_assessment.html",
        {"cycle": cycle, "institution": institution, "existing": existing, "form": form, "can_submit": allowed},
    )


@require_GET
def year_changes(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    cycle = _cycle_or_404(request, pk)
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.CHANGE_KINDS else ""
    changes = selectors.year_changes(
        user=request.user, institution=institution, year=cycle.year, kind=kind, page=request.GET.get("page")
    )
    return render(
        request,
        "assessments/year_changes.html",
        {
            "cycle": cycle,
            "institution": institution,
            "changes": changes,
            "kind": kind,
            "kept": urlencode({"kind": kind} if kind else {}),
        },
    )
