"""The annual cycle (年度循环): phases with dates, the tasks they imply, and the notifications of
reminders and escalation. Deadlines live here, in the database; the broker only carries the scan.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# The study's measures live in their own module; imported here so Django registers them.
from assessments.survey_models import (  # noqa: F401
    Rating,
    RatingInvitation,
    RatingRound,
    SurveyAnswer,
    SurveyCode,
    SurveyRound,
)


def default_reminder_days() -> list[int]:
    return list(settings.RISK_REGISTRY_CYCLE_REMINDER_DAYS)


def default_supervisor_after_days() -> int:
    return settings.RISK_REGISTRY_CYCLE_SUPERVISOR_AFTER_DAYS


def default_discipline_after_days() -> int:
    return settings.RISK_REGISTRY_CYCLE_DISCIPLINE_AFTER_DAYS


class Cycle(models.Model):
    """One year's cycle, launched by a discipline office for its institution and the subtree below.

    The schedule of reminders and escalation is per cycle: ``reminder_days`` before the due date
    the owner is reminded (提醒); ``supervisor_after_days`` after it the owner's supervisor is told
    (督导); ``discipline_after_days`` after it the discipline office is told (通报).
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        CLOSED = "closed", _("Closed")

    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="cycles", verbose_name=_("institution")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=120)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RUNNING, db_index=True)
    reminder_days = models.JSONField(
        _("reminders, days before the due date"),
        default=default_reminder_days,
        help_text=_("The owner is reminded this many days before a due date, e.g. 7 and 1."),
    )
    supervisor_after_days = models.PositiveSmallIntegerField(
        _("tell the supervisor, days overdue"), default=default_supervisor_after_days
    )
    discipline_after_days = models.PositiveSmallIntegerField(
        _("tell the discipline office, days overdue"), default=default_discipline_after_days
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("launched by")
    )
    launched_at = models.DateTimeField(_("launched at"), auto_now_add=True)
    tasks_generated_at = models.DateTimeField(
        _("tasks generated at"),
        null=True,
        blank=True,
        help_text="Set by the generation task; the scan re-enqueues a generation when it is missing or old.",
    )
    grace_until = models.DateField(
        _("grace period until"),
        null=True,
        blank=True,
        help_text=_(
            "A cycle launched after some of its deadlines: no task counts as due before this day, so "
            "the late launch fires no burst of reminders and escalations."
        ),
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(
        _("reason for closing with unfiled registers"),
        blank=True,
        help_text=_("Required when the cycle is closed before every institution has filed its register."),
    )

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["-year", "institution_id"]
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="cycle_unique_year")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.state == self.State.RUNNING


class Phase(models.Model):
    """One of the five phases of a cycle; names and dates are the cycle's own."""

    class Kind(models.TextChoices):
        PUBLICITY = "publicity", _("Publicity and mobilisation")
        INVENTORY = "inventory", _("Inventory of powers and risks")
        CONTROLS = "controls", _("Controls and register")
        MONITORING = "monitoring", _("Rules and monitoring")
        INSPECTION = "inspection", _("Inspection and revision")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="phases", verbose_name=_("cycle"))
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=80)
    starts_on = models.DateField(_("starts on"))
    due_on = models.DateField(_("due on"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["cycle_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "order"], name="phase_unique_order"),
            models.UniqueConstraint(fields=["cycle", "kind"], name="phase_unique_kind"),
            models.CheckConstraint(condition=Q(due_on__gte=F("starts_on")), name="phase_due_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


RECONCILE_SLICES = 12  # the scan reconciles 1/12 of the open tasks each run: all of them within an hour


class Task(models.Model):
    """Something a person must do by a date. Whether it is done is derived from the real work
    (``assessments.completion.done_expression``), never ticked: a point sent back makes a self-check
    open again. ``done`` stores that value: the services that complete or undo the work recompute it
    (``completion.tasks_refresh``, one UPDATE), and the deadline scan reconciles it.

    ``key`` makes generation idempotent (one task per cycle and key, whoever generates it, however
    often). The targets are the ids the kind needs: a position for a self-check, a department for
    its review, an institution for its register and self-assessment, a control and a period for a
    control run.
    """

    class Kind(models.TextChoices):
        SELF_CHECK = "self_check", _("Self-check of a position's risks")
        DEPT_REVIEW = "dept_review", _("Department review of risk points")
        REGISTER_DEFINE = "register_define", _("Definition of the register's levels")
        REGISTER_APPROVE = "register_approve", _("Leadership approval of the register")
        REGISTER_NOTICE = "register_notice", _("Public notice of the register")
        REGISTER_FILE = "register_file", _("Filing of the register")
        CONTROL_RUN = "control_run", _("Run of a control")
        SELF_ASSESSMENT = "self_assessment", _("Self-assessment of the institution")
        RECTIFICATION = "rectification", _("Rectification after the unit assessment")
        RULES = "rules", _("Rules of a department recorded (建章立制)")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("cycle"))
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("phase"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=80, help_text="Unique per cycle: what generation recognises on a re-run.")
    year = models.PositiveSmallIntegerField(_("year"))
    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.CASCADE, related_name="+", verbose_name=_("institution")
    )
    department = models.ForeignKey(
        "organisation.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("department"),
    )
    position = models.ForeignKey(
        "positions.Position",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("position"),
    )
    control = models.ForeignKey(
        "controls.Control", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("control")
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    due_on = models.DateField(_("due on"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cycle_tasks",
        verbose_name=_("owner"),
    )
    # Stored completion: written only by ``assessments.completion.tasks_refresh`` (never by hand).
    done = models.BooleanField(_("done"), default=False, db_default=False)  # rows written with COPY too
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    # Set by the selectors for the pages that show a task (never stored).
    title: str
    url: str
    left: int
    overdue: int
    label: str  # what a digest says of the task (selectors.describe_digests)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["cycle", "key"], name="task_unique_key")]
        indexes = [
            models.Index(fields=["cycle", "due_on"], name="task_cycle_due"),
            models.Index(fields=["owner", "due_on"], name="task_owner_due"),
            # The board of a subtree counts its tasks per institution and department from this index
            # alone (an index-only scan: at a city's 310,000 tasks, 0.53 -> 0.37 s under load 8).
            models.Index(
                fields=["cycle", "institution"],
                include=["department", "done", "due_on", "owner", "id"],
                name="task_cycle_institution",
            ),
            models.Index(fields=["department", "due_on"], name="task_department_due"),
            # the boards' and dashboards' counters: grouped per institution over the stored state
            models.Index(fields=["institution", "year", "done", "due_on"], name="task_institution_done"),
            # the deadline scan: the open tasks of a cycle by due date
            models.Index(fields=["cycle", "due_on"], condition=models.Q(done=False), name="task_open_cycle_due"),
            # the deadline scan's reconciliation: a slice of a cycle's tasks by id modulo the slices
            models.Index(F("cycle"), F("id") % RECONCILE_SLICES, name="task_cycle_slice"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.due_on}"

    def days_left(self, today: datetime.date) -> int:
        return (self.due_on - today).days


class TaskTally(models.Model):
    """How many tasks of a cycle an institution has, and how many are done, per due date (and
    whether they file the register): the cycle's progress per institution without reading every
    task (a city of the province: 8,000 tallies for 310,000 tasks). Overdue is "not done and due
    before today", so the tally keeps the due date rather than a count that ages.

    Kept by PostgreSQL (statement triggers on ``assessments_task``, migration 0011): every insert,
    update and delete of tasks adds its rows' counts, grouped, so that no writer can forget it
    (generation, the stored completion's refresh, a rollover, a cascade, a COPY with triggers on).
    ``manage.py reconcile_stored`` rebuilds it from the tasks (and a COPY with the triggers off
    needs it). No foreign key is enforced: a cascade deleting a cycle's tasks writes the tallies
    down to zero while the cycle goes, and a tally at zero counts nothing (``total > 0`` is read)."""

    cycle = models.ForeignKey(
        Cycle,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique key starts with it
        related_name="+",
        verbose_name=_("cycle"),
    )
    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # tasktally_institution_year
        related_name="+",
        verbose_name=_("institution"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    due_on = models.DateField(_("due on"))
    filing = models.BooleanField(_("filing of the register"))
    total = models.IntegerField(_("tasks"), default=0)
    done = models.IntegerField(_("done"), default=0)

    class Meta:
        verbose_name = _("task tally")
        verbose_name_plural = _("task tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "institution", "year", "due_on", "filing"], name="tasktally_unique_key"
            )
        ]
        indexes = [models.Index(fields=["institution", "year"], name="tasktally_institution_year")]

    def __str__(self) -> str:
        return f"{self.institution_id} · {self.due_on}: {self.done}/{self.total}"


class SelfAssessment(models.Model):
    """An institution's year-end self-assessment (自查自评) in a cycle: the work the 检查考核 task asks."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="self_assessments", verbose_name=_("cycle"))
    institution = models.ForeignKey(
        "organisation.Institution", on_delete=models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    summary = models.TextField(_("summary"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")
        constraints = [
            models.UniqueConstraint(fields=["cycle", "institution"], name="selfassessment_unique_institution")
        ]

    def __str__(self) -> str:
        return f"{self.cycle} · {self.institution}"


class ScanRun(models.Model):
    """One run of the deadline scan: as of when, what it found, what it created."""

    as_of = models.DateTimeField(_("as of"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    tasks_considered = models.PositiveIntegerField(_("tasks considered"), default=0)
    notifications_created = models.PositiveIntegerField(_("notifications created"), default=0)

    class Meta:
        verbose_name = _("scan run")
        verbose_name_plural = _("scan runs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m-%d %H:%M}"


class TaskNotice(models.Model):
    """One stage of one task, sent: in which scan, to whom. The record the scan's exactly-once rests
    on, one per (task, stage): a second scan, a concurrent one or a retried task finds it and sends
    nothing (``ON CONFLICT DO NOTHING``). What the recipients read is the digest (``Notification``)
    of their scan, which lists the task; this row is the evidence of who was told, whatever the
    digest's bound. A task's stage is sent once, to the people in charge when it was reached."""

    # Neither key is a database constraint (scan3): the busiest day's 417,000 records would cost
    # 834,000 checks at commit, each an index probe and a row lock (docs/cycle.md, "The records'
    # keys"). What guarantees them instead: the scan locks the tasks it reads (``FOR KEY SHARE``,
    # in one pass) and records only those; a task deleted by any writer takes its records with it
    # (the ORM's cascade here, and the trigger ``assessments_task_notices_gone``, migration 0013,
    # for a delete behind the ORM or racing a scan); the scan's row is inserted by the same
    # transaction. ``reconcile_stored`` counts and removes what a hand-written SQL could orphan.
    task = models.ForeignKey(
        Task,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("task"),
        db_index=False,  # the unique (task, stage) below is its index
        db_constraint=False,
    )
    stage = models.CharField(_("stage"), max_length=16)  # remind-<d>, supervise, report
    scan = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False, db_constraint=False
    )  # scans are never deleted: no index to keep up on the busy day's hundreds of thousands of rows
    recipients = ArrayField(models.BigIntegerField(), verbose_name=_("recipients"))

    class Meta:
        verbose_name = _("task notice")
        verbose_name_plural = _("task notices")
        constraints = [models.UniqueConstraint(fields=["task", "stage"], name="tasknotice_unique_stage")]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.stage}"


class Notification(models.Model):
    """One message to one person, e-mailed once: the digest of one scan's tasks that reached one
    kind of stage for this recipient (``stage`` ``remind``, ``supervise`` or ``report``; ``task_ids``
    lists at most ``RISK_REGISTRY_DIGEST_TASKS`` of them, most urgent first, ``task_count`` counts
    them all), or one deadline of another feature's source (see ``risk_registry.workflow.deadlines``)
    at one stage.

    A digest is written only for the task stages its scan recorded (``TaskNotice``, unique per task
    and stage), so it exists once. A source's row is unique by (source, object, due date, recipient,
    stage) and inserted with ``ON CONFLICT DO NOTHING``. The e-mail is claimed by a conditional
    UPDATE (pending → sending) before it is sent, so two deliveries never both send.
    """

    class Email(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("No e-mail address")
        FAILED = "failed", _("Failed")

    # a digest of the cycle's tasks: those it lists (at most the bound), and how many there are
    task_ids = ArrayField(models.BigIntegerField(), default=list, blank=True, verbose_name=_("tasks listed"))
    task_count = models.PositiveIntegerField(_("tasks"), default=0, db_default=0)
    # or a deadline of another feature (risk_registry.workflow.deadlines): its source, object and due date
    source = models.CharField(_("source"), max_length=24, blank=True, default="", db_default="")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    # No database constraint (scan3): the busiest day's 163,000 digests cost as many checks at
    # commit. Instead both writers (``SCAN_SQL``, ``scan._insert_from_source``) lock the recipients
    # they write to (``FOR KEY SHARE``, one pass) and skip one deleted meanwhile; a user deleted by
    # any writer takes their notifications along (the ORM's cascade, and the trigger
    # ``assessments_user_notifications_gone``, migration 0014, for SQL or a delete racing a scan).
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,  # notification_inbox starts with it
        db_constraint=False,
    )
    stage = models.CharField(_("stage"), max_length=16)
    # No database constraint (scan3): a digest's scan is the ``ScanRun`` its own transaction inserted,
    # committed with it, so no other transaction sees one without the other; deleting a scan (the
    # admin) sets its rows' scan to null through the ORM, after it is committed, so it sees them all.
    scan = models.ForeignKey(
        ScanRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        db_constraint=False,
    )
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail"), max_length=10, choices=Email.choices, default=Email.PENDING
    )  # notification_email_open: the delivery's sweeps read only pending and sending rows
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=255, blank=True)

    text: Any  # selectors.NotificationText, set by the inbox selector for the page (never stored)
    described: Any  # a deadline source's text of the row (selectors.describe_sources; never stored)
    tasks: Any  # a digest's listed tasks, in its order (selectors.describe_digests; never stored)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # a deadline moved (asked again) is a new deadline: its notices go out again, once each
            models.UniqueConstraint(
                fields=["source", "object_id", "due_on", "recipient", "stage"],
                condition=~Q(source=""),
                name="notification_unique_source_stage",
            ),
            models.CheckConstraint(
                condition=Q(source="", object_id__isnull=True, task_count__gt=0)
                | Q(object_id__isnull=False, due_on__isnull=False, task_count=0) & ~Q(source=""),
                name="notification_digest_or_source",
            ),
        ]
        # Every index here is written for each of the busiest day's 163,000 digests (scan2): the
        # recipient's own (FK) index and the e-mail state's pattern twin (``_like``), which no query
        # read, are gone; the e-mail state is indexed only where the delivery looks (pending,
        # sending), so the index stays as small as the mail not yet sent.
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            models.Index(
                fields=["email_status"],
                condition=Q(email_status__in=["pending", "sending"]),
                name="notification_email_open",
            ),
        ]

    def __str__(self) -> str:
        about = f"{self.task_count} task(s)" if self.is_digest else f"{self.source}:{self.object_id}"
        return f"{self.recipient} · {self.stage} · {about}"

    @property
    def is_digest(self) -> bool:
        return self.source == ""

    @property
    def unlisted(self) -> int:
        """The tasks of a digest its bound left out of the list (counted, not listed)."""
        return self.task_count - len(self.task_ids)


# The unit assessment's models live in their own module; imported here so Django registers them.
from assessments.unit_models import (  # noqa: E402
    Checklist,
    ChecklistItem,
    EvidenceSource,
    UnitAssessment,
    UnitEvidenceFile,
    UnitItem,
    UnitOutcome,
)

__all__ = [
    "Checklist",
    "ChecklistItem",
    "Cycle",
    "EvidenceSource",
    "Notification",
    "Phase",
    "ScanRun",
    "SelfAssessment",
    "Task",
    "TaskNotice",
    "UnitAssessment",
    "UnitEvidenceFile",
    "UnitItem",
    "UnitOutcome",
]
