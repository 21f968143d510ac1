"""The grading matrix editor of an institution (the discipline office's page)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from risk_registry import access, selectors, services
from risk_registry.models import RiskPointState
from risk_registry.organisation.models import Band, GradeLevel
from risk_registry.organisation.presets import GRADING_PRESETS, default_band
from risk_registry.web.forms.grading import GradingMatrixForm, GradingSwitchForm, band_name, cell_name


@dataclass(frozen=True)
class Cell:
    field: object  # the bound field
    level: GradeLevel | None  # the level the cell names today
    points: int  # live points of this year and later in the cell: flagged if the cell changes


@require_http_methods(["GET", "POST"])
def grading_scheme_edit(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(
        access.institutions_visible_to(request.user).select_related("grading_scheme"), code=code
    )
    access.require(access.can_edit_grading_scheme(request.user, institution))
    scheme = institution.grading_scheme
    if scheme is None or scheme.institution_id != institution.pk:
        messages.error(request, _("This institution has not adopted a grading scheme yet."))
        return redirect("institution_detail", code=institution.code)
    levels = list(scheme.levels.all())
    form = GradingMatrixForm(request.POST or None, scheme=scheme, levels=levels)
    if request.method == "POST" and form.is_valid():
        try:
            flagged = services.grading_scheme_edit(
                by=request.user, institution=institution, matrix=form.matrix(), bands=form.bands()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext(
                    "The grading scheme was saved; %(count)d risk point was flagged for re-grading.",
                    "The grading scheme was saved; %(count)d risk points were flagged for re-grading.",
                    flagged,
                )
                % {"count": flagged},
            )
            return redirect("grading_scheme_edit", code=institution.code)
    by_code = {level.code: level for level in levels}
    counts = {
        (row["likelihood"], row["severity"]): row["total"]
        for row in access.risk_points_visible_to(request.user)
        .filter(institution=institution, year__gte=selectors.current_year())
        .exclude(state=RiskPointState.DRAFT)
        .order_by()
        .values("likelihood", "severity")
        .annotate(total=Count("id"))
    }
    rows = [
        (
            label,
            [
                Cell(field=form[cell_name(li, s)], level=by_code.get(code), points=counts.get((li, s), 0))
                for s, code in enumerate(scheme.matrix[li - 1], start=1)
            ],
        )
        for li, label in reversed(list(enumerate(scheme.likelihood_labels, start=1)))
    ]
    return render(
        request,
        "risk_registry/grading_edit.html",
        {
            "institution": institution,
            "scheme": scheme,
            "form": form,
            "rows": rows,
            "levels": [(level, form[band_name(level)]) for level in levels],
        },
    )


@dataclass(frozen=True)
class PresetLevel:
    name: str
    band: str
    band_label: str


def _preset_levels(preset: dict) -> list[PresetLevel]:
    levels = sorted(preset["levels"], key=lambda level: level["rank"])
    bands = [level.get("band") or default_band(n, len(levels)) for n, level in enumerate(levels, start=1)]
    return [PresetLevel(level["name"], band, str(Band(band).label)) for level, band in zip(levels, bands, strict=True)]


@require_http_methods(["GET", "POST"])
def grading_scheme_switch(request: HttpRequest, code: str) -> HttpResponse:
    """Switch an institution to another preset: a preview (GET ?preset=) of its levels and of the
    filed points that will be flagged for re-grading, then the switch (POST, confirmed). Never
    rewrites a point's level (``services.grading_scheme_switch``)."""
    institution = access.object_or_404(
        access.institutions_visible_to(request.user).select_related("grading_scheme"), code=code
    )
    access.require(access.can_edit_grading_scheme(request.user, institution))
    data = request.POST if request.method == "POST" else (request.GET if "preset" in request.GET else None)
    form = GradingSwitchForm(data, presets=GRADING_PRESETS)
    preset = None
    if form.is_bound and form.is_valid():
        preset = next(p for p in GRADING_PRESETS if p["code"] == form.cleaned_data["preset"])
        if request.method == "POST" and not form.cleaned_data["confirm"]:
            form.add_error("confirm", _("Confirm that the points will be flagged for re-grading."))
        elif request.method == "POST":
            flagged = services.grading_scheme_switch(
                by=request.user, institution=institution, preset_code=preset["code"]
            )
            messages.success(
                request,
                ngettext(
                    "The institution now grades with %(name)s; %(count)d risk point was flagged for re-grading.",
                    "The institution now grades with %(name)s; %(count)d risk points were flagged for re-grading.",
                    flagged,
                )
                % {"name": preset["name"], "count": flagged},
            )
            return redirect("grading_scheme_edit", code=institution.code)
    current = institution.grading_scheme
    context = {
        "institution": institution,
        "form": form,
        "current": current,
        "current_levels": list(current.levels.order_by("rank")) if current else [],
        "preset": preset,
        "same": preset is not None and current is not None and current.code == preset["code"],
    }
    if preset is not None:
        context["preset_levels"] = _preset_levels(preset)
        context["flagged"] = selectors.points_a_switch_flags(
            institution=institution, preset_code=preset["code"]
        ).count()
    return render(request, "risk_registry/grading_switch.html", context)
