"""A cycle over bureau A of the shared world (conftest.build_world), with its tasks generated.

Bureau A: 审批科 (head ``head``) with 审批岗 (``holder``: his draft is submitted here too, so
every point of the post is in and his self-check is done) and 复核岗 (``holder2``: a draft only,
so hers is open); 财务股 with 会计岗 (``holder3``: submitted).
The default phases of 2026: self-checks are due on 1 May, department reviews on 31 May.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from assessments.models import Task, TaskNotice
from assessments.services import cycle_generate_tasks, cycle_launch
from positions.models import Position
from positions.services import holding_start

LAUNCHED_ON = datetime.date(2026, 1, 15)


def at(day: str, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(day).replace(hour=hour))


def launch(world, institution=None, year: int = 2026, **kwargs):
    kwargs.setdefault("today", LAUNCHED_ON)  # before the first deadline of the default phases
    cycle = cycle_launch(by=world.discipline, institution=institution or world.a, year=year, **kwargs)
    cycle_generate_tasks(cycle_id=cycle.pk)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def cycle(world, django_capture_on_commit_callbacks):
    from risk_registry.models import RiskPoint, RiskPointState

    RiskPoint.objects.filter(pk=world.draft.pk).update(state=RiskPointState.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=False):  # generated here, not through the broker
        return launch(world)


def task(cycle, kind, **lookup) -> Task:
    return Task.objects.get(cycle=cycle, kind=kind, **lookup)


def told(**task_lookup) -> list[tuple[str, str, str]]:
    """(task kind, recipient, stage) of every stage sent of the tasks of ``task_lookup``, one per
    person told: the scan's per-task records (``TaskNotice``), which the digests list."""
    records = list(TaskNotice.objects.filter(**task_lookup).values_list("task__kind", "stage", "recipients"))
    people = {r for *_, recipients in records for r in recipients}
    names = dict(get_user_model().objects.filter(pk__in=people).values_list("pk", "username"))
    return sorted((kind, names[r], stage) for kind, stage, recipients in records for r in recipients)


def more_self_checks(world, cycle, count: int, *, owner=None, title="摘要岗{:02d}", due_on=None) -> list[Task]:
    """``count`` more positions of 审批科 held by ``owner`` (holder2), each with an open self-check
    due on 1 May, some of them earlier (so the digest's order, most urgent first, shows); ``title``
    is formatted with the position's number from 1, ``due_on(i)`` overrides the due dates."""
    owner = owner or world.holder2
    positions = Position.objects.bulk_create(
        Position(institution=world.a, department=world.dept, title=title.format(i + 1)) for i in range(count)
    )
    for position in positions:
        holding_start(user=owner, position=position, started_on=datetime.date(2026, 1, 1))
    return Task.objects.bulk_create(
        Task(
            cycle=cycle,
            phase=cycle.phases.get(kind="inventory"),
            kind=Task.Kind.SELF_CHECK,
            key=f"self_check:{p.pk}",
            year=2026,
            institution=world.a,
            department=world.dept,
            position=p,
            due_on=due_on(i) if due_on else datetime.date(2026, 4, 30) if i % 10 == 0 else datetime.date(2026, 5, 1),
            owner=owner,
        )
        for i, p in enumerate(positions)
    )
