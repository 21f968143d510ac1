"""Forms of the unit assessment: checklists, opening, self-scoring, the office's assessment,
evidence files and outcomes. Item fields are named by the item's id (``score_<id>`` …)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assessments.models import Checklist, EvidenceSource, UnitItem, UnitOutcome
from assessments.unit import RECORD_LABELS, AssessedScore, ItemSpec, SelfScore
from risk_registry.organisation.models import Institution
from risk_registry.organisation.text import CleanTextMixin

SAVE, SUBMIT = "save", "submit"


def _score_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=1,
        max_digits=4,
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0", "max": "100", "class": "form-control"}),
    )


class ChecklistAdoptForm(CleanTextMixin, forms.Form):
    checklist = forms.ModelChoiceField(queryset=Checklist.objects.none(), label=_("Copy of"))
    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("For the office of"))

    def __init__(self, *args, checklists, institutions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["checklist"]).queryset = checklists
        cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions


def grade_bands_text(bands: list[dict]) -> str:
    return "，".join(f"{band['name']} {band['min']}" for band in bands)


def _parse_bands(text: str) -> list[dict[str, Any]]:
    bands = []
    for part in text.replace("，", ",").replace("、", ",").split(","):
        if not part.strip():
            continue
        name, _sep, minimum = part.strip().rpartition(" ")
        try:
            bands.append({"name": name.strip(), "min": Decimal(minimum)})
        except ArithmeticError:
            raise ValidationError(
                _(
                    "Write each grade as a name and its minimum score, separated by commas: "
                    "优秀 90, 良好 80, 合格 60, 不合格 0."
                )
            ) from None
    return bands


class ChecklistForm(CleanTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    grades = forms.CharField(
        label=_("Grades and their minimum totals"),
        max_length=200,
        help_text=_("A name and its minimum total each, separated by commas; one grade must start at 0."),
    )

    def clean_grades(self) -> list[dict[str, Any]]:
        return _parse_bands(self.cleaned_data["grades"])


class ChecklistItemForm(CleanTextMixin, forms.Form):
    title = forms.CharField(label=_("Item"), max_length=120)
    weight = forms.DecimalField(label=_("Weight"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2)
    evidence = forms.ChoiceField(label=_("Figure from the product"), choices=EvidenceSource.choices, required=False)
    guidance = forms.CharField(
        label=_("Guidance"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def spec(self) -> ItemSpec:
        data = self.cleaned_data
        return ItemSpec(data["title"], data["weight"], data.get("guidance", ""), data.get("evidence", ""))


ChecklistItemFormSet = forms.formset_factory(
    ChecklistItemForm, extra=1, can_delete=True, max_num=30, validate_max=True, min_num=1, validate_min=True
)


class ChecklistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.institution.name if obj.institution_id else obj.source}）"


class UnitOpenForm(CleanTextMixin, forms.Form):
    checklist = ChecklistChoiceField(queryset=Checklist.objects.none(), label=_("Checklist"))

    def __init__(self, *args, checklists, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["checklist"]).queryset = checklists


class SelfScoreForm(CleanTextMixin, forms.Form):
    """Per item: a score 0–100, a note, the records it points to."""

    def __init__(self, *args, items: list[UnitItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"score_{item.pk}"] = _score_field(_("Self score"))
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note and evidence"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            self.fields[f"records_{item.pk}"] = forms.MultipleChoiceField(
                label=_("Records in the product"),
                required=False,
                choices=list(RECORD_LABELS.items()),
                widget=forms.CheckboxSelectMultiple,
            )
            self.initial.update(
                {
                    f"score_{item.pk}": item.self_score,
                    f"note_{item.pk}": item.self_note,
                    f"records_{item.pk}": item.records,
                }
            )

        for bound in self.fields.values():  # the inputs sit in the items' cards, outside the <form>
            bound.widget.attrs["form"] = "self-form"

    def rows(self) -> list[tuple[UnitItem, Any, Any, Any]]:
        return [(i, self[f"score_{i.pk}"], self[f"note_{i.pk}"], self[f"records_{i.pk}"]) for i in self.items]

    def scores(self) -> list[SelfScore]:
        data = self.cleaned_data
        return [
            SelfScore(i.pk, data[f"score_{i.pk}"], data[f"note_{i.pk}"], tuple(data[f"records_{i.pk}"]))
            for i in self.items
        ]


class AssessForm(CleanTextMixin, forms.Form):
    """The office's score and findings per item, and its conclusion."""

    conclusion = forms.CharField(
        label=_("Conclusion"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, items: list[UnitItem], conclusion: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        self.initial["conclusion"] = conclusion
        for item in items:
            self.fields[f"final_{item.pk}"] = _score_field(_("Assessed score"))
            self.fields[f"findings_{item.pk}"] = forms.CharField(
                label=_("Findings"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            self.initial.update({f"final_{item.pk}": item.final_score, f"findings_{item.pk}": item.findings})

        for bound in self.fields.values():  # the inputs sit in the items' cards, outside the <form>
            bound.widget.attrs["form"] = "assess-form"

    def rows(self) -> list[tuple[UnitItem, Any, Any]]:
        return [(i, self[f"final_{i.pk}"], self[f"findings_{i.pk}"]) for i in self.items]

    def scores(self) -> list[AssessedScore]:
        data = self.cleaned_data
        return [AssessedScore(i.pk, data[f"final_{i.pk}"], data[f"findings_{i.pk}"]) for i in self.items]


class EvidenceForm(CleanTextMixin, forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx)."))


class OutcomeForm(CleanTextMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Outcome"), choices=UnitOutcome.Kind.choices)
    text = forms.CharField(label=_("Details"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = forms.DateField(
        label=_("Deadline (rectification)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    warning_number = forms.CharField(label=_("Warning ledger number (accountability)"), required=False, max_length=40)


class RectifiedForm(CleanTextMixin, forms.Form):
    note = forms.CharField(label=_("How it was rectified"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
