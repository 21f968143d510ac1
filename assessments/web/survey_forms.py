"""Forms of the study's measures: survey rounds, codes, the anonymous questionnaire, ratings."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assessments.survey_models import PostGroup, Questionnaire, TimeBucket
from assessments.surveys import DEFAULT_BEHAVIOURS, MAX_CODES_PER_BATCH
from risk_registry.organisation.dates import MAX_YEAR, MIN_YEAR
from risk_registry.organisation.models import Institution
from risk_registry.organisation.text import CleanTextMixin


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class SurveyRoundForm(CleanTextMixin, forms.Form):
    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution"))
    year = forms.IntegerField(label=_("Year"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    name = forms.CharField(label=_("Name"), max_length=120)
    external = forms.CharField(
        label=_("External questionnaire: behaviours, one a line"),
        widget=forms.Textarea(attrs={"rows": 6}),
        initial="\n".join(DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]),
        max_length=2000,
    )
    internal = forms.CharField(
        label=_("Internal questionnaire: behaviours, one a line"),
        widget=forms.Textarea(attrs={"rows": 4}),
        initial="\n".join(DEFAULT_BEHAVIOURS[Questionnaire.INTERNAL]),
        max_length=2000,
    )
    time_bucket = forms.ChoiceField(label=_("Answer time kept as"), choices=TimeBucket.choices, initial=TimeBucket.WEEK)
    min_group = forms.IntegerField(
        label=_("Smallest group shown"),
        min_value=3,
        max_value=100,
        initial=5,
        help_text=_("A group with fewer valid answers than this shows no figures (at least 3)."),
    )

    def __init__(self, *args: Any, institutions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions

    def behaviours(self) -> dict[str, list[str]]:
        return {
            Questionnaire.EXTERNAL: _lines(self.cleaned_data["external"]),
            Questionnaire.INTERNAL: _lines(self.cleaned_data["internal"]),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("external", "internal"):
            labels = _lines(data.get(name, ""))
            if name in data and len(set(labels)) != len(labels):
                self.add_error(name, _("A questionnaire lists the same behaviour twice."))
            if any(len(label) > 60 for label in labels):
                self.add_error(name, _("A behaviour is at most 60 characters."))
        return data


class SurveyCodesForm(forms.Form):
    questionnaire = forms.ChoiceField(label=_("Questionnaire"), choices=Questionnaire.choices)
    group = forms.ChoiceField(label=_("Post group"), choices=PostGroup.choices)
    count = forms.IntegerField(label=_("Number of codes"), min_value=1, max_value=MAX_CODES_PER_BATCH, initial=20)


class SurveyCodeForm(CleanTextMixin, forms.Form):
    """The code a respondent types (or the sheet's link fills in)."""

    code = forms.CharField(label=_("Your code"), max_length=32)


class SurveyAnswerForm(CleanTextMixin, forms.Form):
    """The questionnaire: one question per behaviour, and the closing control question."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args: Any, behaviours: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.behaviours = behaviours
        choices = [("yes", _("Yes, I have")), ("no", _("No")), ("unsure", _("Not sure"))]
        for index, label in enumerate(behaviours):
            self.fields[f"b{index}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Answer this question.")},
            )
        self.fields["overall"] = forms.ChoiceField(
            label=_("Taken together: in the past year, have you yourself met any of the above?"),
            choices=[("yes", _("Yes")), ("no", _("No"))],
            widget=forms.RadioSelect,
            error_messages={"required": _("Answer this question.")},
        )

    def behaviour_fields(self) -> list[forms.BoundField]:
        return [self[f"b{index}"] for index in range(len(self.behaviours))]

    def answers(self) -> dict[str, str]:
        return {label: self.cleaned_data[f"b{index}"] for index, label in enumerate(self.behaviours)}

    def overall(self) -> bool:
        return self.cleaned_data["overall"] == "yes"


def validate_weights(weights: dict[str, float]) -> None:
    if any(weight < 0 for weight in weights.values()) or sum(weights.values()) <= 0:
        raise ValidationError(_("Weights are zero or more, and not all zero."))
