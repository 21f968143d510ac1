"""Unit assessment (单位考核评估): a weighted checklist, the institution's self-scoring with its
evidence, the superior discipline office's assessment (统一评估) item by item, the total, the grade
and the outcomes (表彰 / 整改 / 问责).

Kept apart from ``assessments.models`` (which imports this module at its end so Django finds the
models) so that other parts of the cycle can add their own model modules. Relations to the cycle's
models are by name ("assessments.Cycle"), so this module imports nothing of the app.

A unit assessment copies its checklist's items (title, guidance, weight, evidence) and grade bands
when it is opened: editing a checklist later never changes a score already given.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EvidenceSource(models.TextChoices):
    """Figures the product already holds, filled in for an item instead of retyped."""

    NONE = "", _("None")
    POSTS_WITH_POINTS = "posts_with_points", _("Share of posts with risk points")
    CONTROLS_WITH_RUNS = "controls_with_runs", _("Share of controls with runs recorded this year")
    WARNINGS_IN_TIME = "warnings_in_time", _("Share of warning notices answered in time")


def default_grade_bands() -> list[dict]:
    """优秀 from 90, 良好 from 80, 合格 from 60, else 不合格 (see docs/assessment.md)."""
    return [
        {"name": "优秀", "min": 90},
        {"name": "良好", "min": 80},
        {"name": "合格", "min": 60},
        {"name": "不合格", "min": 0},
    ]


class Checklist(models.Model):
    """A weighted checklist. Rows without institution are the presets of the source documents;
    an office adopts a copy (``unit.checklist_adopt``) and edits its weights and guidance."""

    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("institution"),
    )
    key = models.SlugField(max_length=40, blank=True, help_text="A preset's key; empty for an office's own checklist.")
    name = models.CharField(_("name"), max_length=120)
    source = models.CharField(_("source"), max_length=255, blank=True)
    grade_bands = models.JSONField(_("grades"), default=default_grade_bands)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assessment checklist")
        verbose_name_plural = _("assessment checklists")
        ordering = ["institution_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(institution__isnull=True), name="checklist_preset_key")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return self.institution_id is None


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("item"), max_length=120)
    guidance = models.TextField(_("guidance"), blank=True)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    evidence = models.CharField(
        _("figure from the product"), max_length=24, choices=EvidenceSource.choices, default="", blank=True
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "order"], name="checklistitem_unique_order"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="checklistitem_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.title


SCORE_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class UnitAssessment(models.Model):
    """One institution's assessment in one cycle: self-scored, then assessed by the office above."""

    class State(models.TextChoices):
        SELF = "self", _("Self-scoring")
        SUBMITTED = "submitted", _("Waiting for the assessment")
        ASSESSED = "assessed", _("Assessed")

    cycle = models.ForeignKey(
        "assessments.Cycle", on_delete=models.CASCADE, related_name="unit_assessments", verbose_name=_("cycle")
    )
    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    checklist = models.ForeignKey(Checklist, on_delete=models.PROTECT, related_name="+", verbose_name=_("checklist"))
    checklist_name = models.CharField(_("checklist"), max_length=120)
    source = models.CharField(_("source"), max_length=255, blank=True)
    grade_bands = models.JSONField(_("grades"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.SELF)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    self_total = models.DecimalField(_("self-assessed total"), max_digits=5, decimal_places=1, null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    final_total = models.DecimalField(_("assessed total"), max_digits=5, decimal_places=1, null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        verbose_name = _("unit assessment")
        verbose_name_plural = _("unit assessments")
        ordering = ["cycle_id", "institution__path"]
        constraints = [models.UniqueConstraint(fields=["cycle", "institution"], name="unitassessment_unique")]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.institution}"


class UnitItem(models.Model):
    """One item of a unit assessment: the checklist's item as it was when opened, both scores
    (0–100), the institution's note and evidence, the office's findings."""

    assessment = models.ForeignKey(UnitAssessment, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("item"), max_length=120)
    guidance = models.TextField(_("guidance"), blank=True)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    evidence = models.CharField(_("figure from the product"), max_length=24, blank=True)
    figure = models.JSONField(
        _("figure"),
        default=dict,
        blank=True,
        help_text="The product's figure, frozen when the self-scoring is submitted.",
    )
    records = models.JSONField(_("records"), default=list, blank=True)  # keys of unit.RECORD_LINKS
    self_score = models.DecimalField(
        _("self score"), max_digits=5, decimal_places=1, null=True, blank=True, validators=SCORE_VALIDATORS
    )
    self_note = models.TextField(_("self-assessment"), blank=True)
    final_score = models.DecimalField(
        _("assessed score"), max_digits=5, decimal_places=1, null=True, blank=True, validators=SCORE_VALIDATORS
    )
    findings = models.TextField(_("findings"), blank=True)

    class Meta:
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        ordering = ["assessment_id", "order"]
        constraints = [models.UniqueConstraint(fields=["assessment", "order"], name="unititem_unique_order")]

    def __str__(self) -> str:
        return self.title


class UnitEvidenceFile(models.Model):
    """A file the institution uploaded as evidence of an item. Stored under ``var/`` (outside the
    web root) by a random name, served only through the unit assessment's page to its readers."""

    item = models.ForeignKey(UnitItem, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(_("file name"), max_length=160)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_as = models.CharField(max_length=80, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["item_id", "id"]

    def __str__(self) -> str:
        return self.name


class UnitOutcome(models.Model):
    """What the assessment led to: 表彰/评先评优, 整改 (with a deadline the scan reminds of, as a
    task of the cycle), 问责 (naming a warnings-ledger item by its number)."""

    class Kind(models.TextChoices):
        COMMEND = "commend", _("Commendation (表彰/评先评优)")
        RECTIFY = "rectify", _("Rectification (整改)")
        ACCOUNTABILITY = "accountability", _("Accountability (问责)")

    assessment = models.ForeignKey(UnitAssessment, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(_("outcome"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("details"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    task = models.OneToOneField(
        "assessments.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="unit_outcome"
    )
    warning_number = models.CharField(_("warning ledger number"), max_length=40, blank=True)
    # The ledger item's id, not a foreign key: the warnings feature is not a dependency of this one.
    warning_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_note = models.TextField(_("how it was rectified"), blank=True)

    class Meta:
        verbose_name = _("assessment outcome")
        verbose_name_plural = _("assessment outcomes")
        ordering = ["assessment_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="rectify") | Q(deadline__isnull=False), name="unitoutcome_rectify_deadline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.assessment}"
