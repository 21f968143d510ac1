"""Measures after 审定: a holder proposes the controls of an approved point, a reviewer approves or
returns the revision (``risk_registry.workflow.revisions``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk_registry import access
from risk_registry.organisation.text import CleanTextMixin
from risk_registry.web.forms.points import ControlFormSet, control_changes, control_initial
from risk_registry.workflow import revisions
from risk_registry.workflow.registers import decision_rules_for
from risk_registry.workflow.revisions import REASON_MAX
from risk_registry.workflow.transitions import WorkflowConflict


class RevisionForm(CleanTextMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the revision"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class ReviewForm(CleanTextMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("return", "return")])
    note = forms.CharField(required=False, max_length=REASON_MAX)


def _point_or_404(request: HttpRequest, pk: int):
    return access.object_or_404(
        access.risk_points_visible_to(request.user).select_related("institution", "department", "position", "level"),
        pk=pk,
    )


@require_http_methods(["GET", "POST"])
def control_revision_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The controls of an approved point as a form; saving sends them for review, changing nothing yet."""
    point = _point_or_404(request, pk)
    access.require(access.can_propose_control_revision(request.user, point))
    institution = point.institution
    rule_on = decision_rules_for(institution).measures_after_approval
    if request.method == "POST":
        form = RevisionForm(request.POST)
        formset = ControlFormSet(request.POST, prefix="controls", form_kwargs={"institution": institution})
        if form.is_valid() and formset.is_valid():
            try:
                revision = revisions.control_revision_propose(
                    by=request.user,
                    risk_point=point,
                    controls=control_changes(formset),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("The revision was sent for review; the controls change once it is approved.")
                )
                return redirect("control_revision_detail", pk=revision.pk)
    else:
        form = RevisionForm()
        formset = ControlFormSet(
            initial=control_initial(point), prefix="controls", form_kwargs={"institution": institution}
        )
    return render(
        request,
        "risk_registry/control_revision_form.html",
        {
            "risk_point": point,
            "form": form,
            "formset": formset,
            "rule_on": rule_on,
            "pending": point.control_revisions.filter(status="pending").first(),
        },
    )


@require_GET
def control_revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    revision = access.object_or_404(
        access.control_revisions_visible_to(request.user).select_related(
            "risk_point__institution", "risk_point__department", "risk_point__position", "proposed_by", "reviewed_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "risk_registry/control_revision_detail.html",
        {
            "revision": revision,
            "risk_point": revision.risk_point,
            "can_review": revision.is_pending and access.can_review_control_revision(request.user, revision),
        },
    )


@require_POST
def control_revision_review(request: HttpRequest, pk: int) -> HttpResponse:
    revision = access.object_or_404(
        access.control_revisions_visible_to(request.user).select_related("risk_point__institution"), pk=pk
    )
    access.require(access.can_review_control_revision(request.user, revision))
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to return the revision."))
        return redirect("control_revision_detail", pk=pk)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        revisions.control_revision_review(
            by=request.user, revision=revision, approve=approve, note=form.cleaned_data["note"]
        )
    except (ValidationError, WorkflowConflict) as error:
        text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    else:
        messages.success(
            request,
            _("The revision was approved: the point's controls are changed.")
            if approve
            else _("The revision was returned with your reason; nothing changed."),
        )
    return redirect("control_revision_detail", pk=pk)
