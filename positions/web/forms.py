"""Forms of the power inventory (清权), its process flows and the rotation of holders (轮岗交流)."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from controls import attachments
from controls.models import Rule
from positions.models import Disclosure, Holding, Position, PowerCategory, PowerItem, ProcessStep
from positions.services import StepRow
from risk_registry.organisation.dates import EARLIEST_DATE
from risk_registry.organisation.models import Department, Institution
from risk_registry.organisation.names import person, person_named
from risk_registry.organisation.selectors import vocabulary_for
from risk_registry.organisation.text import CleanTextMixin
from risk_registry.organisation.users import User
from risk_registry.web.forms.choices import PersonChoiceField, RowChoices

# Dates a record of the organisation may carry: nothing before the product's first registers, and
# nothing further ahead than a planned rotation.
DAYS_AHEAD = 366


def check_date(value: datetime.date) -> datetime.date:
    latest = timezone.localdate() + datetime.timedelta(days=DAYS_AHEAD)
    if not EARLIEST_DATE <= value <= latest:
        raise forms.ValidationError(
            _("Give a date between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": latest}
        )
    return value


def _position_label(position: Position) -> str:
    return f"{position.department.name} · {position.title}"


class PositionChoiceField(forms.ModelChoiceField):
    """A post named with its department (two departments may have posts of the same title)."""

    iterator = RowChoices
    columns = ("department__name", "title")

    def label_of_row(self, department: str, title: str) -> str:
        return f"{department} · {title}"

    def label_from_instance(self, obj: Position) -> str:
        return _position_label(obj)


class PositionsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Position) -> str:
        return _position_label(obj)


class HoldingChoiceField(forms.ModelChoiceField):
    iterator = RowChoices
    columns = ("user__last_name", "user__first_name", "user__username", "position__department__name", "position__title")

    def label_of_row(self, last_name: str, first_name: str, username: str, department: str, title: str) -> str:
        return f"{person_named(last_name, first_name, username)} · {department} · {title}"

    def label_from_instance(self, obj: Holding) -> str:
        return f"{person(obj.user)} · {_position_label(obj.position)}"


class PowerItemForm(CleanTextMixin, forms.ModelForm):
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
        field_classes = {"positions": PositionsChoiceField}
        widgets = {
            "positions": forms.SelectMultiple(attrs={"size": 8}),
            "legal_basis": forms.Textarea(attrs={"rows": 2}),
            "commitment": forms.Textarea(attrs={"rows": 2}),
            "discretion": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, institution: Institution, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        # The fields with their own types (``self.fields`` only knows them as Field).
        category = cast(forms.ModelChoiceField, self.fields["category"])
        category.queryset = vocabulary_for(model=PowerCategory, institution=institution)
        cast(forms.ModelChoiceField, self.fields["department"]).queryset = (
            departments if departments is not None else Department.objects.filter(institution=institution)
        )
        cast(PositionsChoiceField, self.fields["positions"]).queryset = Position.objects.filter(
            institution=institution
        ).select_related("department")

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("positions")
        return data


class PowerRetireForm(CleanTextMixin, forms.Form):
    on = forms.DateField(label=_("Retired on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_on(self):
        return check_date(self.cleaned_data["on"])


class ProcessStepForm(CleanTextMixin, forms.ModelForm):
    delete = forms.BooleanField(label=_("Delete"), required=False)

    class Meta:
        model = ProcessStep
        fields = ["name", "condition", "handling_position", "time_limit", "supervision", "counterpart_rights"]
        field_classes = {"handling_position": PositionChoiceField}
        widgets = {
            "supervision": forms.Textarea(attrs={"rows": 2}),
            "counterpart_rights": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, positions, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PositionChoiceField, self.fields["handling_position"]).queryset = positions
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


StepFormSet = cast(
    type[BaseStepFormSet],  # the factory's stubs return the base class
    forms.modelformset_factory(
        ProcessStep, form=ProcessStepForm, formset=BaseStepFormSet, extra=2, max_num=60, validate_max=True
    ),
)


class RotationForm(CleanTextMixin, forms.Form):
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
    holding = HoldingChoiceField(label=_("Current holding"), queryset=Holding.objects.none(), required=False)
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    position = PositionChoiceField(label=_("New post"), queryset=Position.objects.none(), required=False)
    on = forms.DateField(label=_("On"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, institution: Institution, people, holdings, positions, **kwargs):
        """``holdings`` and ``positions``: what the user may see (the access module), narrowed here
        to the institution's open holdings and its posts."""
        super().__init__(*args, **kwargs)
        cast(HoldingChoiceField, self.fields["holding"]).queryset = holdings.filter(
            position__institution=institution, ended_on__isnull=True
        ).select_related("user", "position__department")
        cast(PersonChoiceField, self.fields["user"]).queryset = people
        cast(PositionChoiceField, self.fields["position"]).queryset = positions.filter(
            institution=institution
        ).select_related("department")

    def clean_on(self):
        return check_date(self.cleaned_data["on"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        needs = {
            self.Kind.END: ("holding",),
            self.Kind.ROTATE: ("holding", "position"),
            self.Kind.START: ("user", "position"),
        }.get(kind or "", ())
        for name in needs:
            if not data.get(name):
                self.add_error(name, _("This field is required for what happens."))
        holding, position = data.get("holding"), data.get("position")
        if kind == self.Kind.ROTATE and holding and position and holding.position_id == position.pk:
            self.add_error("position", _("The new post is the post the person holds now."))
        return data


# --- the rule catalogue (制度目录) ----------------------------------------------------------


class AttachmentField(forms.FileField):
    """A rule's file: read (within the size limit) and sniffed here, so that a bad file comes back
    with the form's error; its value is ``(name, data)``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("A PDF, a Word document (.docx), a PNG or a JPEG image, at most %(mb)d MB.")
            % {"mb": settings.RISK_REGISTRY_RULE_FILE_MAX_BYTES // (1024 * 1024)},
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ".pdf,.docx,.png,.jpg,.jpeg")

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        limit = settings.RISK_REGISTRY_RULE_FILE_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)d KB; at most %(limit)d KB.")
                % {"size": upload.size // 1024, "limit": limit // 1024}
            )
        content = upload.read(limit + 1)
        attachments.check(content)
        return (upload.name or "", content)


class RuleForm(CleanTextMixin, forms.ModelForm):
    """A rule's entry in the catalogue; the department is one the user may manage (or none). The
    text or a file (or both): a file replaces the one attached before."""

    attachment = AttachmentField(label=_("Attachment"))
    remove_attachment = forms.BooleanField(label=_("Remove the attachment"), required=False)

    class Meta:
        model = Rule
        fields = [
            "title",
            "document_number",
            "issuing_body",
            "effective_on",
            "department",
            "summary",
            "text",
            "published",
        ]
        widgets = {
            "effective_on": forms.DateInput(attrs={"type": "date"}),
            "summary": forms.Textarea(attrs={"rows": 2}),
            "text": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args, departments, department_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        department = cast(forms.ModelChoiceField, self.fields["department"])
        department.queryset = departments
        department.required = department_required
        if not (self.instance.pk and self.instance.has_attachment):
            del self.fields["remove_attachment"]

    def service_fields(self) -> dict:
        """The entry's fields for the services (the file is attached apart)."""
        data = dict(self.cleaned_data)
        data.pop("attachment", None)
        data.pop("remove_attachment", None)
        return data

    def clean_effective_on(self):
        value = self.cleaned_data.get("effective_on")
        return check_date(value) if value else value


class RuleReviseForm(CleanTextMixin, forms.Form):
    on = forms.DateField(label=_("Revised on"), widget=forms.DateInput(attrs={"type": "date"}))
    text = forms.CharField(
        label=_("Text of the rule as revised"), widget=forms.Textarea(attrs={"rows": 10}), required=False
    )
    attachment = AttachmentField(label=_("The revised rule as a file"))
    note = forms.CharField(label=_("What changed"), max_length=255, required=False)

    def clean_on(self):
        return check_date(self.cleaned_data["on"])

    def clean(self):
        data = super().clean() or {}
        if not (data.get("text") or "").strip() and not data.get("attachment") and not self.errors:
            raise forms.ValidationError(_("Give the revised text, or attach the revised rule as a file."))
        return data


class RuleRepealForm(CleanTextMixin, forms.Form):
    on = forms.DateField(label=_("Repealed on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_on(self):
        return check_date(self.cleaned_data["on"])


# --- the catalogues as documents, and the public disclosure page -------------------------------


class CatalogueExportForm(CleanTextMixin, forms.Form):
    KINDS = [
        ("powers", _("Power inventory (职权目录)")),
        ("flows", _("Process flows (流程图)")),
        ("rules", _("Rule catalogue (制度目录)")),
    ]
    FORMATS = [("xlsx", _("Excel")), ("pdf", _("PDF"))]
    kind = forms.ChoiceField(label=_("Catalogue"), choices=KINDS)
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMATS)


class DisclosureForm(CleanTextMixin, forms.Form):
    scope = forms.ChoiceField(label=_("Who may read the public disclosure page"), choices=Disclosure.Scope.choices)
