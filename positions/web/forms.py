"""Forms of the power inventory (清权), its process flows and the rotation of holders (轮岗交流)."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from positions.models import Holding, Position, PowerCategory, PowerItem, ProcessStep
from positions.services import StepRow
from risk_registry.organisation.models import Department, Institution
from risk_registry.organisation.names import person
from risk_registry.organisation.selectors import vocabulary_for

# Dates a record of the organisation may carry: nothing before the product's first registers, and
# nothing further ahead than a planned rotation.
EARLIEST_DATE = datetime.date(2000, 1, 1)
DAYS_AHEAD = 366


def check_date(value: datetime.date) -> datetime.date:
    latest = timezone.localdate() + datetime.timedelta(days=DAYS_AHEAD)
    if not EARLIEST_DATE <= value <= latest:
        raise forms.ValidationError(
            _("Give a date between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": latest}
        )
    return value


class PowerItemForm(forms.ModelForm):
    """A power of one institution's inventory; departments, positions and categories are its own."""

    class Meta:
        model = PowerItem
        fields = [
            "name",
            "category",
            "department",
            "positions",
            "legal_basis",
            "responsible_subject",
            "commitment",
            "discretion",
        ]
        widgets = {
            "positions": forms.SelectMultiple(attrs={"size": 8}),
            "legal_basis": forms.Textarea(attrs={"rows": 2}),
            "commitment": forms.Textarea(attrs={"rows": 2}),
            "discretion": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, institution: Institution, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        self.fields["category"].queryset = vocabulary_for(model=PowerCategory, institution=institution)
        self.fields["department"].queryset = (
            departments if departments is not None else Department.objects.filter(institution=institution)
        )
        self.fields["positions"].queryset = Position.objects.filter(institution=institution).select_related(
            "department"
        )
        self.fields["positions"].label_from_instance = lambda p: f"{p.department.name} · {p.title}"

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("positions")
        return data


class PowerRetireForm(forms.Form):
    on = forms.DateField(label=_("Retired on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_on(self):
        return check_date(self.cleaned_data["on"])


class ProcessStepForm(forms.ModelForm):
    delete = forms.BooleanField(label=_("Delete"), required=False)

    class Meta:
        model = ProcessStep
        fields = ["name", "condition", "handling_position", "time_limit", "supervision", "counterpart_rights"]
        widgets = {
            "supervision": forms.Textarea(attrs={"rows": 2}),
            "counterpart_rights": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, positions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handling_position"].queryset = positions
        self.fields["handling_position"].label_from_instance = lambda p: f"{p.department.name} · {p.title}"
        if self.instance.pk is None:
            self.empty_permitted = True
            self.use_required_attribute = False


class BaseStepFormSet(forms.BaseModelFormSet):
    def rows(self) -> list[StepRow]:
        """The steps in the order the user left them; blank new rows are skipped."""
        rows = []
        for form in self.forms:
            if form.instance.pk is None and not form.has_changed():
                continue
            values = {name: form.cleaned_data.get(name) for name in ProcessStepForm.Meta.fields}
            if form.instance.pk is None and not values["name"]:
                continue
            step = form.instance if form.instance.pk is not None else None
            rows.append(StepRow(step=step, delete=bool(form.cleaned_data.get("delete")), values=values))
        return rows


StepFormSet = forms.modelformset_factory(
    ProcessStep, form=ProcessStepForm, formset=BaseStepFormSet, extra=2, max_num=60, validate_max=True
)


class RotationForm(forms.Form):
    """One holder leaves a post (and may take another the same day), or a person takes a post."""

    class Kind:
        END = "end"
        ROTATE = "rotate"
        START = "start"

    KIND_CHOICES = [
        (Kind.ROTATE, _("Rotate: the holder moves to another post")),
        (Kind.END, _("End: the holder leaves the post")),
        (Kind.START, _("Start: a person takes a post")),
    ]
    kind = forms.ChoiceField(label=_("What happens"), choices=KIND_CHOICES)
    holding = forms.ModelChoiceField(label=_("Current holding"), queryset=Holding.objects.none(), required=False)
    user = forms.ModelChoiceField(label=_("Person"), queryset=get_user_model().objects.none(), required=False)
    position = forms.ModelChoiceField(label=_("New post"), queryset=Position.objects.none(), required=False)
    on = forms.DateField(label=_("On"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, institution: Institution, people, holdings, positions, **kwargs):
        """``holdings`` and ``positions``: what the user may see (the access module), narrowed here
        to the institution's open holdings and its posts."""
        super().__init__(*args, **kwargs)
        self.fields["holding"].queryset = holdings.filter(
            position__institution=institution, ended_on__isnull=True
        ).select_related("user", "position__department")
        self.fields["holding"].label_from_instance = lambda h: (
            f"{person(h.user)} · {h.position.department.name} · {h.position.title}"
        )
        self.fields["user"].queryset = people
        self.fields["user"].label_from_instance = person
        self.fields["position"].queryset = positions.filter(institution=institution).select_related("department")
        self.fields["position"].label_from_instance = lambda p: f"{p.department.name} · {p.title}"

    def clean_on(self):
        return check_date(self.cleaned_data["on"])

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        needs = {
            self.Kind.END: ("holding",),
            self.Kind.ROTATE: ("holding", "position"),
            self.Kind.START: ("user", "position"),
        }.get(kind, ())
        for name in needs:
            if not data.get(name):
                self.add_error(name, _("This field is required for what happens."))
        holding, position = data.get("holding"), data.get("position")
        if kind == self.Kind.ROTATE and holding and position and holding.position_id == position.pk:
            self.add_error("position", _("The new post is the post the person holds now."))
        return data
