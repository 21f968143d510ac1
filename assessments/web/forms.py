"""Forms of the annual cycle: launch and edit (five phases and the schedule), self-assessment."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from assessments.models import Cycle
from assessments.services import DEFAULT_PHASES, PhaseSpec, default_phases, phases_check_year
from risk_registry.organisation.models import Institution
from risk_registry.organisation.text import CleanTextMixin


def _days(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(_("Write whole numbers of days separated by commas, e.g. 7, 1.")) from None


class CycleForm(CleanTextMixin, forms.Form):
    """The cycle's name, schedule and the five phases' names and dates (fields phase_<n>_*)."""

    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution"), required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    reminder_days = forms.CharField(label=_("Remind the owner, days before the due date"), initial="7, 1")
    supervisor_after_days = forms.IntegerField(label=_("Tell the supervisor, days overdue"), min_value=1, initial=1)
    discipline_after_days = forms.IntegerField(
        label=_("Tell the discipline office, days overdue"), min_value=1, initial=7
    )
    confirm_late = forms.BooleanField(
        label=_("Launch late: some deadlines are already past"),
        required=False,
        help_text=_("Tasks already due get a grace period before any reminder or escalation."),
    )

    def __init__(self, *args, institutions=None, year: int, cycle: Cycle | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cycle = cycle
        if cycle is None:
            cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions
            self.fields["institution"].required = True
            self.fields["year"].required = True
            self.fields["year"].initial = year
            first_two = list(institutions[:2])
            if len(first_two) == 1:
                self.fields["institution"].initial = first_two[0].pk
            specs = default_phases(year)
        else:
            del self.fields["institution"], self.fields["year"], self.fields["confirm_late"]
            self.initial.update(
                name=cycle.name,
                reminder_days=", ".join(str(d) for d in cycle.reminder_days),
                supervisor_after_days=cycle.supervisor_after_days,
                discipline_after_days=cycle.discipline_after_days,
            )
            specs = [PhaseSpec(p.kind, p.name, p.starts_on, p.due_on) for p in cycle.phases.all()]
        self.phase_rows = []
        for n, spec in enumerate(specs, start=1):
            self.fields[f"phase_{n}_name"] = forms.CharField(
                label=_("Phase %(n)d") % {"n": n}, max_length=80, initial=spec.name
            )
            self.fields[f"phase_{n}_starts_on"] = forms.DateField(
                label=_("from"), initial=spec.starts_on, widget=forms.DateInput(attrs={"type": "date"})
            )
            self.fields[f"phase_{n}_due_on"] = forms.DateField(
                label=_("due"), initial=spec.due_on, widget=forms.DateInput(attrs={"type": "date"})
            )
            self.phase_rows.append((self[f"phase_{n}_name"], self[f"phase_{n}_starts_on"], self[f"phase_{n}_due_on"]))

    def clean_reminder_days(self) -> list[int]:
        return _days(self.cleaned_data["reminder_days"])

    def clean(self) -> dict[str, Any]:
        """The phases must belong to the cycle's year: the error stands on the first phase's dates."""
        data = super().clean() or {}
        year = self.cycle.year if self.cycle is not None else data.get("year")
        parts = ("name", "starts_on", "due_on")
        fields = [f"phase_{n}_{part}" for n in range(1, len(DEFAULT_PHASES) + 1) for part in parts]
        if year and all(name in data for name in fields):
            try:
                phases_check_year(year, self.phases())
            except ValidationError as error:
                self.add_error("phase_1_starts_on", error)
        return data

    def phases(self) -> list[PhaseSpec]:
        data = self.cleaned_data
        return [
            PhaseSpec(kind, data[f"phase_{n}_name"], data[f"phase_{n}_starts_on"], data[f"phase_{n}_due_on"])
            for n, (kind, *_rest) in enumerate(DEFAULT_PHASES, start=1)
        ]


class CycleCloseForm(CleanTextMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for closing before every register is filed"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required only while some institutions have not filed; recorded in the audit trail."),
    )


class SelfAssessmentForm(CleanTextMixin, forms.Form):
    summary = forms.CharField(
        label=_("Self-assessment"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Leading group and responsibilities, depth of the risk search, controls, warnings, rules, "
            "supervision and results."
        ),
    )
