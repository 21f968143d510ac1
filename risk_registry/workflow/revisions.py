"""Measures after 审定: controls written or revised after the grade was approved, through a review.

Where an institution's rules say so (``DecisionRules.measures_after_approval``; the Jiuquan plan:
"针对已经审定的各类风险点和风险等级，制定有针对性、具体的、可操作的防范措施"), a holder of an approved,
published or issued point — or its department head — proposes its controls as a revision
(``ControlRevision``); the department head or the discipline office approves it (the controls
change, the point's version moves, the next filed version carries them) or returns it with a
reason (nothing changes). Without the rule, the controls of an approved point cannot change at
all: the edit form is for drafts only. A filed version is never touched: its snapshot holds the
controls as filed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from controls.models import Control, ControlRevision, Rule, in_line_order
from controls.services import CONTROL_FIELDS, control_apply_changes
from risk_registry import access
from risk_registry.models import RiskPoint
from risk_registry.organisation.services import audit_record
from risk_registry.workflow.registers import decision_rules_for
from risk_registry.workflow.snapshots import control_row
from risk_registry.workflow.transitions import WorkflowConflict

REASON_MAX = 2000


def control_rows(controls: Iterable[Control]) -> list[dict[str, Any]]:
    """Controls as the data a revision shows (the shape of a snapshot's controls, with the id)."""
    return [{"id": c.pk, **control_row(c)} for c in controls]


def _current_rows(point: RiskPoint) -> list[dict[str, Any]]:
    return control_rows(Control.objects.filter(risk_point=point).select_related("rule").in_line_order())


def _clean_changes(point: RiskPoint, items: Iterable[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """The rows to apply (a rule by id) and the controls they would give, checked as the edit of
    a draft is: ids of this point only, a rule of the institution in force, a measure for each."""
    before = {row["id"]: row for row in _current_rows(point)}
    rules = {r.pk: r for r in Rule.objects.filter(institution_id=point.institution_id)}
    changes: list[dict] = []
    after = dict(before)
    added: list[dict] = []
    for item in items:
        pk = item.get("id")
        if pk and pk not in before:
            raise ValidationError(_("A control does not belong to this risk point."))
        measure = (item.get("measure") or "").strip()
        if not pk and (item.get("delete") or not measure):
            continue  # a blank or removed new row of the form
        if pk and item.get("delete"):
            changes.append({"id": pk, "delete": True})
            after.pop(pk)
            continue
        if not measure:
            raise ValidationError(_("A control needs a measure; delete it to remove it."))
        if item.get("line") not in Control.Line.values or (item.get("frequency") or "") not in (
            "",
            *Control.Frequency.values,
        ):
            raise ValidationError(_("Choose the line of defence and the frequency from the list."))
        rule = item.get("rule")
        rule_id = getattr(rule, "pk", rule)
        if rule_id is not None and rule_id not in rules:
            raise ValidationError(_("The rule belongs to another institution."))
        if (
            rule_id is not None
            and rules[rule_id].is_repealed
            and (not pk or before[pk]["rule"] != rules[rule_id].title)
        ):
            raise ValidationError(
                _("The rule %(title)s has been repealed: choose a rule in force.")
                % {"title": f"《{rules[rule_id].title}》"}
            )
        values = {name: item.get(name) or "" for name in CONTROL_FIELDS if name != "rule"}
        values["measure"] = measure
        row = {**values, "rule": rules[rule_id].title if rule_id is not None else ""}
        if pk:
            if {**row, "id": pk} == before[pk]:
                continue  # unchanged
            after[pk] = {**row, "id": pk}
        else:
            added.append({**row, "id": None})
        changes.append({**values, "id": pk or None, "rule": rule_id})
    return changes, in_line_order([*after.values(), *added])


@transaction.atomic
def control_revision_propose(
    *, by, risk_point: RiskPoint, controls: Iterable[dict[str, Any]], reason: str
) -> ControlRevision:
    """A holder (or the department head) proposes the controls of an approved point. Refused
    where the institution's rules do not let measures follow the approved grades, before 审定,
    while another revision of the point waits, or when it changes nothing."""
    point = RiskPoint.objects.select_for_update(of=("self",)).select_related("institution").get(pk=risk_point.pk)
    if not access.can_propose_control_revision(by, point):
        raise PermissionDenied
    if not decision_rules_for(point.institution).measures_after_approval:
        raise ValidationError(
            _(
                "This institution's rules do not let measures be revised after the approval (审定): the controls "
                "of an approved point stay as approved."
            )
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the revision."))
    if len(reason) > REASON_MAX:
        raise ValidationError(_("Give the reason in at most %(n)d characters.") % {"n": REASON_MAX})
    if ControlRevision.objects.filter(risk_point=point, status=ControlRevision.Status.PENDING).exists():
        raise ValidationError(_("A revision of this point's controls is already waiting for review."))
    changes, after = _clean_changes(point, controls)
    if not changes:
        raise ValidationError(_("The revision changes no control."))
    revision = ControlRevision.objects.create(
        risk_point=point,
        reason=reason,
        changes=changes,
        before=_current_rows(point),
        after=after,
        proposed_by=by,
    )
    audit_record(
        actor=by,
        action="control_revision.propose",
        target=point,
        institution=point.institution,
        summary=reason[:80],
        changes={"revision": revision.pk, "controls": [len(revision.before), len(after)]},
    )
    return revision


def _measures(rows: Iterable[dict]) -> str:
    return "；".join(row["measure"] for row in rows) or "—"


@transaction.atomic
def control_revision_review(*, by, revision: ControlRevision, approve: bool, note: str = "") -> ControlRevision:
    """The department head or the discipline office approves a revision (the point's controls
    become the proposed ones, its version moves, audited) or returns it with a reason (nothing
    else changes). Two reviewers at once: the point's row is locked first, so the second finds
    the revision decided and is told so; a revision whose point's controls changed since it was
    proposed cannot be approved (it would overwrite them) and is returned instead."""
    point = (
        RiskPoint.objects.select_for_update(of=("self",)).select_related("institution").get(pk=revision.risk_point_id)
    )
    revision = ControlRevision.objects.select_for_update(of=("self",)).get(pk=revision.pk)
    revision.risk_point = point
    if not access.can_review_control_revision(by, revision):
        raise PermissionDenied
    if not revision.is_pending:
        raise WorkflowConflict(_("Someone else has just reviewed this revision. Reload the page to see the outcome."))
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise ValidationError(_("Give the reason in at most %(n)d characters.") % {"n": REASON_MAX})
    if approve:
        if not decision_rules_for(point.institution).measures_after_approval:
            raise ValidationError(
                _("This institution's rules no longer let measures be revised after the approval: return the revision.")
            )
        if point.state not in access.SETTLED_STATES:
            raise ValidationError(
                _("The point has been reopened since: its controls are edited with its draft. Return the revision.")
            )
        if _current_rows(point) != revision.before:
            raise WorkflowConflict(
                _("The point's controls have changed since the revision was proposed: return it and propose it again.")
            )
        rules = Rule.objects.in_bulk([c["rule"] for c in revision.changes if c.get("rule")])
        control_apply_changes(
            risk_point=point,
            by=by,
            controls=[{**c, "rule": rules.get(c["rule"])} if "rule" in c else c for c in revision.changes],
        )
        point.version += 1  # read under the row lock
        point.save(update_fields=["version", "updated_at"])
    elif not note:
        raise ValidationError(_("Give the reason for returning the revision."))
    revision.status = ControlRevision.Status.APPROVED if approve else ControlRevision.Status.RETURNED
    revision.reviewed_by, revision.reviewed_at, revision.review_note = by, timezone.now(), note
    revision.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=by,
        action="control_revision.approve" if approve else "control_revision.return",
        target=point,
        institution=point.institution,
        summary=(note or revision.reason)[:80],
        changes={
            "revision": revision.pk,
            "reason": note or revision.reason,
            **({"controls": [_measures(revision.before), _measures(revision.after)]} if approve else {}),
        },
    )
    return revision
