"""The audit trail: one row for every state change and every export. Rows are never updated."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "institution.create": _("Institution created"),
    "institution.move": _("Institution moved"),
    "institution.grading_scheme": _("Grading scheme adopted"),
    "department.create": _("Department created"),
    "membership.grant": _("Role granted"),
    "position.create": _("Position created"),
    "holding.start": _("Holding started"),
    "holding.end": _("Holding ended"),
    "power_item.create": _("Power item created"),
    "powercategory.create": _("Power category created"),
    "risktype.create": _("Risk type created"),
    "risk_point.create": _("Risk point drafted"),
    "risk_point.update": _("Risk point edited"),
    "control.create": _("Control added"),
    "control.update": _("Control edited"),
    "control.delete": _("Control removed"),
    "rule.create": _("Rule created"),
    "register.approve": _("Register approved"),
    "register.appraise": _("Democratic appraisal recorded"),
    "register.publish": _("Register published for notice"),
    "register.issue": _("Register issued"),
    "register.file": _("Register signed and filed"),
    "notice_comment.create": _("Comment left during notice"),
    "notice_comment.answer": _("Comment answered"),
    "level_proposal.create": _("Raising a level proposed"),
    "level_proposal.accept": _("Level proposal accepted"),
    "level_proposal.reject": _("Level proposal rejected"),
    "risk_point.flag_regrading": _("Flagged for re-grading"),
    "power_item.update": _("Power item changed"),
    "document.export": _("Document exported"),
    "document.archive": _("Annual archive exported"),
    "document.import": _("Register imported from Excel"),
}


class AuditEntry(models.Model):
    """Who did what to which object, when, with the before/after values that matter."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    institution = models.ForeignKey(
        "risk_registry.Institution",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("institution"),
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.BigIntegerField(_("object id"))
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-at"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    @property
    def action_label(self) -> str:
        if self.action in ACTION_LABELS:
            return str(ACTION_LABELS[self.action])
        if self.action.startswith("risk_point."):
            from risk_registry.workflow import BY_NAME

            step = BY_NAME.get(self.action.removeprefix("risk_point."))
            if step is not None:
                return str(step.label)
        return self.action


class SchedulerHeartbeat(models.Model):
    """One row per beat task name: when the worker last ran it (shown on the health page)."""

    name = models.CharField(max_length=64, unique=True)
    last_run_at = models.DateTimeField()
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("scheduler heartbeat")
        verbose_name_plural = _("scheduler heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_run_at:%Y-%m-%d %H:%M:%S}"
