"""Who may see and do what in the warning ledger: built on the scope of risk_registry.access.

- The ledger (items): the discipline office and the superior office see the items of their
  subtree; the leadership and principal leader of an institution see its items that are not
  confidential. Nobody else sees the ledger (404).
- Confidential fields: an item from a confidential channel (信访举报) keeps its ``source`` and
  ``facts`` for its handlers alone, the users granted the django-guardian object permission
  ``integrity_warnings.handle_warningitem`` on it. Everyone else who sees the row sees a mask, in
  pages, lists, searches and exports alike. Every read of them is audited (services).
- Acting on an item (verify, issue a rung, decide on a report, grant a handler): the discipline
  office of the item's institution; on a confidential item only its handlers among them.
- A disposition's recipient (a user) sees that disposition's notice and answers it; never the
  item's source or facts, and never who reported.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When

from integrity_warnings.models import (
    HANDLE_PERMISSION,
    Disposition,
    WarningItem,
    WarningItemUserObjectPermission,
    WarningStatus,
)
from positions.models import Position
from risk_registry.access import (
    can_add_risk_point_to_department,
    can_add_risk_point_to_position,
    is_discipline_office_for,
    object_or_404,
    require,
    scope_of,
)
from risk_registry.organisation.models import Department, Institution, Role
from risk_registry.organisation.paths import ancestor_paths


def _handler_rows(user) -> QuerySet:
    return WarningItemUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=HANDLE_PERMISSION,
        permission__content_type__app_label="integrity_warnings",
    )


def q_items_visible(user, prefix: str = "") -> Q | None:
    """The items the user may know exist, as a Q on ``prefix``; None when none at all."""
    scope = scope_of(user)
    parts = [Q(**{f"{prefix}institution__path__startswith": path}) for path in scope.subtree_paths]
    if scope.institution_ids:
        parts.append(Q(**{f"{prefix}institution_id__in": scope.institution_ids, f"{prefix}confidential": False}))
    return reduce(or_, parts) if parts else None


def items_visible_to(user) -> QuerySet[WarningItem]:
    """Visible items, each annotated ``readable``: whether the user may read source and facts."""
    q = q_items_visible(user)
    if q is None:
        return WarningItem.objects.none()
    handled = _handler_rows(user).filter(content_object_id=OuterRef("pk"))
    return WarningItem.objects.filter(q).annotate(
        readable=Case(
            When(confidential=False, then=Value(True)),
            default=Exists(handled),
            output_field=BooleanField(),
        )
    )


def may_see_ledger(user) -> bool:
    scope = scope_of(user)
    return bool(scope.subtree_paths or scope.institution_ids)


def is_handler(user, item: WarningItem) -> bool:
    return _handler_rows(user).filter(content_object_id=item.pk).exists()


def can_read_confidential(user, item: WarningItem) -> bool:
    """Source and facts: anyone who sees a normal item; only granted handlers for a confidential one."""
    readable = getattr(item, "readable", None)
    if readable is not None:
        return readable
    return not item.confidential or is_handler(user, item)


def can_register_in(user, institution: Institution) -> bool:
    return is_discipline_office_for(user, institution)


def register_institutions(user) -> QuerySet[Institution]:
    """Where the user may enter items: the institutions under the user's discipline offices."""
    paths = scope_of(user).discipline_paths
    if not paths:
        return Institution.objects.none()
    return Institution.objects.filter(reduce(or_, [Q(path__startswith=path) for path in paths]))


def scale_institutions(user) -> QuerySet[Institution]:
    """The institutions whose warning grade scale the user sets: those of the user's discipline offices."""
    return Institution.objects.filter(path__in=scope_of(user).discipline_paths).order_by("path")


def can_act_on(user, item: WarningItem) -> bool:
    if not is_discipline_office_for(user, item.institution):
        return False
    return can_read_confidential(user, item)


def dispositions_visible_to(user) -> QuerySet[Disposition]:
    """Dispositions of the items the user sees, and those addressed to the user."""
    if not getattr(user, "is_authenticated", False):
        return Disposition.objects.none()
    q = q_items_visible(user, "item__")
    own = Q(recipient_user_id=user.pk)
    return Disposition.objects.filter(own | q if q is not None else own)


def is_recipient(user, disposition: Disposition) -> bool:
    return disposition.recipient_user_id is not None and disposition.recipient_user_id == user.pk


def can_respond(user, disposition: Disposition) -> bool:
    """The recipient answers; for a recipient without an account the office records the paper answer."""
    if disposition.recipient_user_id is not None:
        return is_recipient(user, disposition)
    return can_act_on(user, disposition.item)


def can_read_attachments(user, disposition: Disposition) -> bool:
    """The files of a report: its writer (the recipient) and the office that acts on the item. For a
    confidential item that office is its handlers alone: a report may restate what was reported.
    The caller has found the disposition through ``dispositions_visible_to`` (else 404)."""
    if is_recipient(user, disposition):
        return True
    return can_act_on(user, disposition.item)


def linked_positions(item: WarningItem) -> list[Position]:
    """The posts a warning is about: its position, or the posts its subject person holds there now."""
    if item.subject_position_id is not None:
        return [item.subject_position] if item.subject_position else []
    if item.subject_user_id is None:
        return []
    return list(
        Position.objects.filter(
            institution_id=item.institution_id, holdings__user_id=item.subject_user_id, holdings__ended_on__isnull=True
        )
        .select_related("department", "institution__grading_scheme")
        .order_by("id")
    )


def draft_target(user, item: WarningItem) -> tuple[Department, Position | None] | None:
    """Where ``user`` may draft a risk point from the warning (the register's own rule): on a linked
    post they hold, else at department level in a department they head (the item's, or a linked
    post's). None: they may not (the page is then 404 to them)."""
    if not getattr(user, "is_authenticated", False) or item.status == WarningStatus.REFERRED:
        return None
    positions = linked_positions(item)
    for position in positions:
        if can_add_risk_point_to_position(user, position):
            return position.department, position
    departments = [item.subject_department] if item.subject_department else []
    departments += [position.department for position in positions]
    for department in departments:
        if can_add_risk_point_to_department(user, department):
            return department, None
    return None


def handler_candidates(item: WarningItem) -> QuerySet:
    """Who may be granted an item: members of a discipline office whose subtree holds it."""
    from_paths = ancestor_paths(item.institution.path)
    return (
        get_user_model()
        .objects.filter(memberships__role=Role.DISCIPLINE, memberships__institution__path__in=from_paths)
        .distinct()
        .order_by("username")
    )


__all__ = ["object_or_404", "require"]
