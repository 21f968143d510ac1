"""The audit trail: one row for every state change and every export. Rows are never updated."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    """Every action the audit trail records, with the label the audit page shows."""

    INSTITUTION_CREATE = "institution.create", _("Institution created")
    INSTITUTION_MOVE = "institution.move", _("Institution moved")
    INSTITUTION_GRADING_SCHEME = "institution.grading_scheme", _("Grading scheme adopted")
    GRADING_SCHEME_UPDATE = "grading_scheme.update", _("Grading matrix or bands changed")
    DEPARTMENT_CREATE = "department.create", _("Department created")
    MEMBERSHIP_GRANT = "membership.grant", _("Role granted")
    POSITION_CREATE = "position.create", _("Position created")
    HOLDING_START = "holding.start", _("Holding started")
    HOLDING_END = "holding.end", _("Holding ended")
    POWER_ITEM_CREATE = "power_item.create", _("Power item created")
    POWERCATEGORY_CREATE = "powercategory.create", _("Power category created")
    RISKTYPE_CREATE = "risktype.create", _("Risk type created")
    RISK_POINT_CREATE = "risk_point.create", _("Risk point drafted")
    RISK_POINT_UPDATE = "risk_point.update", _("Risk point edited")
    CONTROL_CREATE = "control.create", _("Control added")
    CONTROL_UPDATE = "control.update", _("Control edited")
    CONTROL_DELETE = "control.delete", _("Control removed")
    RULE_CREATE = "rule.create", _("Rule created")
    REGISTER_APPROVE = "register.approve", _("Register approved")
    REGISTER_APPRAISE = "register.appraise", _("Democratic appraisal recorded")
    REGISTER_NOT_PASSED = "register.not_passed", _("Decision recorded as not passed")
    REGISTER_SUPERIOR_APPROVE = "register.superior_approve", _("Grades approved by the superior office")
    REGISTER_PUBLISH = "register.publish", _("Register published for notice")
    REGISTER_NOTICE_EXTEND = "register.notice_extend", _("Notice period extended")
    DECISION_RULES_UPDATE = "decision_rules.update", _("Decision rules changed")
    REGISTER_ISSUE = "register.issue", _("Register issued")
    REGISTER_FILE = "register.file", _("Register signed and filed")
    NOTICE_COMMENT_CREATE = "notice_comment.create", _("Comment left during notice")
    NOTICE_COMMENT_ANSWER = "notice_comment.answer", _("Comment answered")
    LEVEL_PROPOSAL_CREATE = "level_proposal.create", _("Raising a level proposed")
    LEVEL_PROPOSAL_ACCEPT = "level_proposal.accept", _("Level proposal accepted")
    LEVEL_PROPOSAL_REJECT = "level_proposal.reject", _("Level proposal rejected")
    RISK_POINT_FLAG_REGRADING = "risk_point.flag_regrading", _("Flagged for re-grading")
    POST_GRADE_PROPOSE = "post_grade.propose", _("Post grades proposed")
    POST_GRADE_DECIDE = "post_grade.decide", _("Post grade decided")
    POWER_ITEM_UPDATE = "power_item.update", _("Power item changed")
    DOCUMENT_EXPORT = "document.export", _("Document exported")
    DOCUMENT_ARCHIVE = "document.archive", _("Annual archive exported")
    DOCUMENT_RERENDER = "document.rerender", _("Filed version's kept PDF missing or altered, rendered again")
    DOCUMENT_IMPORT = "document.import", _("Register imported from Excel")
    RISK_POINT_SUBMIT = "risk_point.submit", _("Risk point submitted")
    RISK_POINT_WITHDRAW = "risk_point.withdraw", _("Withdrawn by the holder")
    RISK_POINT_REVIEW = "risk_point.review", _("Passed department review")
    RISK_POINT_RETURN_TO_AUTHOR = "risk_point.return_to_author", _("Returned to the holder")
    RISK_POINT_DEFINE = "risk_point.define", _("Level defined")
    RISK_POINT_RETURN_TO_DEPARTMENT = "risk_point.return_to_department", _("Returned to the department")
    RISK_POINT_APPRAISE = "risk_point.appraise", _("Democratic appraisal recorded for the point")
    RISK_POINT_APPROVE = "risk_point.approve", _("Approved")
    RISK_POINT_RETURN_TO_DISCIPLINE = "risk_point.return_to_discipline", _("Returned to the discipline office")
    RISK_POINT_PUBLISH = "risk_point.publish", _("Published for notice")
    RISK_POINT_RETURN_FROM_NOTICE = "risk_point.return_from_notice", _("Sent back after notice")
    RISK_POINT_ISSUE = "risk_point.issue", _("Issued")
    RISK_POINT_REVISE = "risk_point.revise", _("Reopened for revision")
    CONTROL_RUN_CREATE = "control_run.create", _("Control run recorded")
    CONTROL_REVISION_PROPOSE = "control_revision.propose", _("Revision of the controls proposed")
    CONTROL_REVISION_APPROVE = "control_revision.approve", _("Revision of the controls approved")
    CONTROL_REVISION_RETURN = "control_revision.return", _("Revision of the controls returned")
    CYCLE_LAUNCH = "cycle.launch", _("Annual cycle launched")
    CYCLE_UPDATE = "cycle.update", _("Annual cycle changed")
    CYCLE_CLOSE = "cycle.close", _("Annual cycle closed")
    REGISTER_CARRY_OVER = "register.carry_over", _("Register carried over to the next year")
    SELF_ASSESSMENT_SUBMIT = "self_assessment.submit", _("Self-assessment submitted")
    UNIT_CHECKLIST_ADOPT = "unit_checklist.adopt", _("Assessment checklist adopted")
    UNIT_CHECKLIST_UPDATE = "unit_checklist.update", _("Assessment checklist changed")
    UNIT_OPEN = "unit_assessment.open", _("Unit assessment opened")
    UNIT_SELF_SCORE = "unit_assessment.self_score", _("Unit self-scores saved")
    UNIT_SELF_SUBMIT = "unit_assessment.self_submit", _("Unit self-assessment submitted")
    UNIT_EVIDENCE = "unit_assessment.evidence", _("Evidence file uploaded")
    UNIT_ASSESS_SCORE = "unit_assessment.assess_score", _("Unit assessment scores saved")
    UNIT_ASSESS = "unit_assessment.assess", _("Unit assessed")
    UNIT_OUTCOME = "unit_assessment.outcome", _("Assessment outcome recorded")
    UNIT_RECTIFIED = "unit_assessment.rectified", _("Rectification reported done")
    UNIT_EXPORT = "unit_assessment.export", _("Unit assessment results exported")
    SURVEY_ROUND_OPEN = "survey_round.open", _("Survey round opened")
    SURVEY_CODES_ISSUE = "survey_round.codes", _("Survey codes issued")
    SURVEY_CODES_PRINT = "survey_round.print", _("Survey codes printed")
    SURVEY_ROUND_CLOSE = "survey_round.close", _("Survey round closed")
    SURVEY_EXPORT = "survey_round.export", _("Survey results exported")
    RATING_ROUND_OPEN = "rating_round.open", _("Rating round opened")
    RATING_INVITE = "rating_round.invite", _("Rater invited")
    RATING_ROUND_CLOSE = "rating_round.close", _("Rating round closed")
    RATING_EXPORT = "rating_round.export", _("Rating results exported")
    WARNING_CREATE = "warning.create", _("Warning entered in the ledger")
    WARNING_VERIFY = "warning.verify", _("Warning verified")
    WARNING_GRANT = "warning.grant", _("Warning handler granted")
    WARNING_READ_CONFIDENTIAL = "warning.read_confidential", _("Confidential warning read")
    WARNING_LEDGER_EXPORT = "warning.ledger_export", _("Warning ledger exported")
    WARNING_POINT_DRAFT = "warning.point_draft", _("Risk point drafted from a warning")
    WARNING_GRADES_UPDATE = "warning.grades_update", _("Warning grade scale changed")
    DISPOSITION_ISSUE = "disposition.issue", _("Disposition issued")
    DISPOSITION_RESPOND = "disposition.respond", _("Disposition answered")
    DISPOSITION_ACCEPT = "disposition.accept", _("Disposition report accepted")
    DISPOSITION_ASK_AGAIN = "disposition.ask_again", _("Disposition report asked again")
    DISPOSITION_REJECT = "disposition.reject", _("Disposition report not accepted")
    DISPOSITION_LAPSE = "disposition.lapse", _("Disposition not answered in time")
    DISPOSITION_NOTICE_EXPORT = "disposition.notice_export", _("Disposition notice downloaded")
    DISPOSITION_ATTACHMENT_ADD = "disposition.attachment_add", _("File attached to a disposition report")
    DISPOSITION_ATTACHMENT_READ = "disposition.attachment_read", _("Disposition report file downloaded")
    POWER_ITEM_RETIRE = "power_item.retire", _("Power item retired")
    POWER_ITEM_STEPS = "power_item.steps", _("Process flow changed")
    RULE_UPDATE = "rule.update", _("Rule edited")
    RULE_REVISE = "rule.revise", _("Rule revised")
    RULE_REPEAL = "rule.repeal", _("Rule repealed")
    CATALOGUE_EXPORT = "catalogue.export", _("Catalogue exported")
    DOCUMENTS_HOUSEKEEPING = "documents.housekeeping", _("Old exports and unconfirmed uploads removed")
    POWER_ITEM_IMPORT = "power_item.import", _("Power inventory imported from Excel")
    RULE_ATTACH = "rule.attach", _("Rule's attachment changed")
    DISCLOSURE_SCOPE = "disclosure.scope", _("Public disclosure scope changed")


class ActorKind(models.TextChoices):
    """Who acted: a person (named by ``actor``, or nobody for an anonymous comment) or the system
    itself (a scheduled task), which is never attributed to a person who did nothing."""

    PERSON = "person", _("Person")
    SYSTEM = "system", _("System (scheduled task)")


class AuditEntry(models.Model):
    """Who did what to which object, when, with the before/after values that matter."""

    # Set by audit_record (now, or a coarser time where precision would identify a person: the
    # day of an anonymous comment).
    at = models.DateTimeField(_("time"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("actor")
    )
    actor_kind = models.CharField(_("actor kind"), max_length=8, choices=ActorKind.choices, default=ActorKind.PERSON)
    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("institution"),
    )
    # Not ``choices=AuditAction.choices``: a new action would then need a migration of this table.
    # ``action_label`` gives the words; tests/test_audit_actions.py keeps every action in the enum.
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.BigIntegerField(_("object id"))
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_("Made while its object was private (a draft): shown only to those who could see the draft."),
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target"),
            # The newest entry of each institution, one backward step each: where the audit page of
            # a part of the tree starts reading (``access.q_audit_from_newest``).
            models.Index(fields=["institution", "id"], name="audit_institution"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    @property
    def is_system(self) -> bool:
        return self.actor_kind == ActorKind.SYSTEM

    @property
    def action_label(self) -> str:
        """The action in words; an action unknown to ``AuditAction`` (an old row) as recorded."""
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
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
