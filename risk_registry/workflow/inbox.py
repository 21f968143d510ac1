"""What waits for a user (the inbox): each list is what the user may act on, within what the access
module lets them see; counts feed the navigation."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery

from controls.models import ControlRevision
from risk_registry import access
from risk_registry.models import LevelProposal, NoticeComment, Register, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.counts import capped_counts


def _in_paths(paths, prefix: str = "institution__") -> Q:
    return reduce(or_, (Q(**{f"{prefix}path__startswith": p}) for p in paths), Q(pk__in=[]))


def to_submit(user) -> QuerySet[RiskPoint]:
    scope = access.scope_of(user)
    mine = Q(position_id__in=scope.held_position_ids) | Q(position__isnull=True, department_id__in=scope.department_ids)
    return RiskPoint.objects.filter(mine, state=S.DRAFT)


def to_review(user) -> QuerySet[RiskPoint]:
    scope = access.scope_of(user)
    return RiskPoint.objects.filter(state=S.SUBMITTED, department_id__in=scope.department_ids).exclude(
        position_id__in=scope.held_position_ids
    )


def to_define(user) -> QuerySet[RiskPoint]:
    scope = access.scope_of(user)
    if not scope.discipline_paths:
        return RiskPoint.objects.none()
    return RiskPoint.objects.filter(access.q_points_in_subtrees(scope.discipline_paths), state=S.REVIEWED)


def to_approve(user) -> QuerySet[RiskPoint]:
    scope = access.scope_of(user)
    return RiskPoint.objects.filter(institution_id__in=scope.institution_ids, state__in=(S.DEFINED, S.APPRAISED))


def to_regrade(user) -> QuerySet[RiskPoint]:
    scope = access.scope_of(user)
    if not scope.discipline_paths:
        return RiskPoint.objects.none()
    return RiskPoint.objects.filter(access.q_points_in_subtrees(scope.discipline_paths), needs_regrading=True).exclude(
        state=S.DRAFT
    )


def comments_to_answer(user) -> QuerySet[NoticeComment]:
    scope = access.scope_of(user)
    if not scope.discipline_paths:
        return NoticeComment.objects.none()
    return access.notice_comments_visible_to(user).filter(
        _in_paths(scope.discipline_paths, "register__institution__"), answered_at=None
    )


def proposals_to_decide(user) -> QuerySet[LevelProposal]:
    scope = access.scope_of(user)
    if not scope.institution_ids:
        return LevelProposal.objects.none()
    return access.level_proposals_visible_to(user).filter(
        risk_point__institution_id__in=scope.institution_ids, status=LevelProposal.Status.PENDING
    )


def revisions_to_review(user) -> QuerySet[ControlRevision]:
    """Revisions of controls proposed after 审定, waiting for this department head (not on a post
    they hold) or discipline office; never the proposer's own."""
    scope = access.scope_of(user)
    if not (scope.department_ids or scope.discipline_paths):
        return ControlRevision.objects.none()
    head = Q(risk_point__department_id__in=scope.department_ids) & ~Q(
        risk_point__position_id__in=scope.held_position_ids
    )
    return (
        ControlRevision.objects.filter(head | _in_paths(scope.discipline_paths, "risk_point__institution__"))
        .filter(status=ControlRevision.Status.PENDING)
        .exclude(proposed_by_id=user.pk)
    )


def registers_to_file(user) -> QuerySet[Register]:
    """Issued registers of the principal's institutions that changed since their last filing."""
    scope = access.scope_of(user)
    if not scope.principal_institution_ids:
        return Register.objects.none()  # only a principal files: nothing to build or ask for anyone else
    points = RiskPoint.objects.filter(institution_id=OuterRef("institution_id"), year=OuterRef("year"))
    last_signed = RegisterVersion.objects.filter(register=OuterRef("pk")).order_by("-signed_at").values("signed_at")[:1]
    return (
        access.registers_visible_to(user)
        .filter(institution_id__in=scope.principal_institution_ids)
        .filter(Exists(points.filter(state=S.ISSUED)), ~Exists(points.exclude(state=S.ISSUED)))
        .annotate(last_change=Subquery(points.order_by().values("year").annotate(m=Max("updated_at")).values("m")))
        .annotate(last_signed=Subquery(last_signed))
        .filter(Q(last_signed__isnull=True) | Q(last_signed__lt=F("last_change")))
    )


SECTIONS = (
    ("to_submit", to_submit),
    ("to_review", to_review),
    ("to_define", to_define),
    ("to_approve", to_approve),
    ("comments", comments_to_answer),
    ("proposals", proposals_to_decide),
    ("revisions", revisions_to_review),
    ("to_file", registers_to_file),
    ("to_regrade", to_regrade),
)


def inbox_queues(user) -> dict[str, QuerySet]:
    """The queue of each section that applies to the user's roles (the others are left out)."""
    scope = access.scope_of(user)
    applies = {
        "to_submit": bool(scope.held_position_ids or scope.department_ids),
        "to_review": bool(scope.department_ids),
        "to_define": bool(scope.discipline_paths),
        "to_approve": bool(scope.institution_ids),
        "comments": bool(scope.discipline_paths),
        "proposals": bool(scope.institution_ids),
        "revisions": bool(scope.department_ids or scope.discipline_paths),
        "to_file": bool(scope.principal_institution_ids),
        "to_regrade": bool(scope.discipline_paths),
    }
    return {name: selector(user) for name, selector in SECTIONS if applies[name]}


def inbox_counts(user) -> dict[str, int]:
    """Every section counted, 0 for those that do not apply to the user's roles; one query.

    Each count stops at ``RISK_REGISTRY_COUNT_LIMIT`` + 1 (a province's office would otherwise
    count a quarter of a million points on every page, for the navigation's badge)."""
    return dict.fromkeys((name for name, _ in SECTIONS), 0) | capped_counts(inbox_queues(user))
