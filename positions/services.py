"""Services for positions, holdings (with their object permissions) and the power inventory."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from positions.models import Disclosure, Holding, Position, PowerCategory, PowerItem, ProcessStep
from risk_registry.organisation.models import Department
from risk_registry.organisation.names import person
from risk_registry.organisation.services import apply_changes, audit_record, forget_scope

HOLD_PERMISSION = "positions.hold_position"


@transaction.atomic
def position_create(
    *,
    department: Department,
    title: str,
    kind: str = Position.Kind.GENERAL,
    is_key_post: bool = False,
    duties: str = "",
    by=None,
) -> Position:
    position = Position.objects.create(
        institution=department.institution,
        department=department,
        title=title,
        kind=kind,
        is_key_post=is_key_post,
        duties=duties,
    )
    audit_record(actor=by, action="position.create", target=position, institution=department.institution, summary=title)
    return position


@transaction.atomic
def holding_start(*, user, position: Position, started_on: datetime.date, by=None) -> Holding:
    """Start a holding and grant the holder's object permission on the position (idempotent)."""
    holding = Holding.objects.filter(user=user, position=position, ended_on__isnull=True).first()
    if holding is None:
        holding = Holding.objects.create(user=user, position=position, started_on=started_on)
        audit_record(
            actor=by,
            action="holding.start",
            target=holding,
            institution=position.institution,
            summary=f"{person(user)} → {position}",
        )
    assign_perm(HOLD_PERMISSION, user, position)
    forget_scope(user)
    return holding


@transaction.atomic
def holding_end(*, holding: Holding, ended_on: datetime.date, by=None) -> Holding:
    """End a holding and revoke the permission; the row is locked so a double end is a no-op.

    The register's side (flagging the post's points for re-grading) is
    ``risk_registry.services.holding_end``, which calls this."""
    callers_user = holding.user  # the caller's instance may carry a cached scope: drop it below
    holding = Holding.objects.select_for_update().select_related("position__institution").get(pk=holding.pk)
    if holding.ended_on is not None:
        return holding
    if ended_on < holding.started_on:
        raise ValidationError(_("A holding cannot end before it started."))
    holding.ended_on = ended_on
    holding.save(update_fields=["ended_on"])
    remove_perm(HOLD_PERMISSION, holding.user, holding.position)
    audit_record(
        actor=by,
        action="holding.end",
        target=holding,
        institution=holding.position.institution,
        summary=f"{person(holding.user)} ← {holding.position}",
    )
    for user in (holding.user, callers_user, by):
        if user is not None and user.pk == holding.user_id:
            forget_scope(user)
    return holding


@dataclass(frozen=True)
class PowerUpdate:
    item: PowerItem
    changed: bool
    position_ids: frozenset[int]  # the positions exercising the power, before and after


@transaction.atomic
def power_item_update(
    *, item: PowerItem, by=None, positions: Iterable[Position] | None = None, **fields
) -> PowerUpdate:
    """Change a power (its text or the positions exercising it). The register's side (flagging
    the points of every position concerned) is ``risk_registry.services.power_item_update``."""
    item = PowerItem.objects.select_for_update().get(pk=item.pk)
    before_positions = set(item.positions.values_list("pk", flat=True))
    allowed = {"name", "category", "legal_basis", "responsible_subject", "commitment", "discretion", "department"}
    if fields.keys() - allowed:
        raise ValidationError(_("Unknown power item fields: %(names)s") % {"names": ", ".join(fields.keys() - allowed)})
    changes = apply_changes(item, fields)
    if changes:
        item.save()
    after_positions = before_positions
    if positions is not None:
        positions = list(positions)
        if any(p.institution_id != item.institution_id for p in positions):
            raise ValidationError(_("A position belongs to another institution."))
        after_positions = {p.pk for p in positions}
        if after_positions != before_positions:
            item.positions.set(positions)
            changes["positions"] = [sorted(before_positions), sorted(after_positions)]
    if changes:
        audit_record(actor=by, action="power_item.update", target=item, institution=item.institution, changes=changes)
    return PowerUpdate(item=item, changed=bool(changes), position_ids=frozenset(before_positions | after_positions))


@transaction.atomic
def power_item_create(
    *,
    institution,
    name: str,
    category: PowerCategory,
    department: Department | None = None,
    positions: Iterable[Position] = (),
    steps: Iterable[str] = (),
    legal_basis: str = "",
    responsible_subject: str = "",
    commitment: str = "",
    discretion: str = "",
    by=None,
) -> PowerItem:
    """A power of the inventory, its positions and its ordered process steps."""
    positions = list(positions)
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    if any(p.institution_id != institution.pk for p in positions):
        raise ValidationError(_("A position belongs to another institution."))
    item = PowerItem.objects.create(
        institution=institution,
        department=department,
        name=name,
        category=category,
        legal_basis=legal_basis,
        responsible_subject=responsible_subject,
        commitment=commitment,
        discretion=discretion,
    )
    item.positions.set(positions)
    ProcessStep.objects.bulk_create(
        ProcessStep(power_item=item, order=index, name=step) for index, step in enumerate(steps, start=1)
    )
    audit_record(actor=by, action="power_item.create", target=item, institution=institution, summary=name)
    return item


@transaction.atomic
def power_item_retire(*, item: PowerItem, on: datetime.date, reason: str, by=None) -> PowerUpdate:
    """Retire a power (it leaves the inventory from that day; its history and points stay)."""
    item = PowerItem.objects.select_for_update().get(pk=item.pk)
    if item.retired_on is not None:
        raise ValidationError(_("This power item is already retired."))
    if not reason.strip():
        raise ValidationError(_("Say why the power item is retired."))
    item.retired_on = on
    item.retired_reason = reason.strip()[:255]
    item.save(update_fields=["retired_on", "retired_reason"])
    audit_record(actor=by, action="power_item.retire", target=item, institution=item.institution, summary=item.name)
    return PowerUpdate(item=item, changed=True, position_ids=frozenset(item.positions.values_list("pk", flat=True)))


STEP_FIELDS = ("name", "condition", "handling_position", "time_limit", "supervision", "counterpart_rights")


@dataclass(frozen=True)
class StepRow:
    """One row of the flow as the user left it: an existing step (``step``) or a new one."""

    step: ProcessStep | None
    delete: bool
    values: dict


@transaction.atomic
def process_steps_save(*, item: PowerItem, rows: Iterable[StepRow], by=None) -> PowerUpdate:
    """Save the power's flow in the order of ``rows``: change, add, delete steps, renumber.

    A step that risk points are pinned to cannot be deleted (move the points first)."""
    item = PowerItem.objects.select_for_update().get(pk=item.pk)
    rows = list(rows)
    # The stored steps, read under the item's lock: the rows' own instances are the form's, which
    # already carry the new values, so a change is told against these.
    existing = {step.pk: step for step in item.steps.select_related("handling_position")}
    if any(row.step is not None and row.step.pk not in existing for row in rows):
        raise ValidationError(_("A step belongs to another power item."))
    for row in rows:
        position = row.values.get("handling_position")
        if position is not None and position.institution_id != item.institution_id:
            raise ValidationError(_("A position belongs to another institution."))
    doomed = [row.step.pk for row in rows if row.step is not None and row.delete]
    pinned = set(ProcessStep.objects.filter(pk__in=doomed, risk_points__isnull=False).values_list("name", flat=True))
    if pinned:
        raise ValidationError(
            _("Risk points are pinned to these steps; move them before deleting: %(names)s")
            % {"names": "、".join(sorted(pinned))}
        )
    kept = [row for row in rows if not row.delete]
    if not kept:
        raise ValidationError(_("A flow needs at least one step."))
    before = [step.name for step in sorted(existing.values(), key=lambda step: step.order)]
    changes: dict[str, list] = {f"- {existing[pk].name}": ["deleted"] for pk in doomed}
    ProcessStep.objects.filter(pk__in=doomed).delete()
    # Two passes so that the unique (power item, order) holds at every statement.
    ProcessStep.objects.filter(power_item=item).update(order=models.F("order") + 1000)
    for order, row in enumerate(kept, start=1):
        step = existing[row.step.pk] if row.step is not None else ProcessStep(power_item=item)
        step_changes = apply_changes(step, {**row.values, "order": order})
        step.save()  # every kept step: the orders were moved out of the way above
        if row.step is None or step_changes:
            changes[f"{order}. {step.name}"] = ["added"] if row.step is None else sorted(step_changes)
    after = [row.values["name"] for row in kept]
    if changes:
        audit_record(
            actor=by,
            action="power_item.steps",
            target=item,
            institution=item.institution,
            summary=" → ".join(after),
            changes={"steps": [before, after], "changed": changes},
        )
    changed = bool(changes)
    return PowerUpdate(item=item, changed=changed, position_ids=frozenset(item.positions.values_list("pk", flat=True)))


@transaction.atomic
def disclosure_set(*, institution, scope: str, by=None) -> Disclosure:
    """Who may read the institution's public disclosure page (staff only, or everyone); audited."""
    if scope not in Disclosure.Scope.values:
        raise ValidationError(_("Unknown disclosure scope: %(scope)s") % {"scope": scope})
    disclosure, created = Disclosure.objects.select_for_update().get_or_create(institution=institution)
    if disclosure.scope != scope or created:
        before = None if created else disclosure.scope
        disclosure.scope = scope
        disclosure.save()
        audit_record(
            actor=by,
            action="disclosure.scope",
            target=disclosure,
            institution=institution,
            summary=str(Disclosure.Scope(scope).label),
            changes={"scope": [before, scope]},
        )
    return disclosure
