"""The workflow of a risk point, from self-report to issue: one table of transitions, one service.

    draft ─submit→ submitted ─review→ reviewed ─define→ defined ─(appraise)→ appraised
                                                         └──────────approve──────┴→ approved
    approved ─publish→ in_notice ─issue→ issued ─(file: a frozen RegisterVersion)
    Every step can send the point back (return_*) with a reason; an issued point is reopened as a
    draft (revise) for the next version: the filed version never changes.

``transition_apply`` is the only writer of ``RiskPoint.state``. It locks the rows
(``select_for_update``, in id order so two batches cannot deadlock), checks each point is still
in the state the user saw and that the user may act, writes the new state and one audit entry
per point, all in one transaction. Two people acting on the same point at once: the second
waits for the first's lock, then finds the state changed and gets ``WorkflowConflict``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from risk_registry import access
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation import work
from risk_registry.organisation.models import ActorKind, AuditEntry, GradeLevel


class WorkflowConflict(Exception):
    """A point was changed by someone else since the user loaded it."""


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: Promise
    may: Callable[[Any, RiskPoint], bool]
    is_return: bool = False

    @property
    def needs_reason(self) -> bool:
        return self.is_return


def _discipline(user, point: RiskPoint) -> bool:
    return access.is_discipline_office_for(user, point.institution)


def _leadership(user, point: RiskPoint) -> bool:
    # A collective decision of the leadership meeting: the recorder may hold one of the posts.
    return access.is_leadership_of(user, point.institution)


def _author(user, point: RiskPoint) -> bool:
    return access.is_author_side(user, point)


def _reviewer(user, point: RiskPoint) -> bool:
    return access.is_department_reviewer(user, point)


def _discipline_not_own(user, point: RiskPoint) -> bool:
    return _discipline(user, point) and not access.holds_position_of(user, point)


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", (S.DRAFT,), S.SUBMITTED, gettext_lazy("Submit (self-report)"), _author),
    # Until the department has acted (review or return), the holder may pull the report back.
    Transition("withdraw", (S.SUBMITTED,), S.DRAFT, gettext_lazy("Withdraw"), _author),
    Transition("review", (S.SUBMITTED,), S.REVIEWED, gettext_lazy("Pass department review"), _reviewer),
    Transition(
        "return_to_author", (S.SUBMITTED,), S.DRAFT, gettext_lazy("Return to the holder"), _reviewer, is_return=True
    ),
    Transition("define", (S.REVIEWED,), S.DEFINED, gettext_lazy("Define the level"), _discipline_not_own),
    Transition(
        "return_to_department",
        (S.REVIEWED, S.DEFINED),
        S.SUBMITTED,
        gettext_lazy("Return to the department"),
        _discipline,
        is_return=True,
    ),
    Transition("appraise", (S.DEFINED,), S.APPRAISED, gettext_lazy("Record democratic appraisal"), _discipline),
    Transition("approve", (S.DEFINED, S.APPRAISED), S.APPROVED, gettext_lazy("Approve"), _leadership),
    Transition(
        "return_to_discipline",
        (S.DEFINED, S.APPRAISED, S.APPROVED),
        S.REVIEWED,
        gettext_lazy("Return to the discipline office"),
        _leadership,
        is_return=True,
    ),
    Transition("publish", (S.APPROVED,), S.IN_NOTICE, gettext_lazy("Publish for notice"), _discipline),
    Transition(
        "return_from_notice",
        (S.IN_NOTICE,),
        S.REVIEWED,
        gettext_lazy("Send back after notice"),
        _discipline,
        is_return=True,
    ),
    Transition("issue", (S.IN_NOTICE,), S.ISSUED, gettext_lazy("Issue"), _discipline),
    Transition("revise", (S.ISSUED,), S.DRAFT, gettext_lazy("Reopen for revision"), _discipline, is_return=True),
)
BY_NAME = {t.name: t for t in TRANSITIONS}
# Steps that belong to a whole register and go through their own services (decision, notice).
REGISTER_STEPS = frozenset({"appraise", "approve", "publish", "issue"})
# Steps the system itself may take (the scheduled issue), recorded as the system, never a person.
SYSTEM_STEPS = frozenset({"issue"})


def transition(name: str) -> Transition:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValidationError(_("Unknown workflow step: %(name)s") % {"name": name}) from None


def transitions_for(user, point: RiskPoint) -> list[Transition]:
    """The steps the user may take on this point now (for buttons; the service re-checks)."""
    return [t for t in TRANSITIONS if point.state in t.sources and t.may(user, point)]


@dataclass(frozen=True)
class Change:
    """One point's part of a transition: optional new likelihood/severity (defining a level), and
    the reason when the discipline office sets a level other than the one proposed (override)."""

    point_id: int
    version: int | None = None  # the version the user saw; None = whatever is current
    likelihood: int | None = None
    severity: int | None = None
    reason: str = ""


@transaction.atomic
def transition_apply(
    *,
    by,
    name: str,
    changes: Iterable[Change],
    reason: str = "",
    action_data: dict | None = None,
    system: bool = False,
) -> list[RiskPoint]:
    """Apply one step to one or many points, all or nothing.

    ``system=True`` (with ``by=None``) is the scheduler taking one of ``SYSTEM_STEPS``: the audit
    entries name the system as the actor, not a person who did nothing."""
    step = transition(name)
    changes = list(changes)
    reason = (reason or "").strip()
    points = _locked_points_for(step, by=by, changes=changes, reason=reason, system=system)
    wanted = {c.point_id: c for c in changes}
    levels = _levels_by_scheme(points)
    now = timezone.now()
    entries = []
    for point in points:  # in memory: the rows are locked, one UPDATE and one INSERT follow
        change = wanted[point.pk]
        before_state, before_level = point.state, point.level.name
        override = _regrade(point, change, step=step, levels=levels, before_level=before_level)
        point.state = step.target
        if step.name == "define":
            point.needs_regrading, point.regrading_reason = False, ""
        point.version += 1  # read under the row lock, so no one else can have bumped it
        point.updated_at = now
        entries.append(
            AuditEntry(
                actor=by,
                actor_kind=ActorKind.SYSTEM if system else ActorKind.PERSON,
                action=f"risk_point.{step.name}",
                target_type="risk_registry.riskpoint",
                target_id=point.pk,
                institution=point.institution,
                summary=str(reason or override.get("override", {}).get("reason", ""))[:255],
                changes={
                    "state": [before_state, step.target],
                    **({"level": [before_level, point.level.name]} if point.level.name != before_level else {}),
                    **({"reason": reason} if reason else {}),
                    **override,
                    **(action_data or {}),
                },
            )
        )
    RiskPoint.objects.bulk_update(
        points,
        [
            "state",
            "likelihood",
            "severity",
            "graded_directly",
            "level",
            "needs_regrading",
            "regrading_reason",
            "version",
            "updated_at",
        ],
    )
    AuditEntry.objects.bulk_create(entries)
    years = {point.year for point in points}
    work.work_changed(  # the cycle's tasks that read these points' states (a return reopens them)
        work.POINTS,
        institution_ids={point.institution_id for point in points},
        year=years.pop() if len(years) == 1 else None,
    )
    return points


def _locked_points_for(step, *, by, changes: list[Change], reason: str, system: bool) -> list[RiskPoint]:
    """The points of ``changes``, locked, once every check of the step has passed."""
    if not changes:
        raise ValidationError(_("Choose at least one risk point."))
    if system and (by is not None or step.name not in SYSTEM_STEPS):
        raise PermissionDenied
    if step.needs_reason and not reason:
        raise ValidationError(_("Give a reason for sending the point back."))
    wanted = {c.point_id: c for c in changes}
    points = list(
        RiskPoint.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted)
        .select_related("institution__grading_scheme", "level")
        .order_by("pk")
    )
    if len(points) != len(wanted):
        raise PermissionDenied
    if not system:
        visible = set(access.risk_points_visible_to(by).filter(pk__in=wanted).values_list("pk", flat=True))
        if visible != set(wanted):
            raise PermissionDenied
    stale = [p for p in points if p.state not in step.sources or _is_stale(p, wanted[p.pk])]
    if stale:
        raise WorkflowConflict(
            _("Someone else has just changed %(points)s. Reload the page to see the current state.")
            % {"points": "、".join(f"#{p.pk}" for p in stale)}
        )
    if not system and not all(step.may(by, p) for p in points):
        raise PermissionDenied
    return points


def _regrade(point: RiskPoint, change: Change, *, step, levels, before_level: str) -> dict:
    """Apply the change's likelihood and severity to ``point`` (in memory). At ``define``, a level
    other than the proposed one is an override, which needs its reason: returned for the audit."""
    if change.likelihood is None and change.severity is None:
        return {}
    point.likelihood = change.likelihood or point.likelihood
    point.severity = change.severity or point.severity
    if point.likelihood is None or point.severity is None:  # graded directly: both are assessed at once
        raise ValidationError(
            _("#%(point)d was graded directly: give both the likelihood and the severity.") % {"point": point.pk}
        )
    point.graded_directly = False
    scheme = point.institution.grading_scheme
    if scheme is None:  # a graded point's institution has a scheme; a re-grade needs one too
        raise ValidationError(_("%(institution)s has no grading scheme yet.") % {"institution": point.institution})
    point.level = levels[scheme.pk][scheme.level_code_for(point.likelihood, point.severity)]
    if step.name != "define" or point.level.name == before_level:
        return {}
    override_reason = change.reason.strip()
    if not override_reason:
        raise ValidationError(
            _("#%(point)d: the level differs from the proposed %(level)s; give the reason for the change.")
            % {"point": point.pk, "level": before_level}
        )
    return {"override": {"level": [before_level, point.level.name], "reason": override_reason}}


def _levels_by_scheme(points: list[RiskPoint]) -> dict[int, dict[str, GradeLevel]]:
    """The levels of every scheme the points use, in one query (not one per point)."""
    scheme_ids = {p.institution.grading_scheme_id for p in points if p.institution.grading_scheme_id is not None}
    levels: dict[int, dict[str, GradeLevel]] = {pk: {} for pk in scheme_ids}
    for level in GradeLevel.objects.filter(scheme_id__in=scheme_ids):
        levels[level.scheme_id][level.code] = level
    return levels


def _is_stale(point: RiskPoint, change: Change) -> bool:
    return change.version is not None and change.version != point.version
