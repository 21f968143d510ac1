"""The discipline office's forms on the post grades page: confirm proposals in bulk, decide one."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from risk_registry.models import PostGradeLevel
from risk_registry.organisation.text import CleanTextMixin


class ConfirmForm(CleanTextMixin, forms.Form):
    grades = forms.TypedMultipleChoiceField(
        label=_("Posts"),
        coerce=int,
        error_messages={"required": _("Choose at least one post to confirm.")},
    )

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grades"].choices = choices  # type: ignore[attr-defined]


class DecideForm(CleanTextMixin, forms.Form):
    grade = forms.ChoiceField(label=_("Decided grade"), choices=PostGradeLevel.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=500,
        widget=forms.TextInput,
        help_text=_("Required when the decided grade differs from the proposal."),
    )
