"""Services of the warning ledger: enter and verify items, grant handlers, issue rungs of the
ladder and move dispositions through ``integrity_warnings.ladder.TRANSITIONS``. Each writes one
audit entry in its own transaction; none copies an item's source or facts into the audit trail.

Concurrency: every service that changes an item or its dispositions first locks the item row
(``select_for_update``). Two handlers acting at once are serialised on that lock; the second then
finds the state or version changed and gets ``WarningConflict`` (nothing written).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from integrity_warnings import access, files
from integrity_warnings.grades import scale_of
from integrity_warnings.ladder import (
    BY_NAME,
    OPEN_STATES,
    DispositionState,
    Measure,
    SubjectKind,
    measures_for,
    next_measures,
    rung_of,
)
from integrity_warnings.models import (
    HANDLE_PERMISSION,
    Disposition,
    NoticeSequence,
    ReportAttachment,
    Verification,
    WarningChannel,
    WarningGrade,
    WarningItem,
    WarningStatus,
)
from integrity_warnings.workdays import add_working_days
from risk_registry.access import is_staff_of
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditAction, Institution
from risk_registry.organisation.selectors import vocabulary_for
from risk_registry.organisation.services import audit_record
from risk_registry.services import risk_point_create

MAX_RESPONSE_DAYS = 60
DEFAULT_RESPONSE_DAYS = 5
# The 文号 of a notice is an identifier in the official style, the same in every UI language.
NOTICE_NUMBER = "{institution}廉预〔{year}〕{serial}号"
TRANSITION_ACTIONS = {
    "respond": AuditAction.DISPOSITION_RESPOND,
    "accept": AuditAction.DISPOSITION_ACCEPT,
    "ask_again": AuditAction.DISPOSITION_ASK_AGAIN,
    "reject": AuditAction.DISPOSITION_REJECT,
    "lapse": AuditAction.DISPOSITION_LAPSE,
}


class WarningConflict(Exception):
    """The item or disposition changed since the user loaded it."""


def _next_serial(*, institution: Institution, year: int, kind: str) -> int:
    """The next serial for (institution, year, kind), under a row lock: numbers never repeat."""
    NoticeSequence.objects.get_or_create(institution=institution, year=year, kind=kind)
    sequence = NoticeSequence.objects.select_for_update().get(institution=institution, year=year, kind=kind)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def _lock_item(item: WarningItem) -> WarningItem:
    return WarningItem.objects.select_for_update().select_related("institution", "channel").get(pk=item.pk)


def _check_subject(
    *, institution: Institution, subject_kind: str, subject_user, subject_name: str, position, department
):
    if subject_kind not in SubjectKind.values:
        raise ValidationError(_("Choose who the warning is about."))
    if subject_kind == SubjectKind.PERSON and subject_user is None and not subject_name.strip():
        raise ValidationError(_("Name the person the warning is about, or choose a user."))
    if subject_kind == SubjectKind.POSITION and position is None:
        raise ValidationError(_("Choose the position the warning is about."))
    if subject_kind == SubjectKind.DEPARTMENT and department is None:
        raise ValidationError(_("Choose the department the warning is about."))
    if subject_user is not None and not is_staff_of(subject_user, institution):
        raise ValidationError(_("The person has no role or position in this institution."))
    if position is not None and position.institution_id != institution.pk:
        raise ValidationError(_("The position belongs to another institution."))
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))


@transaction.atomic
def warning_item_create(
    *,
    by,
    institution: Institution,
    channel: WarningChannel,
    received_on: datetime.date,
    grade: WarningGrade,
    facts: str,
    source: str = "",
    subject_kind: str,
    subject_user=None,
    subject_name: str = "",
    subject_position=None,
    subject_department=None,
    risk_points=(),
    today: datetime.date | None = None,
) -> WarningItem:
    """Enter an item in the ledger; its registrar becomes its first handler."""
    if not access.can_register_in(by, institution):
        raise PermissionDenied
    today = today or timezone.localdate()
    if not vocabulary_for(model=WarningChannel, institution=institution).filter(pk=channel.pk).exists():
        raise ValidationError(_("This channel is not one of the institution's channels."))
    if received_on > today:
        raise ValidationError(_("The date received cannot be in the future."))
    if grade not in scale_of(institution):
        raise ValidationError(_("Choose a grade of the institution's own scale."))
    if not facts.strip():
        raise ValidationError(_("Describe the facts."))
    _check_subject(
        institution=institution,
        subject_kind=subject_kind,
        subject_user=subject_user,
        subject_name=subject_name,
        position=subject_position,
        department=subject_department,
    )
    points = list(risk_points)
    if any(point.institution_id != institution.pk for point in points):
        raise ValidationError(_("A linked risk point belongs to another institution."))
    serial = _next_serial(institution=institution, year=received_on.year, kind="item")
    item = WarningItem.objects.create(
        institution=institution,
        number=f"{received_on.year}-{serial:03d}",
        channel=channel,
        received_on=received_on,
        confidential=channel.confidential,
        source=source.strip(),
        facts=facts.strip(),
        subject_kind=subject_kind,
        subject_user=subject_user if subject_kind == SubjectKind.PERSON else None,
        subject_name=subject_name.strip() if subject_kind == SubjectKind.PERSON else "",
        subject_position=subject_position if subject_kind == SubjectKind.POSITION else None,
        subject_department=subject_department if subject_kind == SubjectKind.DEPARTMENT else None,
        grade=grade,
        created_by=by,
    )
    if points:
        item.risk_points.set(points)
    assign_perm(f"integrity_warnings.{HANDLE_PERMISSION}", by, item)
    audit_record(
        actor=by,
        action=AuditAction.WARNING_CREATE,
        target=item,
        institution=institution,
        summary=item.number,
        changes={"channel": channel.name, "grade": grade.label, "band": grade.band, "confidential": item.confidential},
    )
    return item


@transaction.atomic
def warning_item_verify(*, by, item: WarningItem, verification: str, version: int) -> WarningItem:
    """Record the verification (核实) with who and when."""
    item = _lock_item(item)
    if not access.can_act_on(by, item):
        raise PermissionDenied
    if item.version != version:
        raise WarningConflict
    if verification not in Verification.values or verification == Verification.PENDING:
        raise ValidationError(_("Choose a result of the verification."))
    before = item.verification
    item.verification, item.verified_by, item.verified_at = verification, by, timezone.now()
    item.version += 1
    item.save(update_fields=["verification", "verified_by", "verified_at", "version"])
    audit_record(
        actor=by,
        action=AuditAction.WARNING_VERIFY,
        target=item,
        institution=item.institution,
        summary=item.number,
        changes={"verification": [before, verification]},
    )
    return item


@transaction.atomic
def warning_handler_grant(*, by, item: WarningItem, user) -> None:
    """Make ``user`` a handler: a member of the item's discipline office, granted by a handler."""
    item = _lock_item(item)
    if not access.can_act_on(by, item):
        raise PermissionDenied
    if not access.can_register_in(user, item.institution):
        raise ValidationError(_("Only a member of the discipline office can handle this warning."))
    if access.is_handler(user, item):
        raise ValidationError(_("This person already handles the warning."))
    assign_perm(f"integrity_warnings.{HANDLE_PERMISSION}", user, item)
    audit_record(
        actor=by,
        action=AuditAction.WARNING_GRANT,
        target=item,
        institution=item.institution,
        summary=item.number,
        changes={"handler": user.pk},
    )


def warning_confidential_read(*, by, item: WarningItem) -> None:
    """Audit one read of a confidential item's source and facts (call when showing them)."""
    audit_record(
        actor=by,
        action=AuditAction.WARNING_READ_CONFIDENTIAL,
        target=item,
        institution=item.institution,
        summary=item.number,
    )


def measures_open(item: WarningItem) -> list[str]:
    """What the office may issue on ``item`` now (nothing while a rung is open or the item ended)."""
    if item.status in (WarningStatus.CLOSED, WarningStatus.REFERRED):
        return []
    if item.dispositions.filter(state__in=OPEN_STATES).exists():
        return []
    return next_measures(subject_kind=item.subject_kind, failed_rung=item.failed_rung)


@transaction.atomic
def disposition_issue(
    *,
    by,
    item: WarningItem,
    measure: str,
    recipient_name: str,
    notice_facts: str,
    requirement: str,
    recipient_user=None,
    reason: str = "",
    response_days: int = DEFAULT_RESPONSE_DAYS,
    version: int,
    today: datetime.date | None = None,
) -> Disposition:
    """Issue the next rung: a numbered notice with a response deadline in working days."""
    item = _lock_item(item)
    if not access.can_act_on(by, item):
        raise PermissionDenied
    if item.version != version:
        raise WarningConflict
    today = today or timezone.localdate()
    if measure not in measures_for(item.subject_kind):
        raise ValidationError(_("This measure does not apply to this subject."))
    allowed = measures_open(item)
    if measure not in allowed:
        if not allowed:
            raise ValidationError(_("No measure can be issued now: a notice is still open or the warning has ended."))
        raise ValidationError(
            _("This rung is not open yet: the one below it must first have failed (not answered or not accepted).")
        )
    if item.failed_rung is not None and not reason.strip():
        raise ValidationError(_("Say why the warning moves up the ladder."))
    if not recipient_name.strip():
        raise ValidationError(_("Name the recipient of the notice."))
    if recipient_user is not None and not is_staff_of(recipient_user, item.institution):
        raise ValidationError(_("The recipient has no role or position in this institution."))
    if not notice_facts.strip() or not requirement.strip():
        raise ValidationError(_("Write the facts and the requirement the notice states."))
    _check_response_days(response_days)
    rung = rung_of(measure)
    serial = _next_serial(institution=item.institution, year=today.year, kind="notice")
    disposition = Disposition.objects.create(
        item=item,
        measure=measure,
        rung=rung.rung,
        number=NOTICE_NUMBER.format(institution=item.institution.name, year=today.year, serial=serial),
        recipient_user=recipient_user,
        recipient_name=recipient_name.strip(),
        notice_facts=notice_facts.strip(),
        requirement=requirement.strip(),
        reason=reason.strip(),
        issued_by=by,
        issued_on=today,
        response_days=response_days,
        due_on=add_working_days(start=today, days=response_days, institution=item.institution)
        if rung.needs_response
        else None,
        state=DispositionState.ISSUED if rung.needs_response else DispositionState.DONE,
    )
    item.status = WarningStatus.IN_DISPOSITION if rung.needs_response else WarningStatus.REFERRED
    item.version += 1
    item.save(update_fields=["status", "version"])
    audit_record(
        actor=by,
        action=AuditAction.DISPOSITION_ISSUE,
        target=disposition,
        institution=item.institution,
        summary=disposition.number,
        changes={"item": item.number, "measure": measure, "due_on": str(disposition.due_on or "")},
    )
    return disposition


@transaction.atomic
def disposition_transition(
    *,
    by,
    disposition: Disposition,
    name: str,
    version: int,
    reason: str = "",
    cause_analysis: str = "",
    measures_taken: str = "",
    response_days: int = DEFAULT_RESPONSE_DAYS,
    today: datetime.date | None = None,
) -> Disposition:
    """Apply one step of the table to a disposition (the only writer of ``Disposition.state``)."""
    step = BY_NAME.get(name)
    if step is None:
        raise ValidationError(_("Unknown step."))
    item = _lock_item(disposition.item)  # the item first: every writer of the ladder takes this lock
    disposition = Disposition.objects.select_for_update().get(pk=disposition.pk)
    disposition.item = item
    allowed = access.can_respond(by, disposition) if step.by_recipient else access.can_act_on(by, disposition.item)
    if not allowed:
        raise PermissionDenied
    if disposition.version != version:
        raise WarningConflict
    if disposition.state not in step.sources:
        raise WarningConflict
    today = today or timezone.localdate()
    if step.needs_reason and not reason.strip():
        raise ValidationError(_("Give a reason."))
    if step.needs_overdue and (disposition.due_on is None or disposition.due_on >= today):
        raise ValidationError(_("The time to answer has not run out yet."))
    if step.by_recipient:
        fields = _record_report(disposition, by=by, cause_analysis=cause_analysis, measures_taken=measures_taken)
    else:
        disposition.decision_note, disposition.decided_at = reason.strip(), timezone.now()
        fields = ["decision_note", "decided_at"]
    if name == "ask_again":
        _check_response_days(response_days)
        disposition.due_on = add_working_days(start=today, days=response_days, institution=item.institution)
        fields.append("due_on")
    before = disposition.state
    disposition.state = step.target
    disposition.version += 1
    disposition.save(update_fields=[*fields, "state", "version"])
    if step.target == DispositionState.ACCEPTED:
        item.status = WarningStatus.CLOSED
    elif step.target == DispositionState.FAILED:
        item.failed_rung = max(disposition.rung, item.failed_rung if item.failed_rung is not None else -1)
    item.version += 1
    item.save(update_fields=["status", "failed_rung", "version"])
    audit_record(
        actor=by,
        action=TRANSITION_ACTIONS[name],
        target=disposition,
        institution=item.institution,
        summary=disposition.number,
        changes={"state": [before, step.target]},
    )
    return disposition


def _record_report(disposition: Disposition, *, by, cause_analysis: str, measures_taken: str) -> list[str]:
    """The recipient's written report (成因剖析 and 整改措施): both parts are required."""
    if not cause_analysis.strip() or not measures_taken.strip():
        raise ValidationError(_("Write both the cause analysis and the corrective measures."))
    disposition.cause_analysis, disposition.measures_taken = cause_analysis.strip(), measures_taken.strip()
    disposition.responded_at, disposition.responded_by = timezone.now(), by
    return ["cause_analysis", "measures_taken", "responded_at", "responded_by"]


def _check_response_days(response_days: int) -> None:
    if not 1 <= response_days <= MAX_RESPONSE_DAYS:
        raise ValidationError(
            _("The time to answer must be between 1 and %(max)d working days.") % {"max": MAX_RESPONSE_DAYS}
        )


@transaction.atomic
def warning_point_draft(*, by, item: WarningItem, year: int, fields: dict, controls=()) -> RiskPoint:
    """A draft risk point from a warning, through the register's own ``risk_point_create`` (so its
    rules decide: the holder of a linked post, or the department head), linked to the item."""
    item = _lock_item(item)
    target = access.draft_target(by, item)
    if target is None:
        raise PermissionDenied
    department, position = target
    point = risk_point_create(
        by=by, department=department, position=position, year=year, fields=fields, controls=controls
    )
    item.risk_points.add(point)
    audit_record(
        actor=by,
        action=AuditAction.WARNING_POINT_DRAFT,
        target=item,
        institution=item.institution,
        summary=item.number,
        changes={"risk_point": point.pk},
    )
    return point


def _file_name(name: str, kind: str) -> str:
    """The uploader's file name without folders or control characters, with the sniffed extension."""
    base = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    stem = base.rsplit(".", 1)[0].strip() if "." in base else base
    extension = "jpg" if kind == "jpeg" else kind
    fallback = _("attachment")
    return f"{stem[:110] or fallback}.{extension}"


@transaction.atomic
def report_attachment_add(*, by, disposition: Disposition, upload) -> ReportAttachment:
    """Attach a file to the written report, while the notice waits for it (by whoever writes it)."""
    item = _lock_item(disposition.item)
    disposition = Disposition.objects.get(pk=disposition.pk)
    disposition.item = item
    if not access.can_respond(by, disposition):
        raise PermissionDenied
    if disposition.state != DispositionState.ISSUED:
        raise ValidationError(_("Files can be attached only while the notice waits for its report."))
    if disposition.attachments.count() >= settings.RISK_REGISTRY_WARNING_FILES_PER_REPORT:
        raise ValidationError(
            _("At most %(n)d files can be attached to a report.")
            % {"n": settings.RISK_REGISTRY_WARNING_FILES_PER_REPORT}
        )
    kind = files.check(upload)
    stored = files.store(upload, kind)
    try:
        attachment = ReportAttachment.objects.create(
            disposition=disposition,
            name=_file_name(upload.name or "", kind),
            kind=kind,
            size=stored.size,
            sha256=stored.sha256,
            stored_as=stored.stored_as,
            uploaded_by=by,
        )
        audit_record(
            actor=by,
            action=AuditAction.DISPOSITION_ATTACHMENT_ADD,
            target=disposition,
            institution=item.institution,
            summary=disposition.number,
            changes={"file": attachment.pk, "kind": kind, "size": stored.size},
        )
    except BaseException:
        files.discard(stored.stored_as)
        raise
    return attachment


def report_attachment_read(*, by, attachment: ReportAttachment) -> None:
    """Record a download (the view has asked the access module): the file's id, never its content."""
    if not access.can_read_attachments(by, attachment.disposition):
        raise PermissionDenied
    audit_record(
        actor=by,
        action=AuditAction.DISPOSITION_ATTACHMENT_READ,
        target=attachment.disposition,
        institution=attachment.disposition.item.institution,
        summary=attachment.disposition.number,
        changes={"file": attachment.pk},
    )


__all__ = ["Measure"]
