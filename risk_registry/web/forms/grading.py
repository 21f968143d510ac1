"""The grading matrix editor's form: one choice per cell of the matrix, one band per level."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from risk_registry.organisation.models import Band, GradeLevel, GradingScheme
from risk_registry.organisation.text import CleanTextMixin


def cell_name(likelihood: int, severity: int) -> str:
    return f"cell_{likelihood}_{severity}"


def band_name(level: GradeLevel) -> str:
    return f"band_{level.pk}"


class GradingMatrixForm(CleanTextMixin, forms.Form):
    """Fields ``cell_<likelihood>_<severity>`` (both from 1) name a level code of the scheme;
    ``band_<level id>`` its band. Built from the scheme, so a crafted code or band is refused."""

    def __init__(self, data=None, *, scheme: GradingScheme, levels: list[GradeLevel]) -> None:
        super().__init__(data)
        self.scheme, self.levels = scheme, levels
        choices = [(level.code, level.name) for level in levels]
        for likelihood, row in enumerate(scheme.matrix, start=1):
            for severity, code in enumerate(row, start=1):
                self.fields[cell_name(likelihood, severity)] = forms.ChoiceField(
                    label=f"{scheme.likelihood_labels[likelihood - 1]} × {scheme.severity_labels[severity - 1]}",
                    choices=choices,
                    initial=code,
                    error_messages={"invalid_choice": _("Choose one of the scheme's levels for every cell.")},
                )
        for level in levels:
            self.fields[band_name(level)] = forms.ChoiceField(
                label=level.name,
                choices=Band.choices,
                initial=level.band,
                error_messages={"invalid_choice": _("Choose high, medium or low for every level.")},
            )

    def matrix(self) -> list[list[str]]:
        rows, columns = len(self.scheme.likelihood_labels), len(self.scheme.severity_labels)
        return [[self.cleaned_data[cell_name(li, s)] for s in range(1, columns + 1)] for li in range(1, rows + 1)]

    def bands(self) -> dict[str, str]:
        return {level.code: self.cleaned_data[band_name(level)] for level in self.levels}


class GradingSwitchForm(CleanTextMixin, forms.Form):
    """Switch the institution to another grading preset: the preset, and on saving the confirmation."""

    preset = forms.ChoiceField(label=_("Grading preset"))
    confirm = forms.BooleanField(required=False, label=_("I have read what changes"))

    def __init__(self, *args, presets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(p["code"], p["name"]) for p in presets]  # type: ignore[attr-defined]
