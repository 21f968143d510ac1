"""Who may see and do what in the annual cycle: built on the scope of risk_registry.access.

A cycle belongs to the discipline office (or superior office) that launched it for its own
institution and subtree. Oversight roles below see the cycles that cover them, restricted to
their part of the tree; department heads their department's tasks; everyone their own tasks.
Views of the cycle ask here, never filter by hand.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from assessments.models import (
    Checklist,
    Cycle,
    Notification,
    RatingInvitation,
    RatingRound,
    SurveyRound,
    Task,
    UnitAssessment,
)
from risk_registry.access import Scope, scope_of
from risk_registry.organisation.models import Institution
from risk_registry.organisation.paths import path_ids


def can_launch_cycle(user, institution: Institution) -> bool:
    """Only the discipline or superior office of the institution itself launches its cycle."""
    return institution.path in scope_of(user).subtree_paths


def cycle_launch_institutions(user) -> QuerySet[Institution]:
    return Institution.objects.filter(path__in=scope_of(user).subtree_paths)


def cycles_visible_to(user) -> QuerySet:
    """Cycles launched inside the user's oversight subtree, and those above that cover it.

    Oversight roles only (discipline, superior, leadership, principal, department head): post
    holders follow their own tasks in the inbox. One query for the paths of the institutions of
    the user's institution-level and department-level roles.
    """
    scope = scope_of(user)
    paths = set(scope.subtree_paths)
    if scope.institution_ids or scope.department_ids:
        paths.update(
            Institution.objects.filter(
                Q(id__in=scope.institution_ids) | Q(departments__id__in=scope.department_ids)
            ).values_list("path", flat=True)
        )
    if not paths:
        return Cycle.objects.none()
    covering = {pk for path in paths for pk in path_ids(path)}
    parts = [Q(institution__path__startswith=path) for path in scope.subtree_paths]
    parts.append(Q(institution_id__in=covering))
    return Cycle.objects.filter(reduce(or_, parts))


def q_tasks_in_oversight(scope: Scope, prefix: str = "") -> Q | None:
    """The tasks the scope oversees (not its own), as a Q on ``prefix``; None when none."""
    parts = [Q(**{f"{prefix}institution__path__startswith": path}) for path in scope.subtree_paths]
    if scope.institution_ids:
        parts.append(Q(**{f"{prefix}institution_id__in": scope.institution_ids}))
    if scope.department_ids:
        parts.append(Q(**{f"{prefix}department_id__in": scope.department_ids}))
    return reduce(or_, parts) if parts else None


def tasks_visible_to(user) -> QuerySet:
    """The user's own tasks and those of the part of the tree the user oversees."""
    if not getattr(user, "is_authenticated", False):
        return Task.objects.none()
    oversight = q_tasks_in_oversight(scope_of(user))
    own = Q(owner_id=user.pk)
    return Task.objects.filter(own | oversight if oversight is not None else own)


def q_institutions_seen_wholly(user, prefix: str = "") -> Q | None:
    """The institutions whose every task the user sees (a subtree the user oversees, an institution
    the user leads), as a Q on ``prefix``; None when none. Their tasks may be counted from their
    tallies (``TaskTally``) instead of one by one: ``tasks_visible_to`` holds every one of them."""
    return q_units_overseen(scope_of(user), prefix)


def tasks_seen_elsewhere(user) -> QuerySet:
    """The tasks ``tasks_visible_to`` gives outside the institutions seen wholly: the user's own and
    those of the departments the user heads. Said with their own conditions, not as the visible
    tasks minus the others, so that the owner's and the departments' indexes serve the query (a
    city's office: 3 ms instead of a scan of the province's 3 million tasks that the OR with the
    subtree made)."""
    if not getattr(user, "is_authenticated", False):
        return Task.objects.none()
    scope = scope_of(user)
    beyond = Q(owner_id=user.pk)
    if scope.department_ids:
        beyond |= Q(department_id__in=scope.department_ids)
    whole = q_units_overseen(scope, "institution__")
    return Task.objects.filter(beyond).exclude(whole) if whole is not None else Task.objects.filter(beyond)


def can_manage_cycle(user, cycle) -> bool:
    """Edit phases and schedule, close: the office that launched it (same institution)."""
    return can_launch_cycle(user, cycle.institution)


def can_submit_self_assessment(user, institution: Institution) -> bool:
    """The institution's leadership or principal leader, or its own discipline office."""
    scope = scope_of(user)
    return institution.pk in scope.institution_ids or institution.path in scope.subtree_paths


def cycles_of_user(user) -> QuerySet:
    """Cycles the user oversees or has a task in (the owner of a task reaches its work pages)."""
    own = own_tasks_of(user).values("cycle_id")
    return Cycle.objects.filter(Q(pk__in=cycles_visible_to(user).values("pk")) | Q(pk__in=own))


def own_tasks_of(user) -> QuerySet[Task]:
    """The tasks the user owns (my tasks): nobody else's, whatever their oversight."""
    if not getattr(user, "is_authenticated", False):
        return Task.objects.none()
    return Task.objects.filter(owner_id=user.pk)


def notifications_of(user) -> QuerySet[Notification]:
    """The user's own notifications: a reminder is read, and marked read, by its recipient alone."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


# --- unit assessment (单位考核评估) -------------------------------------------------------------


def q_units_overseen(scope: Scope, prefix: str = "") -> Q | None:
    """Institutions the scope oversees as a unit: its subtree (discipline and superior offices) and
    its own institution (leadership, principal leader). Department heads and holders do not."""
    parts = [Q(**{f"{prefix}path__startswith": path}) for path in scope.subtree_paths]
    if scope.institution_ids:
        parts.append(Q(**{f"{prefix}id__in": scope.institution_ids}))
    return reduce(or_, parts) if parts else None


def units_overseen_by(user) -> QuerySet[Institution]:
    """The institutions whose unit assessment the user may read."""
    q = q_units_overseen(scope_of(user))
    return Institution.objects.filter(q) if q is not None else Institution.objects.none()


def unit_assessments_visible_to(user) -> QuerySet[UnitAssessment]:
    """Unit assessments of the institutions the user oversees, in cycles the user sees."""
    q = q_units_overseen(scope_of(user), "institution__")
    if q is None:
        return UnitAssessment.objects.none()
    return UnitAssessment.objects.filter(q, cycle__in=cycles_visible_to(user).values("pk"))


def can_self_assess_unit(user, institution: Institution) -> bool:
    """The institution scores itself: its leadership, principal leader or its own discipline office
    (the same people who submit the year-end self-assessment)."""
    return can_submit_self_assessment(user, institution)


def can_assess_unit(user, institution: Institution) -> bool:
    """统一评估: a discipline or superior office *above* the institution (never its own office)."""
    return any(institution.path.startswith(path) and institution.path != path for path in scope_of(user).subtree_paths)


def may_manage_checklists(user) -> bool:
    return bool(scope_of(user).subtree_paths)


def checklist_owner_institutions(user) -> QuerySet[Institution]:
    """The offices' own institutions, for which the user keeps checklists."""
    return Institution.objects.filter(path__in=scope_of(user).subtree_paths)


def checklists_managed_by(user) -> QuerySet[Checklist]:
    """Checklists of the institutions whose discipline or superior office the user is."""
    return Checklist.objects.filter(institution__path__in=scope_of(user).subtree_paths)


def checklists_for(institution: Institution) -> QuerySet[Checklist]:
    """The checklists a unit may be assessed by: the presets, and those of the offices on its path."""
    return Checklist.objects.filter(Q(institution__isnull=True) | Q(institution_id__in=path_ids(institution.path)))


# --- the study's measures (docs/surveys.md) ------------------------------------------------------
# Surveys and ratings measure the institution's leadership: their rounds and results are read by
# the discipline offices whose subtree holds the institution (its own office and the superior
# ones), never by the leadership measured. The office of the institution itself runs them.


def _q_in_subtree(scope: Scope) -> Q | None:
    parts = [Q(institution__path__startswith=path) for path in scope.subtree_paths]
    return reduce(or_, parts) if parts else None


def survey_rounds_visible_to(user) -> QuerySet[SurveyRound]:
    if not getattr(user, "is_authenticated", False):
        return SurveyRound.objects.none()
    q = _q_in_subtree(scope_of(user))
    return SurveyRound.objects.filter(q) if q is not None else SurveyRound.objects.none()


def can_manage_survey_round(user, survey_round: SurveyRound) -> bool:
    """Issue codes, print them, close: the discipline office of the round's own institution."""
    return can_launch_cycle(user, survey_round.institution)


def rating_rounds_visible_to(user) -> QuerySet[RatingRound]:
    if not getattr(user, "is_authenticated", False):
        return RatingRound.objects.none()
    q = _q_in_subtree(scope_of(user))
    return RatingRound.objects.filter(q) if q is not None else RatingRound.objects.none()


def can_manage_rating_round(user, rating_round: RatingRound) -> bool:
    return can_launch_cycle(user, rating_round.institution)


def rating_invitations_of(user) -> QuerySet[RatingInvitation]:
    """The user's own open invitations to rate, in open rounds (a rater sees only their own)."""
    if not getattr(user, "is_authenticated", False):
        return RatingInvitation.objects.none()
    return RatingInvitation.objects.filter(rater_id=user.pk, round__state="open")


def measured_institutions_visible_to(user) -> QuerySet[Institution]:
    """Institutions whose posts' measures and profiles the user reads: the offices' subtrees."""
    if not getattr(user, "is_authenticated", False):
        return Institution.objects.none()
    parts = [Q(path__startswith=path) for path in scope_of(user).subtree_paths]
    return Institution.objects.filter(reduce(or_, parts)) if parts else Institution.objects.none()
