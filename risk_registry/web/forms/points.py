"""Forms of the register pages. They parse and validate input; services do the writing."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from controls.models import Control, Rule
from positions.models import Position, PowerItem, ProcessStep
from risk_registry.models import FoundBy, RiskPoint
from risk_registry.organisation.colours import badge_ink
from risk_registry.organisation.models import Department, Institution, RiskType
from risk_registry.organisation.selectors import risk_types_for
from risk_registry.organisation.text import CleanTextMixin

_TEXTAREA = forms.Textarea(attrs={"rows": 3})


class StepChoiceField(forms.ModelChoiceField):
    """A process step named with its power item: steps of two items may share a name."""

    def label_from_instance(self, obj: ProcessStep) -> str:
        return f"{obj.power_item.name} · {obj}"


class RiskPointForm(CleanTextMixin, forms.Form):
    """A draft point on a position (or a department-level point when ``position`` is None)."""

    risk_type = forms.ModelChoiceField(label=_("Risk type"), queryset=RiskType.objects.none())
    found_by = forms.ChoiceField(label=_("How found"), choices=FoundBy.choices, initial=FoundBy.SELF)
    description = forms.CharField(label=_("Risk description"), widget=_TEXTAREA, max_length=2000)
    manifestation = forms.CharField(label=_("Manifestation"), widget=_TEXTAREA, max_length=2000, required=False)
    likelihood = forms.TypedChoiceField(label=_("Likelihood"), coerce=int, choices=())
    severity = forms.TypedChoiceField(label=_("Severity"), coerce=int, choices=())
    power_item = forms.ModelChoiceField(label=_("Power item"), queryset=PowerItem.objects.none(), required=False)
    process_step = StepChoiceField(label=_("Process step"), queryset=ProcessStep.objects.none(), required=False)
    # The version of the point the editor loaded: a save over someone else's change is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, institution: Institution, department: Department, position: Position | None, **kwargs):
        super().__init__(*args, **kwargs)
        scheme = institution.grading_scheme
        # The declared fields with their own types (``self.fields`` only knows them as Field).
        cast(forms.ModelChoiceField, self.fields["risk_type"]).queryset = risk_types_for(institution)
        self.scheme = scheme
        labels = (scheme.likelihood_labels, scheme.severity_labels) if scheme else ([], [])
        # No value chosen in advance: the holder must judge both (a preselected lowest value would
        # grade every point the holder skipped past as the least serious).
        choose = [("", _("— choose —"))]
        cast(forms.ChoiceField, self.fields["likelihood"]).choices = choose + list(enumerate(labels[0], start=1))
        cast(forms.ChoiceField, self.fields["severity"]).choices = choose + list(enumerate(labels[1], start=1))
        items = PowerItem.objects.filter(institution=institution)
        items = items.filter(positions=position) if position is not None else items.filter(department=department)
        cast(forms.ModelChoiceField, self.fields["power_item"]).queryset = items
        cast(forms.ModelChoiceField, self.fields["process_step"]).queryset = ProcessStep.objects.filter(
            power_item__in=items
        ).select_related("power_item")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        step, item = data.get("process_step"), data.get("power_item")
        if step is not None and (item is None or step.power_item_id != item.pk):
            self.add_error("process_step", _("Choose a step of the selected power item."))
        return data

    def level_preview(self) -> dict[str, dict[str, str]]:
        """``"likelihood-severity"`` → the level's name and colour, for the live preview while the
        holder chooses (static/js/risk-point-form.js); the server grades again on save."""
        if self.scheme is None:
            return {}
        levels = {level.code: level for level in self.scheme.levels.all()}
        preview = {}
        for likelihood, row in enumerate(self.scheme.matrix, start=1):
            for severity, code in enumerate(row, start=1):
                level = levels.get(code)
                if level is not None:
                    preview[f"{likelihood}-{severity}"] = {
                        "name": level.name,
                        "colour": level.colour,
                        "ink": badge_ink(level.colour),
                    }
        return preview

    def level_preview_json(self) -> str:
        """``level_preview`` for the page's data attribute (an inline script would break the CSP)."""
        return json.dumps(self.level_preview(), ensure_ascii=False)

    @classmethod
    def initial_from(cls, risk_point: RiskPoint) -> dict:
        return {
            "risk_type": risk_point.risk_type_id,
            "found_by": risk_point.found_by,
            "description": risk_point.description,
            "manifestation": risk_point.manifestation,
            "likelihood": risk_point.likelihood,
            "severity": risk_point.severity,
            "power_item": risk_point.power_item_id,
            "process_step": risk_point.process_step_id,
            "version": risk_point.version,
        }


class ControlForm(CleanTextMixin, forms.Form):
    """One control row; a row with an empty measure is ignored (blank extra rows)."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    line = forms.ChoiceField(label=_("Line of defence"), choices=Control.Line.choices)
    measure = forms.CharField(
        label=_("Measure"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
    owner = forms.CharField(label=_("Owner"), required=False, max_length=120)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=[("", "—"), *Control.Frequency.choices], required=False)
    evidence = forms.CharField(label=_("Evidence"), required=False, max_length=200)
    rule = forms.ModelChoiceField(label=_("Rule"), queryset=Rule.objects.none(), required=False)

    def __init__(self, *args, institution: Institution, rule_choices: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        rule = cast(forms.ModelChoiceField, self.fields["rule"])
        rule.queryset = Rule.objects.filter(institution=institution)
        if rule_choices is not None:  # read once by the formset for all its rows
            rule.choices = rule_choices
        label_row(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("id") and not (data.get("measure") or "").strip() and not data.get("DELETE"):
            self.add_error("measure", _("A control needs a measure; tick delete to remove it."))
        return data


def label_row(form: forms.Form) -> None:
    """A row of a table has no <label> per cell: each input is named by its column (aria-label)."""
    for field in form.fields.values():
        if not field.widget.is_hidden:
            field.widget.attrs.setdefault("aria-label", str(field.label))


class BaseControlFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        label_row(form)  # the formset's own "delete" box, added after the form's __init__

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        """The rules' choices are read once for all rows (each row's select would query them)."""
        kwargs = super().get_form_kwargs(index)
        choices = getattr(self, "_rule_choices", None)
        if choices is None and "institution" in kwargs:
            rules = Rule.objects.filter(institution=kwargs["institution"]).values_list("pk", "title")
            choices = self._rule_choices = [("", "---------"), *rules]
        return {**kwargs, "rule_choices": choices}


ControlFormSet = forms.formset_factory(
    ControlForm, formset=BaseControlFormSet, extra=2, can_delete=True, max_num=30, validate_max=True
)


def control_initial(risk_point: RiskPoint) -> list[dict]:
    return [
        {
            "id": c.pk,
            "line": c.line,
            "measure": c.measure,
            "owner": c.owner,
            "frequency": c.frequency,
            "evidence": c.evidence,
            "rule": c.rule_id,
        }
        for c in risk_point.controls.in_line_order()
    ]


def control_changes(formset) -> list[dict]:
    """The formset's rows as the dicts ``controls.services.control_apply_changes`` takes."""
    rows = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data:
            continue
        rows.append(
            {
                "id": data.get("id"),
                "delete": bool(data.get("DELETE")),
                "line": data["line"],
                "measure": (data.get("measure") or "").strip(),
                "owner": data.get("owner", ""),
                "frequency": data.get("frequency", ""),
                "evidence": data.get("evidence", ""),
                "rule": data.get("rule"),
            }
        )
    return rows
