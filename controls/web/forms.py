"""The form of a control run."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from controls.models import ControlRun
from controls.services import RUN_DESCRIPTION_MAX as DESCRIPTION_MAX
from risk_registry.organisation.dates import EARLIEST_DATE
from risk_registry.organisation.text import CleanTextMixin


class ControlRunForm(CleanTextMixin, forms.ModelForm):
    """A run: when (2000-01-01 at the earliest, today at the latest, each refusal saying why) and
    how, bounded. The service refuses the future too; the form says it beside the date."""

    description = forms.CharField(
        label=_("how it ran"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean_ran_on(self):
        ran_on = self.cleaned_data["ran_on"]
        if ran_on > self.today:
            raise forms.ValidationError(
                _(
                    "%(date)s is in the future: record a run once it has taken place, "
                    "dated on the day it ran (today is %(today)s at the latest)."
                )
                % {"date": ran_on.isoformat(), "today": self.today.isoformat()}
            )
        if ran_on < EARLIEST_DATE:
            raise forms.ValidationError(
                _("A run cannot be dated before %(date)s.") % {"date": EARLIEST_DATE.isoformat()}
            )
        return ran_on

    class Meta:
        model = ControlRun
        fields = ["ran_on", "description", "evidence"]
        widgets = {
            "ran_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"ran_on": _("Ran on")}
