"""The form of a control run."""

from django import forms
from django.utils.translation import gettext_lazy as _

from controls.models import ControlRun
from risk_registry.organisation.text import CleanTextMixin


class ControlRunForm(CleanTextMixin, forms.ModelForm):
    class Meta:
        model = ControlRun
        fields = ["ran_on", "description", "evidence"]
        widgets = {
            "ran_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"ran_on": _("Ran on")}
