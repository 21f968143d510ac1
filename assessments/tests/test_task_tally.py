"""The tasks' tallies (``TaskTally``, per cycle, institution, year, due date and filing): kept by
PostgreSQL's statement triggers on every write of tasks, rebuilt by ``reconcile_stored``; and the
cycle's progress per institution read from them equals the same figures counted task by task,
for every persona (those who see an institution's every task, and those who see only some).

The oracle is the tasks themselves, read one by one in Python."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from assessments import access as cycle_access
from assessments.completion import tasks_refresh
from assessments.models import Task, TaskTally
from assessments.selectors import progress_by_institution
from assessments.tally import task_tallies_rebuild
from assessments.tests.conftest import more_self_checks
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)  # after the self-checks' and the reviews' deadlines


def computed() -> dict[tuple, tuple[int, int]]:
    tallies: dict[tuple, list[int]] = {}
    for task in Task.objects.all():
        key = (task.cycle_id, task.institution_id, task.year, task.due_on, task.kind == Task.Kind.REGISTER_FILE)
        counts = tallies.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += task.done
    return {key: (total, done) for key, (total, done) in tallies.items()}


def tallied() -> dict[tuple, tuple[int, int]]:
    return {
        (t.cycle_id, t.institution_id, t.year, t.due_on, t.filing): (t.total, t.done)
        for t in TaskTally.objects.all()
        if t.total or t.done  # a tally written down to zero counts nothing
    }


def progress_task_by_task(user, *, year: int, today: datetime.date) -> dict[int, tuple]:
    """(total, done, overdue, filed on time) per institution over ``tasks_visible_to``."""
    figures: dict[int, list] = {}
    for task in cycle_access.tasks_visible_to(user).filter(year=year):
        row = figures.setdefault(task.institution_id, [0, 0, 0, None])
        row[0] += 1
        row[1] += task.done
        row[2] += not task.done and task.due_on < today
        if task.kind == Task.Kind.REGISTER_FILE:
            filed = RegisterVersion.objects.filter(
                register__institution_id=task.institution_id, register__year=task.year
            ).filter(signed_at__date__lte=task.due_on)
            row[3] = filed.exists() and row[3] is not False
    return {pk: tuple(row) for pk, row in figures.items()}


def progress_stored(user, *, year: int, today: datetime.date) -> dict[int, tuple]:
    return {
        pk: (p.total, p.done, p.overdue, p.filed_on_time)
        for pk, p in progress_by_institution(user=user, year=year, today=today).items()
    }


def test_generation_completion_and_deletion_keep_the_tallies(world, cycle):
    assert tallied() == computed() != {}
    more_self_checks(world, cycle, 5)  # a bulk insert
    assert tallied() == computed()
    RiskPoint.objects.filter(position=world.position2).update(state=RiskPointState.SUBMITTED)
    assert tasks_refresh(Task.objects.filter(cycle=cycle)) >= 1  # holder2's self-check is done now
    assert tallied() == computed()
    Task.objects.filter(cycle=cycle, kind=Task.Kind.DEPT_REVIEW).update(due_on=datetime.date(2026, 7, 1))
    assert tallied() == computed()
    Task.objects.filter(cycle=cycle, kind=Task.Kind.SELF_CHECK).delete()
    assert tallied() == computed()
    cycle.delete()  # its tasks go by cascade: the tallies are written down to nothing
    assert tallied() == computed() == {}


def test_reconcile_rebuilds_tallies_written_behind_the_triggers(world, cycle):
    TaskTally.objects.filter(filing=False).update(total=F("total") + 1)
    TaskTally.objects.filter(filing=True).delete()
    assert tallied() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert tallied() == computed()
    assert "task tallies: 0;" not in out.getvalue()
    assert task_tallies_rebuild() == 0  # nothing left to repair


@pytest.mark.parametrize("persona", ["discipline", "superior", "leader", "head", "holder", "holder2"])
def test_progress_from_the_tallies_equals_the_tasks_counted_one_by_one(world, cycle, persona):
    register = Register.objects.create(institution=world.a, year=2026)
    RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot={"points": []},
        content_hash="0" * 64,
        signed_by=world.principal,
        signed_at=datetime.datetime(2026, 8, 30, tzinfo=datetime.UTC),
    )
    RiskPoint.objects.filter(position=world.position2).update(state=RiskPointState.SUBMITTED)
    tasks_refresh(Task.objects.filter(cycle=cycle))
    user = getattr(world, persona)
    for today in (TODAY, datetime.date(2026, 12, 31)):
        expected = progress_task_by_task(user, year=2026, today=today)
        assert progress_stored(user, year=2026, today=today) == expected
    assert progress_stored(world.discipline, year=2026, today=TODAY)[world.a.pk][2] > 0  # some overdue
