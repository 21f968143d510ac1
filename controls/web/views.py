"""The page where a holder records that a control ran (落实情况), with its evidence, and which
period of the annual cycle the run counts for."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assessments.selectors import RunPeriod, control_run_periods, current_run_period
from controls.services import control_run_record
from controls.web.forms import ControlRunForm
from risk_registry import access


def _recorded_message(request: HttpRequest, ran_on, periods: list[RunPeriod], current: RunPeriod | None) -> None:
    """Say what the run did to the cycle's task: completed its period, or why the task stays open."""
    counted = next((p for p in periods if p.holds(ran_on)), None)
    if counted is not None:
        messages.success(
            request,
            _("The run was recorded and counts for the period %(start)s – %(end)s.")
            % {"start": counted.start.isoformat(), "end": counted.end.isoformat()},
        )
    elif current is not None and ran_on < current.start:
        messages.warning(
            request,
            _(
                "The run was recorded, but it is dated %(ran_on)s, before the period of the task "
                "(%(start)s – %(end)s): the task stays open until a run within that period is recorded."
            )
            % {"ran_on": ran_on.isoformat(), "start": current.start.isoformat(), "end": current.end.isoformat()},
        )
    else:
        messages.success(request, _("The run of the control was recorded."))


@require_http_methods(["GET", "POST"])
def control_run_create(request: HttpRequest, pk: int) -> HttpResponse:
    control = access.object_or_404(
        access.controls_visible_to(request.user).select_related("risk_point__institution", "risk_point__position"),
        pk=pk,
    )
    allowed = access.can_record_control_run(request.user, control)
    today = timezone.localdate()
    periods = control_run_periods(control.pk)
    current = current_run_period(periods, today)
    form = ControlRunForm(request.POST or None, today=today)
    if request.method == "POST":
        access.require(allowed)
        if form.is_valid():
            try:
                control_run_record(by=request.user, control=control, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                _recorded_message(request, form.cleaned_data["ran_on"], periods, current)
                return redirect("control_run_create", pk=control.pk)
    runs = control.runs.select_related("recorded_by")[:20]
    return render(
        request,
        "controls/control_run_form.html",
        {"control": control, "form": form, "runs": runs, "can_record": allowed, "current": current, "today": today},
    )
