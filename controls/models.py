"""Controls (防控措施) on the three lines of defence, and the rules (制度) they rest on."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The three lines of defence in the order the seeds list them (前期预防 → 中期监控 → 后期处置):
# pages, forms and exports show controls in this order, never alphabetically by code.
LINE_ORDER = ("prevention", "monitoring", "disposition")


def line_rank(line: str) -> int:
    """Where a line of defence sorts; an unknown code (an old snapshot) goes last."""
    return LINE_ORDER.index(line) if line in LINE_ORDER else len(LINE_ORDER)


def in_line_order(controls: Iterable[dict]) -> list[dict]:
    """Controls as data (snapshot rows) in the order of the lines of defence, stable within a line."""
    return sorted(controls, key=lambda control: line_rank(control.get("line", "")))


def _line_rank_expression() -> Case:
    return Case(
        *(When(line=line, then=Value(rank)) for rank, line in enumerate(LINE_ORDER)),
        default=Value(len(LINE_ORDER)),
        output_field=IntegerField(),
    )


class ControlQuerySet(models.QuerySet):
    def in_line_order(self) -> ControlQuerySet:
        """前期预防 → 中期监控 → 后期处置, then in the order they were written."""
        return self.order_by(_line_rank_expression(), "id")


class Rule(models.Model):
    """A regulation of the institution (民主决策制度, 岗位职责制度 …): an entry of its 制度目录.

    A rule is revised (``revised_on`` and new text) or repealed (``repealed_on``), never deleted:
    the controls that rest on it keep pointing at it, and their points are flagged for review."""

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="rules", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        "organisation.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
        verbose_name=_("department"),
        help_text=_("Leave empty for a rule of the whole institution."),
    )
    title = models.CharField(_("title"), max_length=200)
    document_number = models.CharField(_("document number"), max_length=80, blank=True)
    issuing_body = models.CharField(_("issuing body"), max_length=120, blank=True)
    effective_on = models.DateField(_("effective from"), null=True, blank=True)
    revised_on = models.DateField(_("last revised on"), null=True, blank=True)
    repealed_on = models.DateField(_("repealed on"), null=True, blank=True)
    repeal_reason = models.CharField(_("reason for repealing"), max_length=255, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    text = models.TextField(_("text of the rule"), blank=True)
    recorded_on = models.DateField(
        _("recorded on"), default=timezone.localdate, help_text=_("The day the rule entered the catalogue.")
    )
    published = models.BooleanField(
        _("shown on the public disclosure page"),
        default=False,
        help_text=_("Its entry (and its attachment) appear on the institution's public disclosure page."),
    )
    # The rule's file (a scan, the signed PDF, the Word original), stored outside the web root
    # under RISK_REGISTRY_RULE_FILES_DIR by ``controls.attachments``; served only through the pages.
    attachment_name = models.CharField(_("attachment"), max_length=120, blank=True)
    attachment_key = models.CharField(max_length=80, blank=True, editable=False)
    attachment_type = models.CharField(max_length=80, blank=True, editable=False)
    attachment_size = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("rule")
        verbose_name_plural = _("rules")
        ordering = ["institution_id", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_repealed(self) -> bool:
        return self.repealed_on is not None

    @property
    def has_attachment(self) -> bool:
        return bool(self.attachment_key)


class Control(models.Model):
    """A measure against one risk point. A good one names an owner, a frequency, evidence and a rule."""

    class Line(models.TextChoices):
        PREVENTION = "prevention", _("Prevention")
        MONITORING = "monitoring", _("Monitoring")
        DISPOSITION = "disposition", _("Disposition")

    class Frequency(models.TextChoices):
        EACH_TIME = "each_time", _("Each time it happens")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Every half year")
        YEARLY = "yearly", _("Yearly")
        AS_NEEDED = "as_needed", _("As needed")

    risk_point = models.ForeignKey(
        "risk_registry.RiskPoint", on_delete=models.CASCADE, related_name="controls", verbose_name=_("risk point")
    )
    line = models.CharField(_("line of defence"), max_length=16, choices=Line.choices)
    measure = models.TextField(_("measure"))
    owner = models.CharField(_("owner"), max_length=120, blank=True)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices, blank=True)
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.SET_NULL, related_name="controls", verbose_name=_("rule")
    )

    objects = ControlQuerySet.as_manager()

    class Meta:
        verbose_name = _("control")
        verbose_name_plural = _("controls")
        # ``point.controls.all()`` lists them in the lines' order too (see ``LINE_ORDER``).
        ordering = ["risk_point_id", _line_rank_expression(), "id"]

    def __str__(self) -> str:
        return self.measure[:40]


class ControlRun(models.Model):
    """A record that a control actually ran (落实情况): when, how, and what evidence it left.

    Insert-only in spirit: a run is a fact about the past, so the services create runs and never
    edit them. The annual cycle's control-run tasks are done when a run of the control falls
    within the task's period (``assessments``), so this row is the real work, not a checkbox.
    """

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="runs", verbose_name=_("control"))
    ran_on = models.DateField(_("ran on"))
    description = models.TextField(_("how it ran"))
    evidence = models.CharField(
        _("evidence"),
        max_length=255,
        blank=True,
        help_text=_("Where the evidence is kept: a ledger number, minutes, a file reference."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("control run")
        verbose_name_plural = _("control runs")
        ordering = ["-ran_on", "-id"]
        indexes = [models.Index(fields=["control", "ran_on"], name="controlrun_control_date")]

    def __str__(self) -> str:
        return f"{self.control} · {self.ran_on}"


class ControlRevision(models.Model):
    """Controls written or revised after the grade was approved (审定), as a proposal to review.

    Where the institution's rules say measures follow the approved grades (the Jiuquan plan:
    "针对已经审定的各类风险点和风险等级，制定…防范措施"), a holder or the department proposes the
    controls of an approved point; the department head or the discipline office approves the
    revision (it is then applied to the point's controls and the point's version moves) or
    returns it with a reason (nothing changes). The filed versions never change: an approved
    revision shows in the next filed version. ``changes`` are the rows
    ``controls.services.control_apply_changes`` takes (a rule by id); ``before`` and ``after``
    the point's controls as data, as the reviewer is shown them.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPROVED = "approved", _("Approved after review")
        RETURNED = "returned", _("Returned")

    risk_point = models.ForeignKey(
        "risk_registry.RiskPoint",
        on_delete=models.PROTECT,
        related_name="control_revisions",
        verbose_name=_("risk point"),
    )
    reason = models.TextField(_("reason for the revision"))
    changes = models.JSONField(_("changes"), default=list)
    before = models.JSONField(_("controls before"), default=list)
    after = models.JSONField(_("controls proposed"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        verbose_name = _("controls revision")
        verbose_name_plural = _("controls revisions")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk_point"],
                condition=models.Q(status="pending"),
                name="control_revision_one_pending_per_point",
            )
        ]

    def __str__(self) -> str:
        return f"{self.risk_point_id}: {self.reason[:40]}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
