"""The demo shows the whole method (issue 9), each piece made through the services a user calls,
by an account allowed to take the step (``demo.path.People``):

- a year rollover (``demo_rollover_seed``, before the running cycle's deadline scan): last year's
  cycle of one village, closed by its discipline office, carries its filed register into this
  year as drafts marked 结转自 <last year> (``cycle_close``);
- control runs (落实情况) recorded by the holders of issued points' posts;
- a self-assessment of the market bureau in the running cycle;
- level proposals: one pending with the leadership, one accepted through the register path — a
  point of last year's filed register reopened, its raised level accepted, defined, approved,
  published, issued and filed again as v2, so the version diff shows the re-grade;
- a re-grading flag: a power item's legal basis changed, flagging its posts' points;
- notice comments on the register in notice, one named and answered, one anonymous;
- measures after 审定: one institution's rules let measures follow the approved grades; one
  revision of controls approved by the department's reviewer, one waiting in the inbox.

Only the calendar is the demo's (as in ``demo.path``): the re-graded point's meeting and notice
are dated in last year's autumn.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.utils import timezone

from assessments import access as cycle_access
from assessments.models import Cycle
from assessments.services import cycle_close, cycle_launch, default_phases, self_assessment_submit
from controls.models import Control
from controls.services import control_run_record
from positions.models import PowerItem
from risk_registry import access
from risk_registry.demo import path
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Institution
from risk_registry.services import power_item_update
from risk_registry.workflow import registers, revisions
from risk_registry.workflow.transitions import Change, transition_apply

S = RiskPointState
MARKET_CODE = "yunling-scjgj"


def _first(people: path.People, institution: Institution, may: Callable[[Any], bool], what: str) -> Any:
    return people.first(institution, may, what)


def _office(people: path.People, institution: Institution) -> Any:
    return _first(people, institution, lambda u: access.is_discipline_office_for(u, institution), "act as its office")


# --- the rollover -----------------------------------------------------------------------------


def demo_rollover_seed(*, people: path.People, institutions: Iterable[Institution], year: int) -> Cycle | None:
    """Last year's cycle of the smallest leaf institution with a filed register and an office of
    its own, launched and closed by that office: its filed points come into this year as drafts
    carried over (结转自 last year). Called before the running cycle's scan (a closed cycle sends
    nothing)."""
    last_year = year - 1
    filed = set(
        RegisterVersion.objects.filter(register__year=last_year).values_list("register__institution_id", flat=True)
    )
    leaves = [i for i in institutions if i.pk in filed and not Institution.objects.filter(parent=i).exists()]
    own_office = [i for i in leaves if any(cycle_access.can_launch_cycle(u, i) for u in people.members.get(i.pk, []))]
    if not own_office:
        return None
    size = {i.pk: RiskPoint.objects.filter(institution=i, year=last_year).count() for i in own_office}
    institution = min(own_office, key=lambda i: (size[i.pk], i.pk))
    office = _first(people, institution, lambda u: cycle_access.can_launch_cycle(u, institution), "close a cycle")
    phases = default_phases(last_year)
    cycle = cycle_launch(
        by=office, institution=institution, year=last_year, phases=phases, today=phases[0].starts_on, enqueue=False
    )
    cycle_close(by=office, cycle=cycle)
    return cycle


# --- the rest of the method ----------------------------------------------------------------------


def demo_method_seed(*, people: path.People, institutions: Iterable[Institution], year: int, cycle) -> None:
    institutions = list(institutions)
    _control_runs(people, institutions, year)
    if cycle is not None:
        _self_assessment(people, cycle)
    _level_proposals(people, institutions, year)
    _regrading_flag(people, institutions, year)
    _notice_comments(people, institutions, year)
    _measures_after_approval(people, institutions, year)


def _control_runs(people: path.People, institutions: list[Institution], year: int) -> None:
    """Three controls of issued points ran, recorded by their holders, a week apart."""
    today = timezone.localdate()
    controls = (
        Control.objects.filter(risk_point__institution__in=institutions, risk_point__year=year)
        .filter(risk_point__state=S.ISSUED)
        .select_related("risk_point__institution")
        .order_by("risk_point_id", "id")[:3]
    )
    for n, control in enumerate(controls):
        holder = _first(
            people,
            control.risk_point.institution,
            partial(access.can_record_control_run, control=control),
            "record a control run",
        )
        control_run_record(
            by=holder,
            control=control,
            ran_on=today - datetime.timedelta(days=7 * (n + 1)),
            description="按要求执行并留存记录。",
            evidence=f"台账第 {n + 1} 页",
        )


def _self_assessment(people: path.People, cycle: Cycle) -> None:
    institution = Institution.objects.filter(code=MARKET_CODE).first()
    if institution is None:
        return
    by = _first(people, institution, lambda u: cycle_access.can_submit_self_assessment(u, institution), "self-assess")
    self_assessment_submit(
        by=by,
        cycle=cycle,
        institution=institution,
        summary="本年度完成岗位职权清理和风险点查找，防控措施已落实到岗到人；行政处罚自由裁量环节的中期监控仍需加强。",
    )


def _top_level(institution: Institution) -> tuple[int, int, GradeLevel] | None:
    """The most serious cell of the institution's matrix (likelihood, severity, level)."""
    scheme = institution.grading_scheme
    if scheme is None:
        return None
    levels = {level.code: level for level in scheme.levels.all()}
    cells = [
        (likelihood + 1, severity + 1, levels[code])
        for likelihood, row in enumerate(scheme.matrix)
        for severity, code in enumerate(row)
        if code in levels
    ]
    return min(cells, key=lambda cell: (cell[2].rank, -cell[0], -cell[1]), default=None)


def _raisable(points: Iterable[RiskPoint]) -> tuple[RiskPoint, tuple[int, int, GradeLevel]] | None:
    for point in points:
        top = _top_level(point.institution)
        if top is not None and top[2].rank < point.level.rank:
            return point, top
    return None


def _level_proposals(people: path.People, institutions: list[Institution], year: int) -> None:
    """One proposal waiting for the leadership (a defined point of this year), and one accepted on
    last year's filed register through the register path again (v2)."""
    live = RiskPoint.objects.filter(institution__in=institutions, year=year, state__in=(S.DEFINED, S.APPROVED))
    found = _raisable(live.select_related("institution__grading_scheme", "level").order_by("id"))
    if found is not None:
        point, (likelihood, severity, _level) = found
        registers.level_proposal_create(
            by=_first(people, point.institution, lambda u: access.can_propose_level(u, point), "propose a level"),
            risk_point=point,
            likelihood=likelihood,
            severity=severity,
            reason="近两年同类岗位发生过违纪案件，建议提高等级。",
        )
    past = RiskPoint.objects.filter(institution__code=MARKET_CODE, year=year - 1, state=S.ISSUED)
    found = _raisable(past.select_related("institution__grading_scheme", "level").order_by("id"))
    if found is None:
        return
    point, (likelihood, severity, _level) = found
    institution = point.institution
    office = _office(people, institution)
    proposal = registers.level_proposal_create(
        by=office,
        risk_point=point,
        likelihood=likelihood,
        severity=severity,
        reason="备案后收到信访举报，建议提高等级并重新审定。",
    )
    # The filed grade is never changed in place: reopen, accept, and take the point through the path.
    transition_apply(by=office, name="revise", changes=[Change(point_id=point.pk)], reason="按提级建议重新定级")
    leader = _first(people, institution, lambda u: access.is_leadership_of(u, institution), "decide a proposal")
    registers.level_proposal_decide(by=leader, proposal=proposal, accept=True, note="同意提级，按程序重新审定后备案。")
    path.walk_points(
        people, [RiskPoint.objects.select_related("institution", "created_by").get(pk=point.pk)], S.DEFINED
    )
    register = Register.objects.get(institution=institution, year=year - 1)
    path.approve(people, register, [point.pk], held_on=datetime.date(year - 1, 9, 10))
    path.notice_and_issue(people, register, starts_on=datetime.date(year - 1, 9, 15))
    path.file(people, register)


def _regrading_flag(people: path.People, institutions: list[Institution], year: int) -> None:
    """A power item's legal basis was amended: its posts' live points wait to be graded again."""
    item = (
        PowerItem.objects.filter(
            institution__in=institutions,
            positions__risk_points__year=year,
            positions__risk_points__state__in=(S.REVIEWED, S.DEFINED, S.APPROVED, S.ISSUED),
        )
        .select_related("institution")
        .order_by("id")
        .first()
    )
    if item is None:
        return
    office = _first(people, item.institution, lambda u: access.can_manage_powers(u, item.institution), "change a power")
    power_item_update(item=item, by=office, legal_basis=f"{item.legal_basis}（{year}年修订）".strip())


def _notice_comments(people: path.People, institutions: list[Institution], year: int) -> None:
    """On the register in notice: a named comment about a point, answered; an anonymous one."""
    point = (
        RiskPoint.objects.filter(institution__in=institutions, year=year, state=S.IN_NOTICE)
        .select_related("institution")
        .order_by("id")
        .first()
    )
    if point is None:
        return
    institution = point.institution
    register = Register.objects.get(institution=institution, year=year)
    # a member of staff holding a post (not its office nor its leadership), else any member of staff
    staff = [u for u in people.candidates(institution.pk) if access.is_staff_of(u, institution)]
    holders = [u for u in staff if access.scope_of(u).is_holder and not access.scope_of(u).roles]
    commenter = (holders or staff)[0]
    comment = registers.notice_comment_add(
        by=commenter,
        register=register,
        risk_point=point,
        text="此风险点的防控措施只写了事前审核，建议补充事后抽查。",
    )
    registers.notice_comment_answer(
        by=_office(people, institution),
        comment=comment,
        answer="已采纳：由股室每季度抽查一次，结果报纪检组。",
    )
    if register.allow_anonymous_comments:
        registers.notice_comment_add(
            by=commenter, register=register, text="公示期能否延长到十个工作日？", anonymous=True
        )


def _measures_after_approval(people: path.People, institutions: list[Institution], year: int) -> None:
    """The market bureau lets measures follow the approved grades: one revision of an approved or
    issued point approved by the department's reviewer, another waiting in the inbox."""
    institution = next((i for i in institutions if i.code == MARKET_CODE), None)
    if institution is None:
        return
    rules = registers.decision_rules_for(institution)
    registers.decision_rules_update(
        by=_office(people, institution),
        institution=institution,
        team_size=rules.team_size,
        quorum=rules.quorum,
        majority=rules.majority,
        superior_approval=rules.superior_approval,
        measures_after_approval=True,
    )
    points = (
        RiskPoint.objects.filter(institution=institution, year=year, state__in=access.SETTLED_STATES)
        .select_related("institution", "department", "position")
        .order_by("id")
    )
    proposed = 0
    for point in points:
        # a holder of the post (else the department head), as the plan has each post write its measures
        candidates = [u for u in people.candidates(institution.pk) if access.can_propose_control_revision(u, point)]
        author = next((u for u in candidates if access.holds_position_of(u, point)), None)
        if author is None:
            continue
        revision = revisions.control_revision_propose(
            by=author,
            risk_point=point,
            controls=[
                {
                    "line": Control.Line.MONITORING,
                    "measure": "纪检组每季度随机抽取 10% 的办件，核对审批记录与现场情况。",
                    "owner": "纪检组",
                    "frequency": Control.Frequency.QUARTERLY,
                    "evidence": "抽查记录表",
                }
            ],
            reason="等级审定后按实施方案补充中期监控措施。",
        )
        proposed += 1
        if proposed == 1:
            reviewer = _first(
                people,
                institution,
                partial(access.can_review_control_revision, revision=revision),
                "review a revision of controls",
            )
            revisions.control_revision_review(by=reviewer, revision=revision, approve=True)
        else:
            return
