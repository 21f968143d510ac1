"""The page where a holder records that a control ran (落实情况), with its evidence."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from controls.services import control_run_record
from controls.web.forms import ControlRunForm
from risk_registry import access


@require_http_methods(["GET", "POST"])
def control_run_create(request: HttpRequest, pk: int) -> HttpResponse:
    control = access.object_or_404(
        access.controls_visible_to(request.user).select_related("risk_point__institution", "risk_point__position"),
        pk=pk,
    )
    allowed = access.can_record_control_run(request.user, control)
    form = ControlRunForm(request.POST or None)
    if request.method == "POST":
        access.require(allowed)
        if form.is_valid():
            try:
                control_run_record(by=request.user, control=control, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The run of the control was recorded."))
                return redirect("control_run_create", pk=control.pk)
    runs = control.runs.select_related("recorded_by")[:20]
    return render(
        request,
        "controls/control_run_form.html",
        {"control": control, "form": form, "runs": runs, "can_record": allowed},
    )
