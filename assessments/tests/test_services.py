"""Launching, generating, completing (from the real work) and closing a cycle."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from assessments.completion import with_done
from assessments.models import Cycle, Phase, Task
from assessments.selectors import task_title, task_url
from assessments.services import (
    PhaseSpec,
    control_periods,
    cycle_close,
    cycle_generate_tasks,
    cycle_launch,
    cycle_update,
    default_phases,
    self_assessment_submit,
)
from assessments.tests.conftest import LAUNCHED_ON, launch, task
from controls.models import Control, ControlRun, Rule
from controls.services import control_run_record, rule_create
from positions.models import Holding
from positions.services import holding_end, holding_start
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db


def is_done(t: Task) -> bool:
    return with_done(Task.objects.filter(pk=t.pk)).get().is_done


def set_state(new_state, **lookup) -> None:
    RiskPoint.objects.filter(**lookup).update(state=new_state)  # the workflow's transitions are the lead's


def test_discipline_office_launches_five_phases_with_default_dates(world, cycle):
    phases = list(cycle.phases.all())
    assert [p.name for p in phases] == ["宣传发动", "清权查险", "措施防控", "建章立制·运行监控", "检查考核·修正完善"]
    assert phases[1].starts_on == datetime.date(2026, 4, 1) and phases[1].due_on == datetime.date(2026, 5, 31)
    assert cycle.reminder_days == [7, 1] and cycle.supervisor_after_days == 1 and cycle.discipline_after_days == 7
    assert AuditEntry.objects.filter(action="cycle.launch", target_id=cycle.pk).count() == 1


@pytest.mark.parametrize("persona", ["holder", "head", "leader", "principal", "outsider", "nobody"])
def test_only_the_institutions_own_office_launches(world, persona):
    with pytest.raises(PermissionDenied):
        cycle_launch(by=getattr(world, persona), institution=world.a, year=2026)


def test_superior_launches_for_the_county_and_overlap_is_refused(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        cycle_launch(by=world.superior, institution=world.county, year=2026, today=LAUNCHED_ON)
        with pytest.raises(ValidationError):
            cycle_launch(by=world.discipline, institution=world.a, year=2026, today=LAUNCHED_ON)  # the county's


def test_names_dates_and_schedule_are_the_cycles_own(world, django_capture_on_commit_callbacks):
    phases = default_phases(2026)
    phases[1] = PhaseSpec(phases[1].kind, "排查风险", datetime.date(2026, 4, 10), datetime.date(2026, 6, 10))
    with django_capture_on_commit_callbacks(execute=False):
        cycle = launch(world, phases=phases, reminder_days=[3, 10], supervisor_after_days=2, discipline_after_days=5)
    assert cycle.reminder_days == [10, 3]
    assert task(cycle, Task.Kind.DEPT_REVIEW, department=world.dept).due_on == datetime.date(2026, 6, 10)
    with pytest.raises(ValidationError):
        cycle_launch(
            by=world.outsider,
            institution=world.b,
            year=2026,
            supervisor_after_days=5,
            discipline_after_days=2,
            today=LAUNCHED_ON,
        )


def test_generation_creates_the_tasks_each_phase_implies(world, cycle):
    kinds = sorted(Task.objects.filter(cycle=cycle).values_list("kind", "owner__username"))
    assert kinds == sorted(
        [
            ("self_check", "holder"),
            ("self_check", "holder2"),
            ("self_check", "holder3"),
            ("dept_review", "head"),
            ("dept_review", "principal"),  # 财务股 has no head: the leader answers for it
            ("register_define", "discipline"),
            ("register_approve", "principal"),
            ("register_notice", "discipline"),
            ("register_file", "principal"),
            ("self_assessment", "principal"),
            ("rules", "head"),
            ("rules", "discipline"),  # 财务股 has no head: the discipline office sees to its rules
        ]
    )
    assert not Task.objects.filter(cycle=cycle, institution=world.b).exists()  # outside the subtree
    assert not Task.objects.filter(phase__kind=Phase.Kind.PUBLICITY).exists()


def test_generation_is_idempotent_and_follows_rotation(world, cycle):
    first = dict(Task.objects.filter(cycle=cycle).values_list("key", "id"))
    holding = Holding.objects.get(user=world.holder2, position=world.position2)
    holding_end(holding=holding, ended_on=datetime.date(2026, 3, 1))
    holding_start(user=world.nobody, position=world.position2, started_on=datetime.date(2026, 3, 2))
    cycle_generate_tasks(cycle_id=cycle.pk)
    assert dict(Task.objects.filter(cycle=cycle).values_list("key", "id")) == first
    assert task(cycle, Task.Kind.SELF_CHECK, position=world.position2).owner == world.nobody


def test_control_periods_follow_the_frequency():
    start, end = datetime.date(2026, 9, 1), datetime.date(2026, 11, 30)
    assert control_periods("monthly", start, end) == [
        (datetime.date(2026, 9, 1), datetime.date(2026, 9, 30)),
        (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31)),
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)),
    ]
    assert control_periods("quarterly", start, end) == [
        (datetime.date(2026, 9, 1), datetime.date(2026, 11, 30)),
    ]
    assert len(control_periods("weekly", start, end)) == 13
    assert control_periods("each_time", start, end) == [(start, end)]


def test_control_run_tasks_for_approved_points_done_by_a_run_in_the_period(world, cycle):
    set_state(RiskPointState.APPROVED, pk=world.submitted.pk)
    Control.objects.filter(risk_point=world.submitted).update(frequency="monthly")
    cycle_generate_tasks(cycle_id=cycle.pk)
    runs = list(Task.objects.filter(cycle=cycle, kind=Task.Kind.CONTROL_RUN).order_by("due_on"))
    assert [t.due_on for t in runs] == [
        datetime.date(2026, 9, 30),
        datetime.date(2026, 10, 31),
        datetime.date(2026, 11, 30),
    ]
    assert {t.owner for t in runs} == {world.holder}
    control = Control.objects.get(risk_point=world.submitted)
    ControlRun.objects.create(
        control=control, ran_on=datetime.date(2026, 10, 12), description="抽查", recorded_by=world.holder
    )
    assert [is_done(t) for t in runs] == [False, True, False]


def test_self_check_is_done_by_submitting_and_open_again_when_sent_back(world, cycle):
    mine = task(cycle, Task.Kind.SELF_CHECK, position=world.position2)
    assert not is_done(mine)  # only a draft
    set_state(RiskPointState.SUBMITTED, pk=world.draft2.pk)
    assert is_done(mine)
    set_state(RiskPointState.DRAFT, pk=world.draft2.pk)  # sent back
    assert not is_done(mine)


def test_department_review_and_register_steps_follow_the_points(world, cycle):
    review = task(cycle, Task.Kind.DEPT_REVIEW, department=world.dept)
    define = task(cycle, Task.Kind.REGISTER_DEFINE)
    approve = task(cycle, Task.Kind.REGISTER_APPROVE)
    assert not is_done(review)
    set_state(RiskPointState.REVIEWED, pk=world.submitted.pk)
    assert not is_done(review)  # the holder's other point still waits for review
    set_state(RiskPointState.REVIEWED, pk=world.draft.pk)
    assert is_done(review)
    assert not is_done(define)
    set_state(RiskPointState.DEFINED, institution=world.a, state__in=["reviewed", "submitted"])
    assert is_done(define) and not is_done(approve)
    set_state(RiskPointState.APPROVED, institution=world.a, state="defined")
    assert is_done(approve)


def test_rules_task_is_done_when_a_rule_of_the_department_is_recorded_in_its_period(world, cycle):
    rules = task(cycle, Task.Kind.RULES, department=world.dept)
    other = task(cycle, Task.Kind.RULES, department=world.finance)
    assert rules.phase.kind == Phase.Kind.MONITORING and rules.due_on == datetime.date(2026, 11, 30)
    assert rules.period_start == datetime.date(2026, 3, 1)  # the cycle's first phase
    assert task_title(rules) == "审批科建章立制：将制度录入制度目录"
    assert task_url(rules) == reverse("rule_list", args=[world.a.code])
    assert not is_done(rules)
    rule = rule_create(institution=world.a, department=world.dept, title="行政审批岗位责任制", by=world.head)
    Rule.objects.filter(pk=rule.pk).update(recorded_on=datetime.date(2025, 12, 1))  # last year's rule
    assert not is_done(rules)
    Rule.objects.filter(pk=rule.pk).update(recorded_on=datetime.date(2026, 9, 14))
    assert is_done(rules)
    assert not is_done(other)  # another department's task is its own
    Rule.objects.filter(pk=rule.pk).update(
        recorded_on=datetime.date(2025, 12, 1), revised_on=datetime.date(2026, 10, 8)
    )
    assert is_done(rules)  # a revision within the period is the work too
    Rule.objects.filter(pk=rule.pk).update(repealed_on=datetime.date(2026, 11, 1))
    assert not is_done(rules)  # a repealed rule is no rule of the catalogue


def test_filing_is_done_when_a_version_is_filed(world, cycle):
    filing = task(cycle, Task.Kind.REGISTER_FILE)
    assert not is_done(filing)
    file_register(world)
    assert is_done(filing)


def test_self_assessment_is_done_when_submitted_once(world, cycle):
    assessment = task(cycle, Task.Kind.SELF_ASSESSMENT)
    with pytest.raises(PermissionDenied):
        self_assessment_submit(by=world.holder, cycle=cycle, institution=world.a, summary="…")
    self_assessment_submit(by=world.principal, cycle=cycle, institution=world.a, summary="组织健全,风险查找深入")
    assert is_done(assessment)
    with pytest.raises(ValidationError):
        self_assessment_submit(by=world.principal, cycle=cycle, institution=world.a, summary="again")


def test_control_run_only_by_the_holder_and_not_in_the_future(world):
    control = Control.objects.get(risk_point=world.submitted)
    with pytest.raises(PermissionDenied):
        control_run_record(by=world.holder2, control=control, ran_on=datetime.date(2026, 1, 5), description="x")
    with pytest.raises(ValidationError):
        control_run_record(by=world.holder, control=control, ran_on=datetime.date(2999, 1, 1), description="x")
    run = control_run_record(by=world.holder, control=control, ran_on=datetime.date(2026, 1, 5), description="双人审核")
    assert AuditEntry.objects.filter(action="control_run.create", target_id=run.pk).exists()


def test_edit_moves_due_dates_and_is_audited(world, cycle, django_capture_on_commit_callbacks):
    phases = [PhaseSpec(p.kind, p.name, p.starts_on, p.due_on) for p in cycle.phases.all()]
    phases[1] = PhaseSpec(phases[1].kind, "清权查险(延期)", phases[1].starts_on, datetime.date(2026, 6, 15))
    with pytest.raises(PermissionDenied):
        cycle_update(
            by=world.head,
            cycle=cycle,
            name="x",
            phases=phases,
            reminder_days=[7],
            supervisor_after_days=1,
            discipline_after_days=7,
        )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cycle_update(
            by=world.discipline,
            cycle=cycle,
            name=cycle.name,
            phases=phases,
            reminder_days=[5, 1],
            supervisor_after_days=2,
            discipline_after_days=9,
        )
    assert len(callbacks) == 1  # the regeneration, sent after commit
    cycle.refresh_from_db()
    assert cycle.tasks_generated_at is None  # so the scan regenerates if that message is lost
    cycle_generate_tasks(cycle_id=cycle.pk)  # what the worker does with it
    assert cycle.reminder_days == [5, 1] and cycle.discipline_after_days == 9
    assert task(cycle, Task.Kind.DEPT_REVIEW, department=world.dept).due_on == datetime.date(2026, 6, 15)
    assert AuditEntry.objects.filter(action="cycle.update", target_id=cycle.pk).exists()


def file_register(world, points=None) -> RegisterVersion:
    register, _ = Register.objects.get_or_create(institution=world.a, year=2026)
    points = points or [world.submitted, world.finance_point]
    RiskPoint.objects.filter(pk__in=[p.pk for p in points]).update(state=RiskPointState.ISSUED)
    return RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot={"points": [{"id": p.pk} for p in points]},
        content_hash="0" * 64,
        signed_by=world.principal,
        signed_at=datetime.datetime(2026, 8, 30, tzinfo=datetime.UTC),
    )


def test_closing_carries_the_filed_register_into_next_years_drafts(world, cycle):
    file_register(world)
    with pytest.raises(PermissionDenied):
        cycle_close(by=world.superior, cycle=cycle)  # not the office that launched it
    result = cycle_close(by=world.discipline, cycle=cycle)
    assert (result.registers, result.points, result.controls) == (1, 2, 2)
    carried = RiskPoint.objects.filter(year=2027).order_by("carried_from_id")
    assert [p.carried_from_id for p in carried] == sorted([world.submitted.pk, world.finance_point.pk])
    assert [p.carried_from_rank for p in carried] == [p.carried_from.level.rank for p in carried]  # stored
    assert {p.state for p in carried} == {RiskPointState.DRAFT}
    assert Control.objects.filter(risk_point__year=2027).count() == 2
    assert Register.objects.filter(institution=world.a, year=2027).exists()
    assert Cycle.objects.get(pk=cycle.pk).state == Cycle.State.CLOSED
    assert AuditEntry.objects.filter(action="register.carry_over", institution=world.a).count() == 1
    with pytest.raises(ValidationError):
        cycle_close(by=world.discipline, cycle=cycle)
    assert RiskPoint.objects.filter(year=2027).count() == 2
