"""Forms of the warning pages: they parse and check input; the services decide."""

from __future__ import annotations

import datetime
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from integrity_warnings.grades import grades_of_scales
from integrity_warnings.ladder import Measure, SubjectKind
from integrity_warnings.models import Verification, WarningChannel, WarningGrade, WarningStatus
from integrity_warnings.selectors import SERIOUS
from integrity_warnings.services import DEFAULT_RESPONSE_DAYS, MAX_RESPONSE_DAYS
from positions.models import Position
from risk_registry.organisation.models import Band, Department, Institution
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.text import CleanTextMixin
from risk_registry.selectors import institutions_to_offer
from risk_registry.web.forms.choices import PersonChoiceField, RowChoices
from risk_registry.web.params import id_or_none

MONTH_FORMAT = "%Y-%m"


class BootstrapForm(CleanTextMixin, forms.Form):
    """Gives every widget Bootstrap's class (the templates render fields as Django draws them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs.setdefault("class", css)


class AttachmentForm(BootstrapForm):
    """A file for the written report; its type and size are checked by integrity_warnings.files."""

    file = forms.FileField(label=_("File (PDF, image, Word or Excel; at most 10 MB)"), allow_empty_file=True)


class PostChoiceField(forms.ModelChoiceField):
    """A post of one institution, named by its title; drawn from the titles alone (``RowChoices``)."""

    iterator = RowChoices
    columns = ("title",)

    def label_of_row(self, title: str) -> str:
        return title


class GradeChoiceField(forms.ModelChoiceField):
    """A level of a scale, named by its own label and its band; with the institution that set the
    scale when the choices come from several scales (二级 of one scale is not 二级 of another)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.several_scales = False

    def label_from_instance(self, obj: WarningGrade) -> str:
        label = str(obj)
        if self.several_scales:
            label += f" · {obj.institution.name if obj.institution else _('Default scale')}"
        return label


def _offer(field: forms.ModelChoiceField, objects: list) -> None:
    """Draw ``field``'s drop-down with ``objects`` only; the field still accepts any of its queryset."""
    iterator = field.iterator(field)
    field.widget.choices = [("", field.empty_label), *(iterator.choice(obj) for obj in objects)]


def _set_grades(field: forms.Field, institutions) -> None:
    grades = cast(GradeChoiceField, field)
    grades.queryset = grades_of_scales(institutions)
    grades.several_scales = len({grade.institution_id for grade in grades.queryset}) > 1


class LedgerFilterForm(BootstrapForm):
    """The ledger's filters. Each field is checked alone: a wrong value shows its error and the other
    filters still apply (``valid_filters``)."""

    channel = forms.ModelChoiceField(
        queryset=WarningChannel.objects.filter(is_active=True), required=False, label=_("Channel")
    )
    band = forms.ChoiceField(choices=[("", "---------"), *Band.choices], required=False, label=_("County-wide band"))
    grade = GradeChoiceField(queryset=WarningGrade.objects.none(), required=False, label=_("Grade"))
    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), required=False, label=_("Institution"))
    status = forms.ChoiceField(choices=[("", "---------"), *WarningStatus.choices], required=False, label=_("Status"))
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))
    month = forms.CharField(required=False, max_length=7, label=_("Month received (YYYY-MM)"))
    order = forms.ChoiceField(
        choices=[("", _("Newest first")), (SERIOUS, _("Most serious first"))], required=False, label=_("Order")
    )

    def __init__(self, *args, institutions, **kwargs):
        """``institutions``: those the user may see, each a valid filter. The drop-downs offer a
        bounded part of them (``institutions_to_offer``: a province office sees 10,000, whose every
        name and every scale's levels drawn cost the page 0.3 s) and the one asked for; the grades
        offered are the levels of those institutions' scales; a valid filter is any level of a
        scale in reach: the default's, one set by a visible institution or by an ancestor of those
        offered (never another part of the tree's, whose owner its label would name)."""
        super().__init__(*args, **kwargs)
        institution = cast(forms.ModelChoiceField, self.fields["institution"])
        institution.queryset = institutions
        offered = institutions_to_offer(institutions)
        asked = self._asked("institution", offered)
        _offer(institution, offered + asked)
        grade = cast(GradeChoiceField, self.fields["grade"])
        ancestors = {pk for shown in offered + asked for pk in path_ids(shown.path)}
        grade.queryset = WarningGrade.objects.filter(
            Q(institution__isnull=True) | Q(institution__in=institutions) | Q(institution_id__in=ancestors)
        ).select_related("institution")
        levels = list(grades_of_scales(offered + asked))
        grade.several_scales = len({level.institution_id for level in levels}) > 1
        _offer(grade, levels + self._asked("grade", levels))

    def _asked(self, name: str, offered: list) -> list:
        """What the bound form asks for by field ``name`` when it is not ``offered`` (if it exists)."""
        pk = id_or_none(self.data.get(self.add_prefix(name))) if self.is_bound else None
        if pk is None or any(obj.pk == pk for obj in offered):
            return []
        queryset = cast(forms.ModelChoiceField, self.fields[name]).queryset
        return list(queryset.filter(pk=pk)) if queryset is not None else []

    def valid_filters(self) -> dict:
        """The filters whose values are valid; the wrong ones keep their errors on the form."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    def clean_month(self) -> datetime.date | None:
        value = self.cleaned_data["month"].strip()
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, MONTH_FORMAT).date()
        except ValueError:
            raise forms.ValidationError(_("Write the month as year-month, e.g. 2026-03.")) from None


class WarningItemForm(BootstrapForm):
    institution = forms.ModelChoiceField(queryset=Institution.objects.none(), label=_("Institution"))
    channel = forms.ModelChoiceField(queryset=WarningChannel.objects.filter(is_active=True), label=_("Channel"))
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    grade = GradeChoiceField(queryset=WarningGrade.objects.none(), label=_("Grade"))
    subject_kind = forms.ChoiceField(choices=SubjectKind.choices, label=_("About"))
    subject_user = PersonChoiceField(queryset=get_user_model().objects.none(), required=False, label=_("Person (user)"))
    subject_name = forms.CharField(required=False, max_length=60, label=_("Person (name, without an account)"))
    subject_position = PostChoiceField(queryset=Position.objects.none(), required=False, label=_("Position"))
    subject_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, label=_("Department")
    )
    source = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label=_("Source")
    )
    facts = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=10000, label=_("Facts"))

    def __init__(self, *args, institutions, people, positions, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["institution"]).queryset = institutions
        cast(forms.ModelChoiceField, self.fields["subject_user"]).queryset = people
        cast(forms.ModelChoiceField, self.fields["subject_position"]).queryset = positions
        cast(forms.ModelChoiceField, self.fields["subject_department"]).queryset = Department.objects.filter(
            institution__in=institutions
        )
        _set_grades(self.fields["grade"], institutions)


class VerifyForm(BootstrapForm):
    verification = forms.ChoiceField(
        choices=[c for c in Verification.choices if c[0] != Verification.PENDING], label=_("Verification")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class GrantForm(BootstrapForm):
    user = PersonChoiceField(queryset=get_user_model().objects.none(), label=_("Handler"))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = candidates


class IssueForm(BootstrapForm):
    measure = forms.ChoiceField(choices=(), label=_("Measure"))
    recipient_user = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label=_("Recipient (user)")
    )
    recipient_name = forms.CharField(max_length=120, label=_("Recipient as written on the notice"))
    notice_facts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        label=_("Facts stated in the notice"),
        help_text=_("The recipient reads this: never name who reported."),
    )
    requirement = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label=_("Requirement"))
    reason = forms.CharField(
        required=False, max_length=500, label=_("Why this rung"), help_text=_("Required when moving up the ladder.")
    )
    response_days = forms.IntegerField(
        min_value=1, max_value=MAX_RESPONSE_DAYS, initial=DEFAULT_RESPONSE_DAYS, label=_("Working days to answer")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, measures, people, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["measure"]).choices = [(m, Measure(m).label) for m in measures]
        cast(forms.ModelChoiceField, self.fields["recipient_user"]).queryset = people


class StepForm(BootstrapForm):
    """One step of a disposition: the report (respond) or the office's decision."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=500, label=_("Reason"))
    cause_analysis = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, label=_("Cause analysis")
    )
    measures_taken = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, label=_("Corrective measures")
    )
    response_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_RESPONSE_DAYS, label=_("Working days to answer")
    )


class GradeLevelForm(BootstrapForm):
    """One level of a warning grade scale on the editing page (the service checks the whole scale)."""

    pk = forms.IntegerField(required=False, widget=forms.HiddenInput, label=_("Level"))
    label = forms.CharField(required=False, max_length=20, label=_("Label"))
    rank = forms.IntegerField(required=False, min_value=1, max_value=99, label=_("Rank (1 = most serious)"))
    band = forms.ChoiceField(choices=[("", "---------"), *Band.choices], required=False, label=_("County-wide band"))
    delete = forms.BooleanField(required=False, label=_("Delete"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # a table row: the column heading is the visible label
            field.widget.attrs.setdefault("aria-label", str(field.label))

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return data.get("pk") is None and not data.get("label", "").strip() and data.get("rank") is None

    def clean(self):
        data = super().clean() or {}
        if self.errors or self.is_blank() or data.get("delete"):
            return data
        if not data.get("label", "").strip():
            self.add_error("label", _("Every level needs a label."))
        if data.get("rank") is None:
            self.add_error("rank", _("Give the level its rank."))
        if not data.get("band"):
            self.add_error("band", _("Choose the county-wide band of every level."))
        return data


GradeLevelFormSet = forms.formset_factory(GradeLevelForm, extra=2, max_num=30, absolute_max=30)
