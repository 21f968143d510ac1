"""The demo's registers go the way a user's do: every point leaves DRAFT through the workflow
services (submit, review, define, the leadership's approval with its vote, notice, issue, filing),
each step taken by a person who may take it, so every state has its audit entries and every
approved or filed point its passed Decision.

Only the calendar is the demo's: the services date what they do today, so a past register's
notice dates are set to last year's after its publication (before its issue), and its meeting is
held on a past day. Everything else is the services' own writing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from risk_registry import access
from risk_registry.models import Decision, Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import Institution, Membership
from risk_registry.organisation.names import person
from risk_registry.organisation.users import User
from risk_registry.workflow import registers
from risk_registry.workflow.transitions import BY_NAME, Change, Transition, transition_apply

S = RiskPointState
# The per-point steps that bring a draft to each state before the register's own steps.
POINT_STEPS = ("submit", "review", "define")
ORDER = (S.DRAFT, S.SUBMITTED, S.REVIEWED, S.DEFINED, S.APPROVED, S.IN_NOTICE, S.ISSUED)
TARGET_OF = {"submit": S.SUBMITTED, "review": S.REVIEWED, "define": S.DEFINED}


class DemoPathError(ValueError):
    """No one in the demo may take a step the data asks for (a bug in risk_registry/demo/data/)."""


class People:
    """The demo's accounts, the institution's own members first, to find who may take a step."""

    def __init__(self, users: Iterable[Any]) -> None:
        # Fresh objects: a scope cached on the builder's objects may predate later memberships.
        self.users = list(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))
        self.members: dict[int, list[Any]] = defaultdict(list)
        by_pk = {u.pk: u for u in self.users}
        for institution_id, user_id in Membership.objects.filter(user__in=self.users).values_list(
            "institution_id", "user_id"
        ):
            if by_pk[user_id] not in self.members[institution_id]:
                self.members[institution_id].append(by_pk[user_id])

    def candidates(self, institution_id: int) -> list[Any]:
        own = self.members.get(institution_id, [])
        return own + [u for u in self.users if u not in own]

    def first(self, institution: Institution, may: Callable[[Any], bool], what: str) -> Any:
        for user in self.candidates(institution.pk):
            if may(user):
                return user
        raise DemoPathError(f"no demo account may {what} in {institution.name}")


def _may(step: Transition, point: RiskPoint) -> Callable[[Any], bool]:
    def may(user: Any) -> bool:
        return step.may(user, point)

    return may


def _point_step(people: People, name: str, points: Sequence[RiskPoint]) -> None:
    """One per-point step, taken by the first account allowed (the point's author for submit)."""
    step = BY_NAME[name]
    by_actor: dict[Any, list[int]] = defaultdict(list)
    for point in points:
        if name == "submit" and point.created_by is not None and step.may(point.created_by, point):
            actor = point.created_by
        else:
            actor = people.first(point.institution, _may(step, point), name)
        by_actor[actor].append(point.pk)
    for actor, ids in by_actor.items():
        transition_apply(by=actor, name=name, changes=[Change(point_id=pk) for pk in ids])


def definable(people: People, points: Iterable[RiskPoint]) -> list[RiskPoint]:
    """The points some demo account may define: not a post of the institution's only discipline
    office member (no one may define the grade of their own post), which the demo leaves out of
    its past registers rather than define against the rule."""
    step = BY_NAME["define"]
    return [p for p in points if any(step.may(u, p) for u in people.candidates(p.institution_id))]


def walk_points(people: People, points: Sequence[RiskPoint], target: str) -> None:
    """Drafts to ``target`` (submitted, reviewed or defined) through the per-point steps."""
    ids = [p.pk for p in points]
    for name in POINT_STEPS:
        if ORDER.index(TARGET_OF[name]) > ORDER.index(target):
            return
        current = list(RiskPoint.objects.filter(pk__in=ids).select_related("institution", "created_by"))
        _point_step(people, name, current)


def approve(people: People, register: Register, point_ids: Sequence[int], held_on: datetime.date) -> Decision:
    """The leadership meeting approves exactly these defined points, all present voting for."""
    institution = register.institution
    leader = people.first(institution, lambda u: access.is_leadership_of(u, institution), "approve")
    team = registers.leadership_team_size(institution)
    leaders = [u for u in people.members.get(institution.pk, []) if access.is_leadership_of(u, institution)]
    decision = registers.register_decide(
        by=leader,
        register=register,
        kind=Decision.Kind.APPROVAL,
        meeting=f"{held_on.year}年第{held_on.month}次领导班子会议",
        meeting_kind=Decision.MeetingKind.OTHER,
        held_on=held_on,
        participants="、".join(person(u) for u in leaders) or person(leader),
        decision="审定本单位廉政风险点及其等级，同意公示。",
        vote=registers.Vote(present=team, votes_for=team, against=0, abstaining=0),
        point_ids=point_ids,
    )
    if decision.outcome != Decision.Outcome.PASSED:
        raise DemoPathError(f"the demo's approval of {institution.name} did not pass")
    return decision


def notice_and_issue(
    people: People,
    register: Register,
    *,
    starts_on: datetime.date | None = None,
    issue: bool = True,
    allow_anonymous: bool = False,
) -> None:
    """Publish the approved points; with ``starts_on`` the notice is dated then (a past notice,
    seven days) and, with ``issue``, the points are issued the day after it ended."""
    institution = register.institution
    office = people.first(institution, lambda u: access.is_discipline_office_for(u, institution), "publish")
    register = registers.notice_publish(by=office, register=register, days=7, allow_anonymous=allow_anonymous)
    if starts_on is not None:
        register.notice_starts_on = starts_on
        register.notice_ends_on = starts_on + datetime.timedelta(days=6)
        register.save(update_fields=["notice_starts_on", "notice_ends_on"])
    if issue:
        ends_on = register.notice_ends_on
        assert ends_on is not None
        registers.register_issue(by=office, register=register, today=ends_on + datetime.timedelta(days=1))


def file(people: People, register: Register) -> RegisterVersion | None:
    institution = register.institution
    principals = [u for u in people.candidates(institution.pk) if access.is_principal_of(u, institution)]
    if not principals:
        return None
    return registers.register_file(by=principals[0], register=register)
