"""The warning ledger (预警信息台账): channels, warning items, dispositions with their notices, and the
working calendar that response deadlines (限时回告) are counted in.

Seed 001 二(一): information arrives on channels, is graded (一/二/三级 by default, each county its own
scale) and entered into the ledger;
persons and units receive dispositions and answer in writing within a set time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from integrity_warnings.ladder import DispositionState, Measure, SubjectKind
from risk_registry.organisation.models import BAND_ORDER, Band, Vocabulary

HANDLE_PERMISSION = "handle_warningitem"


class WarningChannel(Vocabulary):
    """Where information came from (信访举报, 专项检查 …): configurable per institution.

    ``confidential``: items from this channel keep their source and facts for the granted
    handlers alone (a 信访举报 protects the person who reported)."""

    confidential = models.BooleanField(_("confidential"), default=False)

    class Meta(Vocabulary.Meta):
        verbose_name = _("warning channel")
        verbose_name_plural = _("warning channels")
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="warningchannel_unique_code"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(institution__isnull=True), name="warningchannel_unique_default_code"
            ),
        ]


class WarningGrade(models.Model):
    """One level of a warning grade scale (seed 001 二(一)2: 一、二、三级, 一级 the most serious).

    A scale is the county's own configuration: rows without institution are the default scale; an
    institution with rows of its own grades with those, and an institution without grades with the
    scale of its nearest ancestor that has one (``integrity_warnings.grades.scale_of``), so a
    county's discipline office sets the scale of its whole subtree. ``rank`` orders a scale (1 =
    most serious); ``band`` places the level on the county-wide 高/中/低 scale of the risk levels
    (``GradeLevel.band``), which is what compares items of institutions that grade differently."""

    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("institution"),
    )
    label = models.CharField(_("label"), max_length=20)
    rank = models.PositiveSmallIntegerField(_("rank (1 = most serious)"))
    band = models.CharField(_("county-wide band"), max_length=8, choices=Band.choices)

    class Meta:
        verbose_name = _("warning grade")
        verbose_name_plural = _("warning grades")
        ordering = ["rank", "id"]
        constraints = [
            # deferred: reordering a scale swaps ranks inside one transaction
            models.UniqueConstraint(
                fields=["institution", "rank"], name="warninggrade_unique_rank", deferrable=models.Deferrable.DEFERRED
            ),
            models.UniqueConstraint(
                fields=["rank"],
                condition=Q(institution__isnull=True),
                name="warninggrade_unique_default_rank",  # the default scale is never edited on a page
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}（{self.get_band_display()}）"

    @property
    def sort_key(self) -> tuple[int, int]:
        """Seriousness across scales: band first, then rank (like ``GradeLevel.sort_key``)."""
        return (BAND_ORDER.get(self.band, len(BAND_ORDER) + 1), self.rank)


class Verification(models.TextChoices):
    PENDING = "pending", _("Not yet verified")
    TRUE = "true", _("True")
    PARTLY = "partly", _("Partly true")
    FALSE = "false", _("Not true")
    UNVERIFIABLE = "unverifiable", _("Cannot be verified")


class WarningStatus(models.TextChoices):
    OPEN = "open", _("Registered")
    IN_DISPOSITION = "in_disposition", _("In disposition")
    CLOSED = "closed", _("Concluded")
    REFERRED = "referred", _("Referred for investigation")


class WarningItem(models.Model):
    """One entry of the ledger. ``source`` and ``facts`` are confidential when ``confidential``:
    only users granted ``handle_warningitem`` on the item read them (integrity_warnings.access)."""

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    number = models.CharField(_("ledger number"), max_length=40)
    channel = models.ForeignKey(WarningChannel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel"))
    received_on = models.DateField(_("received on"))
    confidential = models.BooleanField(_("confidential"), default=False)
    source = models.TextField(_("source"), blank=True)
    facts = models.TextField(_("facts"))
    subject_kind = models.CharField(_("subject"), max_length=16, choices=SubjectKind.choices)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person (user)"),
    )
    subject_name = models.CharField(_("person (name)"), max_length=60, blank=True)
    subject_position = models.ForeignKey(
        "positions.Position",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("position"),
    )
    subject_department = models.ForeignKey(
        "organisation.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department"),
    )
    risk_points = models.ManyToManyField(
        "risk_registry.RiskPoint", blank=True, related_name="warning_items", verbose_name=_("risk points")
    )
    grade = models.ForeignKey(WarningGrade, on_delete=models.PROTECT, related_name="+", verbose_name=_("grade"))
    verification = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.PENDING
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN, db_index=True
    )
    failed_rung = models.SmallIntegerField(_("highest rung not corrected"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("warning item")
        verbose_name_plural = _("warning items")
        ordering = ["-received_on", "-id"]
        permissions = [(HANDLE_PERMISSION, _("Handle the warning item and read its confidential fields"))]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="warningitem_unique_number")]
        indexes = [models.Index(fields=["institution", "status", "-received_on"], name="warningitem_ledger")]

    def __str__(self) -> str:
        return self.number


class WarningItemUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's direct foreign-key table for warning items: the handlers."""

    content_object = models.ForeignKey(WarningItem, on_delete=models.CASCADE)


class Disposition(models.Model):
    """One rung issued on an item: a numbered notice, its recipient, deadline and the written report.

    The notice's ``notice_facts`` and ``requirement`` are what the recipient reads: written for the
    recipient by the office, never copied from a confidential item's facts or source."""

    item = models.ForeignKey(WarningItem, on_delete=models.PROTECT, related_name="dispositions")
    measure = models.CharField(_("measure"), max_length=32, choices=Measure.choices)
    rung = models.SmallIntegerField(_("rung"))
    number = models.CharField(_("notice number"), max_length=60)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recipient (user)"),
    )
    recipient_name = models.CharField(_("recipient"), max_length=120)
    notice_facts = models.TextField(_("facts stated in the notice"))
    requirement = models.TextField(_("requirement"))
    reason = models.CharField(_("why this rung"), max_length=500, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    issued_on = models.DateField(_("issued on"))
    response_days = models.PositiveSmallIntegerField(_("working days to answer"), default=5)
    due_on = models.DateField(_("answer by"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=DispositionState.choices, db_index=True)
    cause_analysis = models.TextField(_("cause analysis"), blank=True)
    measures_taken = models.TextField(_("corrective measures"), blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("answered by"),
    )
    decision_note = models.CharField(_("office's note"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["item_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="disposition_unique_number"),
            # one open rung per item at a time: the ladder moves only when the last one ended
            models.UniqueConstraint(
                fields=["item"], condition=Q(state__in=["issued", "answered"]), name="disposition_one_open_per_item"
            ),
        ]
        indexes = [models.Index(fields=["state", "due_on"], name="disposition_due")]

    def __str__(self) -> str:
        return self.number


class ReportAttachment(models.Model):
    """A file attached to the written report of a notice (integrity_warnings.files stores it outside
    the web root under ``stored_as``; ``name`` is what the uploader called it, shown and downloaded)."""

    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("notice")
    )
    name = models.CharField(_("file name"), max_length=120)
    kind = models.CharField(_("type"), max_length=8)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=32, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("report attachment")
        verbose_name_plural = _("report attachments")
        ordering = ["disposition_id", "id"]

    def __str__(self) -> str:
        return self.name


class NoticeSequence(models.Model):
    """The last serial of notice numbers (文号) per institution and year; locked to issue the next."""

    institution = models.ForeignKey("organisation.Institution", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16)  # "item" for ledger numbers, "notice" for notices
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["institution", "year", "kind"], name="noticesequence_unique")]

    def __str__(self) -> str:
        return f"{self.institution_id}/{self.year}/{self.kind}: {self.last}"


class CalendarDay(models.Model):
    """A day that breaks the weekday rule: a public holiday on a weekday (``working`` false), or a
    weekend day worked in exchange (调休, ``working`` true). Empty institution: every institution."""

    institution = models.ForeignKey(
        "organisation.Institution", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("date"))
    working = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "date"], name="calendarday_unique"),
            models.UniqueConstraint(
                fields=["date"], condition=Q(institution__isnull=True), name="calendarday_unique_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
