"""The page where a discipline office edits its warning grade scale (the county's own configuration)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from integrity_warnings.grades import LevelRow, scale_of, scale_owner, warning_grades_save
from integrity_warnings.web.forms import GradeLevelForm, GradeLevelFormSet
from risk_registry import access as risk_access


def _rows(formset) -> list[LevelRow]:
    forms = [cast(GradeLevelForm, form) for form in formset.forms]
    return [
        LevelRow(
            pk=form.cleaned_data.get("pk"),
            label=form.cleaned_data.get("label", ""),
            rank=form.cleaned_data.get("rank") or 0,
            band=form.cleaned_data.get("band", ""),
            delete=bool(form.cleaned_data.get("delete")),
        )
        for form in forms
        if form.cleaned_data and not form.is_blank()
    ]


@require_http_methods(["GET", "POST"])
def warning_grades_edit(request: HttpRequest, code: str) -> HttpResponse:
    """404 outside the reader's scope, 403 to anyone but the institution's discipline office."""
    institution = risk_access.object_or_404(risk_access.institutions_visible_to(request.user), code=code)
    risk_access.require(risk_access.is_discipline_office_for(request.user, institution))
    scale = scale_of(institution)
    initial = [{"pk": g.pk, "label": g.label, "rank": g.rank, "band": g.band} for g in scale]
    formset = GradeLevelFormSet(request.POST or None, initial=initial, prefix="levels")
    if request.method == "POST" and formset.is_valid():
        try:
            warning_grades_save(by=request.user, institution=institution, rows=_rows(formset))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The warning grade scale was saved."))
            return redirect("warning_grades", code=institution.code)
    owner = scale_owner(institution, scale)
    return render(
        request,
        "warnings/grades.html",
        {"institution": institution, "formset": formset, "owner": owner, "own": owner == institution},
    )
