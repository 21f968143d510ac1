"""Forms of the workflow pages (steps, decisions, notice, comments, proposals, audit search)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from risk_registry.models import Decision, DecisionRules
from risk_registry.organisation.text import CleanTextMixin

_AREA = forms.Textarea(attrs={"rows": 2})


class StepForm(CleanTextMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=_("Reason"), widget=_AREA, required=False, max_length=1000)


class IdListField(forms.Field):
    """Ids carried as repeated hidden inputs (the points a form listed to the user)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if not all(str(v).isdigit() for v in values):
            raise forms.ValidationError(_("The list of risk points is not valid. Reload the page."))
        return [int(v) for v in values]


class DecisionForm(CleanTextMixin, forms.Form):
    """The record of a meeting: approval (审定) or democratic appraisal (民主评议)."""

    meeting = forms.CharField(label=_("Meeting"), max_length=200)
    meeting_kind = forms.ChoiceField(label=_("Kind of meeting"), choices=Decision.MeetingKind.choices)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    participants = forms.CharField(label=_("Participants present"), widget=_AREA, max_length=2000)
    present = forms.IntegerField(label=_("Number present"), min_value=1, max_value=9999)
    votes_for = forms.IntegerField(label=_("Votes for"), min_value=0, max_value=9999)
    votes_against = forms.IntegerField(label=_("Votes against"), min_value=0, max_value=9999)
    votes_abstaining = forms.IntegerField(label=_("Abstentions"), min_value=0, max_value=9999)
    decision = forms.CharField(label=_("Decision"), widget=_AREA, max_length=2000)
    kind = forms.ChoiceField(choices=Decision.Kind.choices, widget=forms.HiddenInput)
    points = IdListField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean() or {}
        counts = [data.get(name) for name in ("votes_for", "votes_against", "votes_abstaining")]
        present = data.get("present")
        votes = sum(count for count in counts if count is not None)
        if present is not None and None not in counts and votes > present:
            self.add_error(
                None,
                _("%(votes)d votes were counted but only %(present)d members were present.")
                % {"votes": votes, "present": present},
            )
        return data


class DecisionRulesForm(CleanTextMixin, forms.Form):
    team_size = forms.IntegerField(
        label=_("Members of the leadership team"),
        min_value=1,
        max_value=99,
        required=False,
        help_text=_("Empty: the leaders and principal leader recorded in the system."),
    )
    quorum = forms.ChoiceField(label=_("Quorum"), choices=DecisionRules.Quorum.choices)
    majority = forms.ChoiceField(label=_("Majority"), choices=DecisionRules.Majority.choices)
    superior_approval = forms.BooleanField(
        label=_("The superior office approves the grades before the notice (审议确定)"),
        required=False,
        help_text=_("As the Jiuquan plan asks: 报上一级…领导小组办公室审议确定后公示. Off: the default path."),
    )
    measures_after_approval = forms.BooleanField(
        label=_("Measures follow the approved grades (措施在定级审定后制定)"),
        required=False,
        help_text=_(
            "As the Jiuquan plan asks: 针对已经审定的各类风险点和风险等级，制定…防范措施. Holders then write or revise "
            "the controls of approved points, each revision reviewed by the department head or the discipline office. "
            "Off: the controls of an approved point stay as approved."
        ),
    )


class NoticeForm(CleanTextMixin, forms.Form):
    days = forms.IntegerField(label=_("Notice period (days)"), min_value=1, max_value=60, initial=5)
    allow_anonymous = forms.BooleanField(label=_("Accept anonymous comments"), required=False)
    reason = forms.CharField(
        label=_("Reason for extending a running notice"), required=False, max_length=500, widget=_AREA
    )


class CommentForm(CleanTextMixin, forms.Form):
    risk_point = forms.IntegerField(label=_("Risk point number"), required=False, min_value=1)
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    anonymous = forms.BooleanField(label=_("Comment anonymously"), required=False)


class AnswerForm(CleanTextMixin, forms.Form):
    answer = forms.CharField(label=_("Answer"), widget=_AREA, max_length=2000)
    send_back = forms.BooleanField(label=_("Send the point back for re-grading"), required=False)


class ProposalForm(CleanTextMixin, forms.Form):
    likelihood = forms.TypedChoiceField(label=_("Likelihood"), coerce=int, choices=())
    severity = forms.TypedChoiceField(label=_("Severity"), coerce=int, choices=())
    reason = forms.CharField(label=_("Reason"), widget=_AREA, max_length=1000)

    def __init__(self, *args, scheme, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["likelihood"]).choices = list(enumerate(scheme.likelihood_labels, start=1))
        cast(forms.ChoiceField, self.fields["severity"]).choices = list(enumerate(scheme.severity_labels, start=1))


class ProposalDecisionForm(CleanTextMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    accept = forms.TypedChoiceField(coerce=lambda v: v == "yes", choices=[("yes", _("Accept")), ("no", _("Reject"))])
    note = forms.CharField(label=_("Note"), widget=_AREA, required=False, max_length=1000)


class AuditSearchForm(CleanTextMixin, forms.Form):
    person = forms.CharField(label=_("Person (user name)"), required=False, max_length=150)
    institution = forms.CharField(label=_("Institution code"), required=False, max_length=40)
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


BULK_LABELS = [
    ("review", _("Pass department review")),
    ("return_to_author", _("Return to the holder")),
    ("define", _("Define the level")),
    ("return_to_department", _("Return to the department")),
    ("propose", _("Propose a higher level")),
]


class BulkForm(CleanTextMixin, forms.Form):
    """A bulk action of the register table on the selected rows (``point``, each with its
    ``version_<id>``, read by the page): a step, or a level proposal. Likelihood and severity are
    the level to define (an override, with its reason) or to propose; empty keeps the proposed one."""

    action = forms.ChoiceField(label=_("Action"), choices=BULK_LABELS)
    point = IdListField(label=_("Risk points"), required=False)
    # "All N matching points" of the table, on every page: the count the user saw; the page then
    # asks to confirm the points it resolves from the same filters, and the write carries their digest.
    all = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, widget=forms.HiddenInput)
    likelihood = forms.TypedChoiceField(label=_("Likelihood"), coerce=int, choices=(), required=False, empty_value=None)
    severity = forms.TypedChoiceField(label=_("Severity"), coerce=int, choices=(), required=False, empty_value=None)
    reason = forms.CharField(label=_("Reason"), widget=_AREA, required=False, max_length=1000)

    def __init__(self, *args, scheme=None, **kwargs):
        super().__init__(*args, **kwargs)
        likelihoods = list(enumerate(scheme.likelihood_labels, start=1)) if scheme else []
        severities = list(enumerate(scheme.severity_labels, start=1)) if scheme else []
        cast(forms.ChoiceField, self.fields["likelihood"]).choices = [("", "—"), *likelihoods]
        cast(forms.ChoiceField, self.fields["severity"]).choices = [("", "—"), *severities]

    def clean(self):
        data = super().clean() or {}
        action = data.get("action")
        if not data.get("point") and not data.get("all"):
            self.add_error("point", _("Choose at least one risk point."))
        chosen = [data.get("likelihood"), data.get("severity")]
        if action == "propose" and (None in chosen or not (data.get("reason") or "").strip()):
            self.add_error(None, _("Fill in the likelihood, the severity and the reason."))
        if action == "define" and chosen.count(None) == 1:
            self.add_error(None, _("Choose both the likelihood and the severity, or neither."))
        if action in ("return_to_author", "return_to_department") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason for sending the point back."))
        return data


class SuperiorDecisionForm(CleanTextMixin, forms.Form):
    """The superior office's approval of the grades (审议确定): the points it was shown (``points``,
    each with its ``version_<id>``, read by the page) and whether it approves them."""

    meeting = forms.CharField(label=_("Meeting"), max_length=200)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    decision = forms.CharField(label=_("Decision"), widget=_AREA, max_length=2000)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("passed", _("Approve the grades")), ("not_passed", _("Do not approve (the institution revises)"))],
    )
    points = IdListField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_on"].initial = timezone.localdate()
