"""Services that write the organisation, its grading schemes and vocabularies, and the audit trail.

Every service of every layer records its change with ``audit_record`` in the same transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from risk_registry.organisation.colours import DEFAULT_COLOUR, normalise_colour
from risk_registry.organisation.models import (
    ActorKind,
    AuditEntry,
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    Role,
)
from risk_registry.organisation.names import person
from risk_registry.organisation.presets import GRADING_PRESETS, with_bands

SCOPE_CACHE_ATTRIBUTE = "_risk_registry_scope"


def forget_scope(user) -> None:
    """Drop the access scope cached on ``user`` (risk_registry.access) after its memberships or
    holdings changed within one request. Here, below the access module, so that the services
    that change roles and holdings need not import it."""
    user.__dict__.pop(SCOPE_CACHE_ATTRIBUTE, None)


# --- audit ----------------------------------------------------------------------------------


def audit_record(
    *,
    actor,
    action: str,
    target,
    institution: Institution | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    actor_kind: str = ActorKind.PERSON,
    private: bool = False,
    at: datetime.datetime | None = None,
) -> AuditEntry:
    """Append one audit entry; call inside the transaction of the change it records. A scheduled
    task passes ``actor=None, actor_kind=ActorKind.SYSTEM``: it never borrows a person's name.

    ``private``: the change was made on a private object (a draft). Its summary is not kept (an
    audit entry outlives the object's privacy, so it must not copy the object's free text), and
    the access module shows the entry only to those who may see the object's drafts. ``at``: a
    coarser time than now, where a precise one would identify an anonymous author."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_kind=actor_kind,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        institution=institution,
        summary="" if private else summary[:255],
        changes=changes or {},
        private=private,
        at=at or timezone.now(),
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
            actor=by,
            action="membership.grant",
            target=membership,
            institution=institution,
            summary=f"{person(user)} {Role(role).label}",
        )
    forget_scope(user)
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
    levels = [
        GradeLevel(
            scheme=scheme,
            **{key: level[key] for key in ("code", "name", "rank", "supervisor_role", "band")},
            colour=normalise_colour(level.get("colour", DEFAULT_COLOUR)),
            supervision=level.get("supervision", ""),
        )
        for level in with_bands(definition["levels"])
    ]
    for level in levels:
        level.clean()  # a colour no badge text is readable on is refused (organisation/colours.py)
    GradeLevel.objects.bulk_create(levels)
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
