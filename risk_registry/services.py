"""Services that write the organisation, grading and risk points. Each writes its audit entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from risk_registry import access
from risk_registry.models import (
    AuditEntry,
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    RiskPoint,
    RiskPointState,
    Role,
)
from risk_registry.presets import GRADING_PRESETS

RISK_POINT_FIELDS = (
    "risk_type",
    "found_by",
    "description",
    "manifestation",
    "likelihood",
    "severity",
    "power_item",
    "process_step",
)


# --- audit ----------------------------------------------------------------------------------


def audit_record(
    *,
    actor,
    action: str,
    target,
    institution: Institution | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; call inside the transaction of the change it records."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        institution=institution,
        summary=summary[:255],
        changes=changes or {},
    )


def apply_changes(obj, values: dict[str, Any]) -> dict[str, list]:
    """Set ``values`` on ``obj``; return ``{field: [before, after]}`` of those that changed, in
    the form audit entries keep."""
    changes = {}
    for name, value in values.items():
        before = getattr(obj, name)
        if before != value:
            changes[name] = [audit_value(before), audit_value(value)]
            setattr(obj, name, value)
    return changes


def audit_value(value):
    """An audited value: related objects by their name, so the history reads without lookups."""
    if hasattr(value, "pk"):
        return str(value)
    return value


# --- organisation ---------------------------------------------------------------------------


@transaction.atomic
def institution_create(*, code: str, name: str, kind: str, parent: Institution | None = None, by=None) -> Institution:
    """Create an institution and give it its materialised path (needs its id, hence two writes)."""
    institution = Institution.objects.create(code=code, name=name, kind=kind, parent=parent)
    prefix = parent.path if parent else "/"
    institution.path = f"{prefix}{institution.pk}/"
    institution.depth = parent.depth + 1 if parent else 0
    institution.save(update_fields=["path", "depth"])
    audit_record(actor=by, action="institution.create", target=institution, institution=institution, summary=name)
    return institution


@transaction.atomic
def institution_move(*, institution: Institution, new_parent: Institution | None, by=None) -> Institution:
    """Re-parent an institution and rewrite the paths of its whole subtree in one UPDATE."""
    if new_parent is not None and new_parent.is_within(institution):
        raise ValidationError(_("An institution cannot be moved below itself."))
    old_path = institution.path
    new_path = f"{new_parent.path if new_parent else '/'}{institution.pk}/"
    depth_change = (new_parent.depth + 1 if new_parent else 0) - institution.depth
    Institution.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + depth_change,
    )
    Institution.objects.filter(pk=institution.pk).update(parent=new_parent)
    institution.refresh_from_db()
    audit_record(
        actor=by,
        action="institution.move",
        target=institution,
        institution=institution,
        changes={"path": [old_path, new_path]},
    )
    return institution


@transaction.atomic
def department_create(
    *, institution: Institution, name: str, kind: str = Department.Kind.OFFICE, order: int = 0, by=None
) -> Department:
    department = Department.objects.create(institution=institution, name=name, kind=kind, order=order)
    audit_record(actor=by, action="department.create", target=department, institution=institution, summary=name)
    return department


@transaction.atomic
def membership_grant(
    *, user, institution: Institution, role: str, department: Department | None = None, by=None
) -> Membership:
    """Give a user a role; idempotent. Department heads must name their department."""
    if (role == Role.DEPT_HEAD) != (department is not None):
        raise ValidationError(_("A department head needs a department, and only a department head has one."))
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    membership, created = Membership.objects.get_or_create(
        user=user, institution=institution, role=role, department=department
    )
    if created:
        audit_record(
            actor=by, action="membership.grant", target=membership, institution=institution, summary=f"{user} {role}"
        )
    access.forget_scope(user)
    return membership


@transaction.atomic
def vocabulary_term_create(*, model, institution: Institution | None, code: str, name: str, order: int = 0, by=None):
    """Add a term to a vocabulary (risk types, power categories). An institution's first own term
    replaces the defaults for that institution (see selectors.vocabulary_for)."""
    term = model.objects.create(institution=institution, code=code, name=name, order=order)
    audit_record(
        actor=by, action=f"{model._meta.model_name}.create", target=term, institution=institution, summary=name
    )
    return term


# --- grading --------------------------------------------------------------------------------


def grading_presets() -> list[GradingScheme]:
    return list(GradingScheme.objects.filter(institution__isnull=True).prefetch_related("levels"))


@transaction.atomic
def grading_scheme_create(*, definition: dict, institution: Institution | None) -> GradingScheme:
    """Create a scheme and its levels from a preset-shaped dict, validating the matrix."""
    scheme = GradingScheme.objects.create(
        institution=institution,
        code=definition["code"],
        name=definition["name"],
        description=definition.get("description", ""),
        source=definition.get("source", ""),
        likelihood_labels=list(definition["likelihood"]),
        severity_labels=list(definition["severity"]),
        matrix=[list(row) for row in definition["matrix"]],
    )
    GradeLevel.objects.bulk_create(
        GradeLevel(
            scheme=scheme,
            **{key: level[key] for key in ("code", "name", "rank", "colour", "supervisor_role")},
            supervision=level.get("supervision", ""),
        )
        for level in definition["levels"]
    )
    scheme.full_clean()
    return scheme


@transaction.atomic
def grading_scheme_adopt_preset(*, institution: Institution, preset_code: str, by=None) -> GradingScheme:
    """Copy a preset into the institution and make it the institution's scheme (idempotent)."""
    existing = GradingScheme.objects.filter(institution=institution, code=preset_code).first()
    if existing is None:
        definition = next((p for p in GRADING_PRESETS if p["code"] == preset_code), None)
        if definition is None:
            raise ValidationError(_("Unknown grading preset: %(code)s") % {"code": preset_code})
        existing = grading_scheme_create(definition=definition, institution=institution)
    if institution.grading_scheme_id != existing.pk:
        before = institution.grading_scheme_id
        institution.grading_scheme = existing
        institution.save(update_fields=["grading_scheme"])
        audit_record(
            actor=by,
            action="institution.grading_scheme",
            target=institution,
            institution=institution,
            changes={"grading_scheme": [before, existing.pk]},
        )
    return existing


def grade_level_for(*, institution: Institution, likelihood: int, severity: int) -> GradeLevel:
    """The level an institution's scheme gives a (likelihood, severity) pair."""
    scheme = institution.grading_scheme
    if scheme is None:
        raise ValidationError(_("%(institution)s has no grading scheme yet.") % {"institution": institution})
    code = scheme.level_code_for(likelihood, severity)
    return GradeLevel.objects.get(scheme=scheme, code=code)


# --- risk points ----------------------------------------------------------------------------


def _check_placement(
    *, institution: Institution, department: Department, position, risk_type, power_item, process_step
) -> None:
    """Refuse a point whose parts belong elsewhere; the forms offer only valid choices, but the
    services are the last line: a crafted POST must not attach another unit's data."""
    from risk_registry.selectors import risk_types_for

    if department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    if position is not None and position.department_id != department.pk:
        raise ValidationError(_("The position belongs to another department."))
    if risk_type is not None and not risk_types_for(institution).filter(pk=risk_type.pk).exists():
        raise ValidationError(_("The risk type is not one of this institution's risk types."))
    if power_item is not None:
        exercised = power_item.positions.filter(pk=position.pk).exists() if position is not None else False
        if power_item.institution_id != institution.pk or not (exercised or power_item.department_id == department.pk):
            raise ValidationError(_("The power item is not exercised by this position or department."))
    if process_step is not None and (power_item is None or process_step.power_item_id != power_item.pk):
        raise ValidationError(_("The process step belongs to another power item."))


@transaction.atomic
def risk_point_create(
    *,
    by,
    department: Department,
    position=None,
    year: int,
    fields: dict[str, Any],
    controls: Iterable[dict[str, Any]] = (),
) -> RiskPoint:
    """A holder (on their position) or a department head (department-level) drafts a point."""
    from controls.services import control_apply_changes

    allowed = (
        access.can_add_risk_point_to_position(by, position)
        if position is not None
        else access.can_add_risk_point_to_department(by, department)
    )
    access.require(allowed)
    institution = department.institution
    values = {name: fields.get(name) for name in RISK_POINT_FIELDS if name in fields}
    _check_placement(
        institution=institution,
        department=department,
        position=position,
        risk_type=values.get("risk_type"),
        power_item=values.get("power_item"),
        process_step=values.get("process_step"),
    )
    level = grade_level_for(institution=institution, likelihood=values["likelihood"], severity=values["severity"])
    risk_point = RiskPoint.objects.create(
        institution=institution,
        department=department,
        position=position,
        year=year,
        level=level,
        state=RiskPointState.DRAFT,
        created_by=by,
        **values,
    )
    audit_record(
        actor=by,
        action="risk_point.create",
        target=risk_point,
        institution=institution,
        summary=risk_point.description[:80],
        changes={"level": [None, level.name], "state": [None, RiskPointState.DRAFT]},
    )
    control_apply_changes(risk_point=risk_point, by=by, controls=controls)
    return risk_point


@transaction.atomic
def risk_point_update(
    *, by, risk_point: RiskPoint, fields: dict[str, Any], controls: Iterable[dict[str, Any]] = ()
) -> RiskPoint:
    """Edit a draft. The row is locked so that two editors cannot interleave their changes."""
    from controls.services import control_apply_changes

    risk_point = RiskPoint.objects.select_for_update().select_related("institution", "level").get(pk=risk_point.pk)
    access.require(access.can_edit_risk_point(by, risk_point))
    values = {name: fields[name] for name in RISK_POINT_FIELDS if name in fields}
    _check_placement(
        institution=risk_point.institution,
        department=risk_point.department,
        position=risk_point.position,
        risk_type=values.get("risk_type"),
        power_item=values.get("power_item", risk_point.power_item),
        process_step=values.get("process_step", risk_point.process_step),
    )
    changes = apply_changes(risk_point, values)
    level = grade_level_for(
        institution=risk_point.institution, likelihood=risk_point.likelihood, severity=risk_point.severity
    )
    if level.pk != risk_point.level_id:
        changes["level"] = [risk_point.level.name, level.name]
        risk_point.level = level
    if changes:
        risk_point.save()
        audit_record(
            actor=by,
            action="risk_point.update",
            target=risk_point,
            institution=risk_point.institution,
            summary=risk_point.description[:80],
            changes=changes,
        )
    control_apply_changes(risk_point=risk_point, by=by, controls=controls)
    return risk_point


def risk_points_copy(*, points: Iterable[RiskPoint], year: int, state: str, carried: bool, author=None) -> dict:
    """Copy points and their controls into ``year`` in ``state``: the PDCA rollover (``carried``:
    each copy remembers its source) and the demo's past registers. Two bulk inserts and one read,
    whatever the number of points. ``author`` None keeps each source's author. Returns
    ``{source id: copy}``; callers write their own audit entries (one per register)."""
    from controls.models import Control

    sources = list(points)
    copies = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution_id=p.institution_id,
            department_id=p.department_id,
            position_id=p.position_id,
            power_item_id=p.power_item_id,
            process_step_id=p.process_step_id,
            year=year,
            risk_type_id=p.risk_type_id,
            found_by=p.found_by,
            description=p.description,
            manifestation=p.manifestation,
            likelihood=p.likelihood,
            severity=p.severity,
            level_id=p.level_id,
            state=state,
            carried_from_id=p.pk if carried else None,
            created_by=author if author is not None else p.created_by,
        )
        for p in sources
    )
    copy_of = {source.pk: copy for source, copy in zip(sources, copies, strict=True)}
    Control.objects.bulk_create(
        Control(
            risk_point_id=copy_of[c.risk_point_id].pk,
            line=c.line,
            measure=c.measure,
            owner=c.owner,
            frequency=c.frequency,
            evidence=c.evidence,
            rule_id=c.rule_id,
        )
        for c in Control.objects.filter(risk_point_id__in=copy_of).order_by("id")
    )
    return copy_of
