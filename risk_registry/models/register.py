"""A register (an institution's risk points for a year), its decisions, notice comments and
filed versions. A filed version is a frozen snapshot: it is never updated or deleted."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Register(models.Model):
    """The container the leadership approves, publishes for notice and files: one per unit and year.

    The points themselves carry the workflow state; the register holds what belongs to the whole
    (the notice period, whether anonymous comments are allowed, the filed versions).
    """

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="registers", verbose_name=_("institution")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    notice_starts_on = models.DateField(_("notice from"), null=True, blank=True)
    notice_ends_on = models.DateField(_("notice until"), null=True, blank=True)
    allow_anonymous_comments = models.BooleanField(_("anonymous comments allowed"), default=False)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        ordering = ["institution_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="register_unique_year")]

    def __str__(self) -> str:
        return f"{self.institution} {self.year}"


class DecisionRules(models.Model):
    """How an institution's meetings decide: who must be present and what passes.

    The default follows the usual rule of a Party group meeting (民主集中制): a quorum of more
    than half of the leadership team, and a decision passes with more than half of those present
    voting for it. Edited by the discipline office; read by ``register_decide``.
    """

    class Quorum(models.TextChoices):
        MORE_THAN_HALF = "more_than_half", _("More than half of the leadership team present")
        TWO_THIRDS = "two_thirds", _("At least two thirds of the leadership team present")

    class Majority(models.TextChoices):
        MAJORITY_OF_PRESENT = "majority_of_present", _("More than half of those present vote for")
        TWO_THIRDS_OF_PRESENT = "two_thirds_of_present", _("At least two thirds of those present vote for")
        MORE_FOR_THAN_AGAINST = "more_for_than_against", _("More votes for than against")

    institution = models.OneToOneField(
        "organisation.Institution",
        on_delete=models.CASCADE,
        related_name="decision_rules",
        verbose_name=_("institution"),
    )
    team_size = models.PositiveSmallIntegerField(
        _("members of the leadership team"),
        null=True,
        blank=True,
        help_text=_("Empty: the leaders and principal leader recorded in the system."),
    )
    quorum = models.CharField(_("quorum"), max_length=24, choices=Quorum.choices, default=Quorum.MORE_THAN_HALF)
    majority = models.CharField(
        _("majority"), max_length=24, choices=Majority.choices, default=Majority.MAJORITY_OF_PRESENT
    )
    superior_approval = models.BooleanField(
        _("superior office approves before notice"),
        default=False,
        help_text=_(
            "The superior discipline office approves the grades (审议确定) after the leadership's approval "
            "and before the public notice."
        ),
    )
    measures_after_approval = models.BooleanField(
        _("measures follow the approved grades"),
        default=False,
        help_text=_(
            "After the leadership's approval (审定), holders and departments may write or revise the controls "
            "of approved points, each revision reviewed by the department head or the discipline office."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("decision rules")
        verbose_name_plural = _("decision rules")

    def __str__(self) -> str:
        return f"{self.institution_id}: {self.quorum} / {self.majority}"

    def has_quorum(self, *, present: int, team: int) -> bool:
        if self.quorum == self.Quorum.TWO_THIRDS:
            return present * 3 >= team * 2
        return present * 2 > team

    def passes(self, *, present: int, votes_for: int, votes_against: int) -> bool:
        if self.majority == self.Majority.TWO_THIRDS_OF_PRESENT:
            return votes_for * 3 >= present * 2
        if self.majority == self.Majority.MORE_FOR_THAN_AGAINST:
            return votes_for > votes_against
        return votes_for * 2 > present


class Decision(models.Model):
    """A meeting that decided on points: democratic appraisal (民主评议) or leadership approval (审定).

    The record is the evidence of the meeting: who was present, how they voted, what was decided,
    and exactly which points it covered (``points``, set once when the decision is recorded). A
    decision that did not pass (``outcome`` not_passed) is kept too, and moved no point.
    """

    class Kind(models.TextChoices):
        APPRAISAL = "appraisal", _("Democratic appraisal")
        APPROVAL = "approval", _("Leadership approval")
        SUPERIOR = "superior", _("Superior office's approval")

    class MeetingKind(models.TextChoices):
        PARTY_COMMITTEE = "party_committee", _("Party committee meeting")
        PARTY_GROUP = "party_group", _("Party group meeting")
        LEADERSHIP_TEAM = "leadership_team", _("Leadership team meeting")
        EXECUTIVE = "executive", _("Executive meeting")
        APPRAISAL = "appraisal", _("Democratic appraisal meeting")
        OTHER = "other", _("Other meeting")

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        NOT_PASSED = "not_passed", _("Not passed")

    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("register")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    meeting = models.CharField(_("meeting"), max_length=200)
    meeting_kind = models.CharField(
        _("kind of meeting"), max_length=24, choices=MeetingKind.choices, default=MeetingKind.OTHER
    )
    held_on = models.DateField(_("held on"))
    participants = models.TextField(_("participants"), blank=True)
    present = models.PositiveIntegerField(_("present"), null=True, blank=True)
    team_size = models.PositiveIntegerField(_("members of the leadership team"), null=True, blank=True)
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True)
    votes_abstaining = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PASSED)
    rules = models.JSONField(_("rules applied"), default=dict, blank=True)
    point_versions = models.JSONField(
        _("versions of the points"),
        default=dict,
        blank=True,
        help_text=_("The superior office's approval: each point's version it approved (point id → version)."),
    )
    points = models.ManyToManyField("risk_registry.RiskPoint", related_name="decisions", verbose_name=_("risk points"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return self.meeting

    @property
    def passed(self) -> bool:
        return self.outcome == self.Outcome.PASSED


class DecisionAttachment(models.Model):
    """A file of a decision (the meeting's minutes, a scan, the superior office's reply): PDF, PNG,
    JPEG or DOCX, its kind checked from its content. Stored outside the web root
    (``RISK_REGISTRY_ATTACHMENTS_DIR``) under ``stored_as``; given only to those who may see the
    decision. Written with the decision in one request and never changed after (no update path)."""

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("decision")
    )
    name = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    stored_as = models.CharField(_("stored as"), max_length=200, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("decision attachment")
        verbose_name_plural = _("decision attachments")
        ordering = ["decision_id", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A decision's attachment is frozen with the decision: it is never changed.")
        super().save(*args, **kwargs)


class NoticeComment(models.Model):
    """An opinion left during public notice (公示), and the discipline office's answer."""

    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="comments", verbose_name=_("register")
    )
    risk_point = models.ForeignKey(
        "risk_registry.RiskPoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comments",
        verbose_name=_("risk point"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
        help_text=_("Empty for an anonymous comment: the author is not stored at all."),
    )
    text = models.TextField(_("comment"))
    # The day only (the start of the local day), set by notice_comment_add: a precise time could be
    # lined up with the author's other actions and defeat an anonymous comment.
    created_at = models.DateTimeField(_("left on"), default=timezone.now, editable=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice comment")
        verbose_name_plural = _("notice comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class RegisterVersion(models.Model):
    """A filed (备案) version: the signed register frozen as JSON, with the SHA-256 of its content.

    ``snapshot`` is ``{"institution": {...}, "year": …, "scheme": {...}, "points": [...]}`` where
    each point carries its id, place, type, description, likelihood, severity, level and controls
    (see ``risk_registry.workflow.snapshot``). Rows are insert-only: ``save`` refuses an update
    and a PostgreSQL trigger refuses UPDATE and DELETE, so a filed register can never change.
    """

    register = models.ForeignKey(
        Register, on_delete=models.PROTECT, related_name="versions", verbose_name=_("register")
    )
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    signed_at = models.DateTimeField(_("signed at"))
    filed_with = models.ForeignKey(
        "organisation.Institution",
        null=True,
        on_delete=models.PROTECT,
        related_name="received_filings",
        verbose_name=_("filed with"),
    )

    class Meta:
        verbose_name = _("filed version")
        verbose_name_plural = _("filed versions")
        ordering = ["register_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["register", "number"], name="version_unique_number")]

    def __str__(self) -> str:
        return f"{self.register} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("A filed register version is frozen and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("A filed register version is frozen and cannot be deleted.")


class LevelProposal(models.Model):
    """The discipline office proposes raising a point's level, with a reason; leadership decides."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    risk_point = models.ForeignKey(
        "risk_registry.RiskPoint",
        on_delete=models.PROTECT,
        related_name="level_proposals",
        verbose_name=_("risk point"),
    )
    likelihood = models.PositiveSmallIntegerField(_("proposed likelihood"))
    severity = models.PositiveSmallIntegerField(_("proposed severity"))
    level = models.ForeignKey(
        "organisation.GradeLevel", on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed level")
    )
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("level proposal")
        verbose_name_plural = _("level proposals")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk_point"], condition=models.Q(status="pending"), name="proposal_one_pending_per_point"
            )
        ]

    def __str__(self) -> str:
        return f"{self.risk_point_id} → {self.level}"
