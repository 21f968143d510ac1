"""Stored completion (``Task.done``): every service that completes or undoes work keeps it equal to
``done_expression()``, and the deadline scan sets right what was changed behind the services.

The invariant is checked over *every* task after each step, not only the task the step is about:
a service that forgets to refresh, or refreshes the wrong set, leaves some task stale and fails."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from assessments.completion import done_expression, tasks_refresh
from assessments.models import Task, TaskNotice
from assessments.scan import deadline_scan
from assessments.services import cycle_generate_tasks, self_assessment_submit
from assessments.tests.conftest import at, task
from controls.models import Control
from controls.services import control_run_record, rule_create
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.services import risk_point_create, risk_points_copy, rule_repeal, rule_revise
from risk_registry.workflow import registers
from risk_registry.workflow.registers import Vote
from risk_registry.workflow.transitions import Change, transition_apply

pytestmark = pytest.mark.django_db


def stale() -> list[tuple[str, str, bool]]:
    """Tasks whose stored ``done`` differs from the derived one (kind, key, stored). The derived
    value is read both ways, hashed and probed per task (the scan's reconciliation): they agree."""
    assert disagreeing() == []
    return list(
        Task.objects.annotate(derived=done_expression())
        .exclude(done=F("derived"))
        .order_by("key")
        .values_list("kind", "key", "done")
    )


def disagreeing() -> list[tuple[str, str]]:
    """Tasks whose probed completion (``done_expression(per_task=True)``) is not the plain one."""
    return list(
        Task.objects.annotate(plain=done_expression(), probed=done_expression(per_task=True))
        .exclude(plain=F("probed"))
        .values_list("kind", "key")
    )


def stored(t: Task) -> bool:
    t.refresh_from_db()
    assert (t.done_at is not None) == t.done  # done_at is set exactly while done
    return t.done


def step(by, name: str, *points, reason: str = "") -> None:
    transition_apply(by=by, name=name, changes=[Change(point_id=p.pk) for p in points], reason=reason)
    assert stale() == []


def test_generation_stores_the_completion_of_new_tasks(world, cycle):
    assert Task.objects.filter(cycle=cycle).count() > 5
    assert stale() == []
    assert stored(task(cycle, Task.Kind.SELF_CHECK, position=world.position))  # submitted at launch
    assert not stored(task(cycle, Task.Kind.SELF_CHECK, position=world.position2))  # a draft only


def test_the_register_path_keeps_every_task_stored_and_a_return_reopens(world, cycle):
    mine = task(cycle, Task.Kind.SELF_CHECK, position=world.position2)
    review = task(cycle, Task.Kind.DEPT_REVIEW, department=world.dept)
    define = task(cycle, Task.Kind.REGISTER_DEFINE)
    approve = task(cycle, Task.Kind.REGISTER_APPROVE)
    notice = task(cycle, Task.Kind.REGISTER_NOTICE)
    filing = task(cycle, Task.Kind.REGISTER_FILE)

    step(world.holder2, "submit", world.draft2)
    assert stored(mine)
    step(world.holder2, "withdraw", world.draft2)  # undone: the self-check opens again
    assert not stored(mine)
    step(world.holder2, "submit", world.draft2)
    step(world.head, "submit", world.dept_draft)
    step(world.head, "review", world.draft, world.submitted, world.draft2, world.dept_draft)
    assert stored(mine) and stored(review)
    assert not stored(define)
    step(world.discipline, "review", world.finance_point)  # 财务股 has no head
    step(world.discipline, "define", world.draft, world.submitted, world.draft2, world.dept_draft)
    assert not stored(define)  # 财务股's point is still behind
    step(world.discipline, "define", world.finance_point)
    assert stored(define) and not stored(approve)

    register = registers.register_for(institution=world.a, year=2026)
    registers.register_decide(
        by=world.leader,
        register=register,
        kind="approval",
        meeting="局党组会议",
        held_on=timezone.localdate(),
        participants="周局长、孙副局长",
        decision="同意",
        vote=Vote(present=2, votes_for=2, against=0, abstaining=0),
    )
    assert stale() == [] and stored(approve) and not stored(notice)
    registers.notice_publish(by=world.discipline, register=register, days=5, allow_anonymous=True)
    assert stale() == [] and stored(notice)
    register.refresh_from_db()
    registers.register_issue(
        by=world.discipline, register=register, today=timezone.localdate() + datetime.timedelta(days=6)
    )
    assert stale() == [] and not stored(filing)
    registers.register_file(by=world.principal, register=register)
    assert stale() == [] and stored(filing)

    step(world.discipline, "revise", world.draft2, reason="岗位调整")  # back to draft
    assert not stored(mine)
    assert stored(filing)  # the filed version stays filed


def test_a_new_draft_reopens_the_self_check(world, cycle):
    mine = task(cycle, Task.Kind.SELF_CHECK, position=world.position)
    assert stored(mine)
    risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields={
            "risk_type": world.risk_type,
            "found_by": "self",
            "description": "新发现",
            "likelihood": 1,
            "severity": 1,
        },
    )
    assert stale() == [] and not stored(mine)


def test_copies_of_points_refresh_their_year(world, cycle):
    other = task(cycle, Task.Kind.SELF_CHECK, position=world.position3)
    assert stored(other)
    risk_points_copy(points=[world.finance_point], year=2026, state=S.DRAFT, carried=False)
    assert stale() == [] and not stored(other)


def test_an_import_keeps_every_task_stored(world, cycle):
    """The import writes its points by COPY, behind the ORM, then tells the cycle's tasks once."""
    from risk_registry.documents import services as documents
    from risk_registry.tests.test_documents_import import good_rows, workbook_bytes

    before = RiskPoint.objects.filter(institution=world.a, year=2026).count()
    result = documents.register_import(
        by=world.discipline, institution=world.a, year=2026, data=workbook_bytes(good_rows()), filename="good.xlsx"
    )
    assert result.ok and RiskPoint.objects.filter(institution=world.a, year=2026).count() == before + 3
    assert stale() == []


def test_control_runs_rules_and_self_assessment_keep_their_tasks_stored(world, cycle):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.APPROVED)
    Control.objects.filter(risk_point=world.submitted).update(frequency="monthly")
    cycle_generate_tasks(cycle_id=cycle.pk)  # control runs of an approved point appear, stored
    assert stale() == []
    runs = list(Task.objects.filter(cycle=cycle, kind=Task.Kind.CONTROL_RUN).order_by("due_on"))
    assert len(runs) == 3 and not any(stored(t) for t in runs)
    control = Control.objects.get(risk_point=world.submitted)
    control_run_record(by=world.holder, control=control, ran_on=datetime.date(2026, 10, 12), description="抽查")
    assert stale() == []
    assert [stored(t) for t in runs] == [False, True, False]

    rules = task(cycle, Task.Kind.RULES, department=world.dept)
    rule = rule_create(institution=world.a, department=world.dept, title="行政审批岗位责任制", by=world.head)
    assert stale() == []
    rule_revise(rule=rule, on=datetime.date(2026, 10, 8), text="修订", by=world.discipline)
    assert stale() == [] and stored(rules)  # revised within the task's period
    rule_repeal(rule=rule, on=datetime.date(2026, 11, 1), reason="废止", by=world.discipline)
    assert stale() == [] and not stored(rules)  # undone: a repealed rule is no rule of the catalogue

    assessment = task(cycle, Task.Kind.SELF_ASSESSMENT)
    self_assessment_submit(by=world.principal, cycle=cycle, institution=world.a, summary="组织健全")
    assert stale() == [] and stored(assessment)


def test_the_scan_reconciles_a_task_changed_behind_the_services(world, cycle):
    mine = task(cycle, Task.Kind.SELF_CHECK, position=world.position2)  # due 1 May
    RiskPoint.objects.filter(pk=world.draft2.pk).update(state=S.SUBMITTED)  # no service was told
    assert stale() == [("self_check", mine.key, False)]
    result = deadline_scan(now=at("2026-04-30"))
    assert result.reconciled == 1
    assert stale() == [] and stored(mine)
    assert not TaskNotice.objects.filter(task=mine).exists()  # done before stages: nobody is reminded
    assert deadline_scan(now=at("2026-04-30", 10)).reconciled == 0


def test_the_scan_reopens_a_done_task_of_its_window(world, cycle):
    mine = task(cycle, Task.Kind.SELF_CHECK, position=world.position)
    assert stored(mine)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DRAFT)  # behind the services
    deadline_scan(now=at("2026-04-30"))
    assert stale() == [] and not stored(mine)


def test_the_expression_probed_per_task_is_the_same_definition(world, cycle):
    """The reconciliation's form (``EXISTS … OFFSET 0``: index probes per task, never a hash of every
    risk point) gives every task the value of the plain expression, done and open alike."""
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.APPROVED)
    Control.objects.filter(risk_point=world.submitted).update(frequency="monthly")
    cycle_generate_tasks(cycle_id=cycle.pk)
    control = Control.objects.get(risk_point=world.submitted)
    control_run_record(by=world.holder, control=control, ran_on=datetime.date(2026, 10, 12), description="抽查")
    rule_create(institution=world.a, department=world.dept, title="行政审批岗位责任制", by=world.head)
    self_assessment_submit(by=world.principal, cycle=cycle, institution=world.a, summary="组织健全")
    values = dict(Task.objects.annotate(probed=done_expression(per_task=True)).values_list("pk", "probed"))
    assert disagreeing() == []
    assert set(values.values()) == {True, False}  # both answers occur: the comparison means something
    kinds_done = set(Task.objects.filter(pk__in=[pk for pk, v in values.items() if v]).values_list("kind", flat=True))
    assert {Task.Kind.SELF_CHECK, Task.Kind.CONTROL_RUN, Task.Kind.SELF_ASSESSMENT} <= kinds_done
    assert tasks_refresh(Task.objects.filter(cycle=cycle), per_task=True) == 0  # already stored right
    Task.objects.filter(cycle=cycle).update(done=False, done_at=None)  # behind the services
    assert tasks_refresh(Task.objects.filter(cycle=cycle), per_task=True) == len([v for v in values.values() if v])
    assert stale() == []


def test_refresh_writes_only_the_rows_that_change(world, cycle):
    everything = Task.objects.filter(cycle=cycle)
    assert tasks_refresh(everything) == 0
    Task.objects.filter(pk=task(cycle, Task.Kind.SELF_CHECK, position=world.position).pk).update(done=False)
    assert tasks_refresh(everything) == 1
    assert stale() == []
