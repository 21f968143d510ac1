"""Services that write controls. Callers (the risk-point services) have already checked the right."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from controls import attachments
from controls.models import Control, ControlRun, Rule
from controls.quality import vague_controls
from risk_registry import access
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation import work
from risk_registry.organisation.dates import EARLIEST_DATE
from risk_registry.organisation.services import apply_changes, audit_record
from risk_registry.organisation.text import printable

RUN_DESCRIPTION_MAX = 2000
CONTROL_FIELDS = ("line", "measure", "owner", "frequency", "evidence", "rule")


def _counted(controls: QuerySet[Control]) -> Coalesce:
    """The number of ``controls`` of the outer point, as a subquery."""
    per_point = controls.filter(risk_point_id=OuterRef("pk")).order_by().values("risk_point_id").annotate(n=Count("id"))
    return Coalesce(Subquery(per_point.values("n")), Value(0), output_field=IntegerField())


def control_quality_refresh(points: QuerySet[RiskPoint]) -> int:
    """Store the control quality of ``points`` (``RiskPoint.controls_count``, ``vague_controls``,
    as ``controls.quality`` defines vague) in one UPDATE that writes only the points whose figures
    change; returns how many. Called by every service that writes controls, and by
    ``manage.py reconcile_stored`` over every point."""
    count, vague = _counted(Control.objects.all()), _counted(vague_controls())
    return (
        points.order_by()
        .exclude(controls_count=count, vague_controls=vague)
        .update(controls_count=count, vague_controls=vague)
    )


@transaction.atomic
def control_apply_changes(*, risk_point, by, controls: Iterable[dict[str, Any]]) -> list[Control]:
    """Create, update or delete the controls of a draft point.

    Each item is a dict of CONTROL_FIELDS, with ``id`` for an existing control and ``delete`` to
    remove it. Controls of other points are refused: an id from another point is an error, not
    a silent no-op.
    """
    items = list(controls)
    private = risk_point.state == RiskPointState.DRAFT  # a draft's controls are as private as its text
    wanted_ids = {item["id"] for item in items if item.get("id")}
    existing = {c.pk: c for c in Control.objects.filter(risk_point=risk_point, pk__in=wanted_ids)}
    if wanted_ids - existing.keys():
        raise ValidationError(_("A control does not belong to this risk point."))
    result = []
    for item in items:
        control = existing.get(item["id"]) if item.get("id") else None
        rule = item.get("rule")
        if rule is not None and rule.institution_id != risk_point.institution_id:
            raise ValidationError(_("The rule belongs to another institution."))
        if rule is not None and rule.is_repealed and (control is None or control.rule_id != rule.pk):
            # a control that rested on it keeps it (its point is flagged); no new control may
            raise ValidationError(
                _("The rule %(title)s has been repealed: choose a rule in force.") % {"title": f"《{rule.title}》"}
            )
        if control is not None and item.get("delete"):
            audit_record(
                actor=by,
                action="control.delete",
                target=control,
                institution=risk_point.institution,
                summary=control.measure[:80],
                private=private,
            )
            control.delete()
            continue
        values = {name: item[name] for name in CONTROL_FIELDS if name in item}
        if control is None:
            if item.get("delete") or not (values.get("measure") or "").strip():
                continue  # an empty or removed blank row of the form
            control = Control.objects.create(risk_point=risk_point, **values)
            audit_record(
                actor=by,
                action="control.create",
                target=control,
                institution=risk_point.institution,
                summary=control.measure[:80],
                private=private,
            )
        else:
            if "measure" in values and not (values["measure"] or "").strip():
                raise ValidationError(_("A control needs a measure; delete it to remove it."))
            changes = apply_changes(control, values)
            if changes:
                control.save()
                audit_record(
                    actor=by,
                    action="control.update",
                    target=control,
                    institution=risk_point.institution,
                    summary=control.measure[:80],
                    changes=changes,
                    private=private,
                )
        result.append(control)
    control_quality_refresh(RiskPoint.objects.filter(pk=risk_point.pk))
    return result


@transaction.atomic
def rule_create(
    *,
    institution,
    title: str,
    document_number: str = "",
    issuing_body: str = "",
    effective_on=None,
    summary: str = "",
    text: str = "",
    department=None,
    published: bool = False,
    by=None,
) -> Rule:
    """Record a regulation (制度) of the institution that controls can rest on: an entry of its
    制度目录. Revising and repealing it flag the points of its controls
    (``risk_registry.services.rule_revise`` / ``rule_repeal``)."""
    if not (title or "").strip():
        raise ValidationError(_("A rule needs a title."))
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    rule = Rule.objects.create(
        institution=institution,
        department=department,
        title=title.strip(),
        document_number=document_number,
        issuing_body=issuing_body,
        effective_on=effective_on,
        summary=summary,
        text=text,
        published=published,
    )
    audit_record(actor=by, action="rule.create", target=rule, institution=institution, summary=rule.title)
    work.work_changed(work.RULES, institution_ids=[institution.pk])
    return rule


def _attachment_changes(rule: Rule) -> dict[str, Any]:
    return {"name": rule.attachment_name, "type": rule.attachment_type, "size": rule.attachment_size}


@transaction.atomic
def rule_attachment_set(*, rule: Rule, name: str, data: bytes, by=None) -> Rule:
    """Attach a file to a rule (a scan, the signed PDF, the Word original), replacing any earlier
    one; its kind is sniffed from its content (``controls.attachments``). Audited; the file
    replaced is removed once the change is committed. A repealed rule keeps its file as it was."""
    kind = attachments.check(data)
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_repealed:
        raise ValidationError(_("A repealed rule stays as it was when it was repealed."))
    before = _attachment_changes(rule)
    old_key = rule.attachment_key
    given = PurePath(printable(name).replace("\\", "/")).name.strip()
    # the name shown keeps what the user called it, with the extension of what the file is
    stem = f"{PurePath(given).stem or rule.title}.{kind.extension}"
    rule.attachment_key = attachments.store(data, kind)
    rule.attachment_name = stem[: Rule._meta.get_field("attachment_name").max_length]
    rule.attachment_type = kind.content_type
    rule.attachment_size = len(data)
    rule.save(update_fields=["attachment_key", "attachment_name", "attachment_type", "attachment_size"])
    if old_key:
        transaction.on_commit(lambda: attachments.remove(old_key))
    audit_record(
        actor=by,
        action="rule.attach",
        target=rule,
        institution=rule.institution,
        summary=rule.attachment_name,
        changes={"attachment": [before, _attachment_changes(rule)]},
    )
    return rule


@transaction.atomic
def rule_attachment_remove(*, rule: Rule, by=None) -> Rule:
    """Take the file off a rule (audited); the file is removed once the change is committed."""
    rule = Rule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_repealed:
        raise ValidationError(_("A repealed rule stays as it was when it was repealed."))
    if not rule.attachment_key:
        return rule
    before, old_key = _attachment_changes(rule), rule.attachment_key
    rule.attachment_key = rule.attachment_name = rule.attachment_type = ""
    rule.attachment_size = 0
    rule.save(update_fields=["attachment_key", "attachment_name", "attachment_type", "attachment_size"])
    transaction.on_commit(lambda: attachments.remove(old_key))
    audit_record(
        actor=by,
        action="rule.attach",
        target=rule,
        institution=rule.institution,
        summary=_("Attachment removed: %(name)s") % {"name": before["name"]},
        changes={"attachment": [before, None]},
    )
    return rule


@transaction.atomic
def control_run_record(*, by, control: Control, ran_on, description: str, evidence: str = "") -> ControlRun:
    """Record that a control ran (落实情况). The holder of the point's position records it (the
    department head for a department-level point); a run cannot be dated in the future."""
    if not access.can_record_control_run(by, control):
        raise PermissionDenied
    if ran_on > timezone.localdate():
        raise ValidationError(_("A control cannot have run in the future."))
    if ran_on < EARLIEST_DATE:
        raise ValidationError(_("A run cannot be dated before %(date)s.") % {"date": EARLIEST_DATE.isoformat()})
    if not description.strip():
        raise ValidationError(_("Say how the control ran."))
    if len(description) > RUN_DESCRIPTION_MAX:
        raise ValidationError(_("Say how the control ran in at most %(n)d characters.") % {"n": RUN_DESCRIPTION_MAX})
    run = ControlRun.objects.create(
        control=control, ran_on=ran_on, description=description.strip(), evidence=evidence.strip(), recorded_by=by
    )
    audit_record(
        actor=by,
        action="control_run.create",
        target=run,
        institution=control.risk_point.institution,
        summary=f"{control.measure[:60]} · {ran_on}",
    )
    work.work_changed(work.CONTROL_RUNS, ids=[control.pk])
    return run
