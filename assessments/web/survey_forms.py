"""Forms of the study's measures: survey rounds, codes, the anonymous questionnaire, ratings."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assessments.rating import DEFAULT_INDICATORS, GRADE_LABELS, GRADES
from assessments.survey_models import PostGroup, Questionnaire, TimeBucket
from assessments.surveys import DEFAULT_BEHAVIOURS, MAX_CODES_PER_BATCH
from positions.models import Position
from risk_registry.organisation.dates import MAX_YEAR, MIN_YEAR
from risk_registry.organisation.models import Institution
from risk_registry.organisation.text import CleanTextMixin
from risk_registry.web.forms.choices import PersonChoiceField


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


def parse_indicators(text: str) -> dict[str, list[str]]:
    """Lines "因素：子指标、子指标" (a full-width or plain colon; 、, ， or , between sub-indicators)."""
    indicators: dict[str, list[str]] = {}
    for line in _lines(text):
        factor, colon, rest = line.replace("：", ":").partition(":")
        subs = [s.strip() for s in rest.replace("，", "、").replace(",", "、").split("、") if s.strip()]
        if not colon or not factor.strip() or not subs:
            raise ValidationError(_("Write each factor as 因素：子指标、子指标."))
        indicators[factor.strip()] = subs
    if not indicators:
        raise ValidationError(_("Write each factor as 因素：子指标、子指标."))
    return indicators


class RatingRoundForm(CleanTextMixin, forms.Form):
    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution"))
    year = forms.IntegerField(label=_("Year"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    name = forms.CharField(label=_("Name"), max_length=120)
    positions = forms.ModelMultipleChoiceField(
        queryset=Position.objects.none(),
        label=_("Posts rated"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    indicators = forms.CharField(
        label=_("Factors and sub-indicators, one factor a line"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        initial="\n".join(f"{factor}：{'、'.join(subs)}" for factor, subs in DEFAULT_INDICATORS.items()),
    )
    tier_1 = forms.DecimalField(label=_("Weight of tier 1 (closest relation)"), min_value=0, max_value=100, initial=0.5)
    tier_2 = forms.DecimalField(label=_("Weight of tier 2"), min_value=0, max_value=100, initial=0.3)
    tier_3 = forms.DecimalField(label=_("Weight of tier 3"), min_value=0, max_value=100, initial=0.2)

    def __init__(self, *args: Any, institutions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions
        cast(forms.ModelMultipleChoiceField, self.fields["positions"]).queryset = (
            Position.objects.filter(institution__in=institutions)
            .select_related("institution", "department")
            .order_by("institution__path", "department__name", "title")
        )

    def clean_indicators(self) -> dict[str, list[str]]:
        return parse_indicators(self.cleaned_data["indicators"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(f"tier_{n}" in data for n in (1, 2, 3)):
            weights = {str(n): float(data[f"tier_{n}"]) for n in (1, 2, 3)}
            try:
                validate_weights(weights)
            except ValidationError as error:
                self.add_error(None, error)
            data["tier_weights"] = weights
        institution, positions = data.get("institution"), data.get("positions")
        if institution and positions and any(p.institution_id != institution.pk for p in positions):
            self.add_error("positions", _("Choose posts of the institution."))
        return data


class RatingInviteForm(forms.Form):
    position = forms.ModelChoiceField(queryset=Position.objects.none(), label=_("Post"))
    rater = PersonChoiceField(queryset=get_user_model().objects.none(), label=_("Rater"))
    tier = forms.TypedChoiceField(
        label=_("Relation tier"),
        coerce=int,
        choices=[(1, _("Tier 1 (closest)")), (2, _("Tier 2")), (3, _("Tier 3"))],
    )

    def __init__(self, *args: Any, positions, raters, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["position"]).queryset = positions
        cast(forms.ModelChoiceField, self.fields["rater"]).queryset = raters


class RatingForm(forms.Form):
    """One select per sub-indicator, named f"{factor}|{sub}"."""

    def __init__(self, *args: Any, indicators: dict[str, list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        choices = [("", "—")] + [(grade, GRADE_LABELS[grade]) for grade in GRADES]
        for factor, subs in indicators.items():
            for sub in subs:
                self.fields[f"{factor}|{sub}"] = forms.ChoiceField(
                    label=sub, choices=choices, error_messages={"required": _("Grade every indicator.")}
                )

    def factor_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(factor, [self[f"{factor}|{sub}"] for sub in subs]) for factor, subs in self.indicators.items()]

    def grades(self) -> dict[str, dict[str, str]]:
        return {
            factor: {sub: self.cleaned_data[f"{factor}|{sub}"] for sub in subs}
            for factor, subs in self.indicators.items()
        }
