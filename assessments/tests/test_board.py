"""The cycle's progress board at an institution: its figures, read from the tasks' tallies for the
institutions whose every task the reader sees and from the tasks one by one elsewhere, equal the
same figures counted task by task over ``tasks_visible_to``, for every persona, at every level of
the tree and on two days; and its queries do not grow with the institutions below.

The oracle is the tasks themselves, read one by one in Python."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext

from assessments import access as cycle_access
from assessments.models import Task, TaskTally
from assessments.selectors import AT_RISK_DAYS, cycle_board
from assessments.services import cycle_generate_tasks, cycle_launch
from assessments.tests.conftest import LAUNCHED_ON
from risk_registry.organisation.models import Institution
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.services import department_create, institution_create

pytestmark = pytest.mark.django_db

DAYS = (datetime.date(2026, 5, 28), datetime.date(2026, 12, 31))  # near the reviews' deadline; after all


def extra_tasks(cycle, institution, department, owner, count: int, *, tag: str) -> list[Task]:
    """``count`` tasks of ``institution`` with due dates around the days above and every third done."""
    phase = cycle.phases.get(kind="inventory")
    return Task.objects.bulk_create(
        Task(
            cycle=cycle,
            phase=phase,
            kind=Task.Kind.DEPT_REVIEW,
            key=f"extra:{tag}:{i}",
            year=cycle.year,
            institution=institution,
            department=department,
            due_on=datetime.date(2026, 5, 20) + datetime.timedelta(days=3 * i),
            owner=owner,
            done=i % 3 == 0,
        )
        for i in range(count)
    )


@pytest.fixture
def county_cycle(world, django_capture_on_commit_callbacks):
    """The county's cycle over 甲局 (with a station below it, 甲局一所), 乙局 and their tasks; some
    tasks of the station are owned by people who see only their own there."""
    world.station = institution_create(
        code="a-station", name="甲局一所", kind=Institution.Kind.SUB_BUREAU, parent=world.a
    )
    world.station_dept = department_create(institution=world.station, name="一所办公室")
    with django_capture_on_commit_callbacks(execute=False):
        cycle = cycle_launch(by=world.superior, institution=world.county, year=2026, today=LAUNCHED_ON)
    cycle_generate_tasks(cycle_id=cycle.pk)
    extra_tasks(cycle, world.station, world.station_dept, world.holder3, 9, tag="station")
    extra_tasks(cycle, world.station, world.station_dept, world.head, 2, tag="head")  # the head's own, elsewhere
    extra_tasks(cycle, world.station, None, world.leader, 2, tag="leader")  # the leader's own, below 甲局
    extra_tasks(cycle, world.a, world.dept, world.holder2, 7, tag="a")
    extra_tasks(cycle, world.b, world.dept_b, world.outsider_holder, 5, tag="b")
    extra_tasks(cycle, world.b, world.dept_b, world.head, 1, tag="head-b")
    return cycle


def board_task_by_task(user, cycle, node: Institution, today: datetime.date) -> dict[str, tuple[int, ...]]:
    """label → (tasks, done, overdue, due within 7 days), as the board defines its rows."""
    depth = len(path_ids(node.path))
    soon = today + datetime.timedelta(days=AT_RISK_DAYS)
    names = dict(Institution.objects.values_list("pk", "name"))
    rows: dict[str, list[int]] = {}
    for task in cycle_access.tasks_visible_to(user).filter(cycle=cycle).select_related("institution", "department"):
        path = task.institution.path
        if not path.startswith(node.path):
            continue
        if task.institution_id == node.pk:
            label = task.department.name if task.department else gettext("The institution's register")
        else:
            label = names[path_ids(path)[depth]]
        row = rows.setdefault(label, [0, 0, 0, 0])
        row[0] += 1
        row[1] += task.done
        row[2] += not task.done and task.due_on < today
        row[3] += not task.done and today <= task.due_on <= soon
    return {label: tuple(row) for label, row in rows.items()}


def board_shown(user, cycle, node: Institution, today: datetime.date) -> dict[str, tuple[int, ...]]:
    board = cycle_board(user=user, cycle=cycle, today=today, node=node)
    rows = {row.label: (row.total, row.done, row.overdue, row.at_risk) for row in board.rows}
    assert len(rows) == len(board.rows)  # no label twice: the comparison is by label
    total = board.total
    assert (total.total, total.done, total.overdue, total.at_risk) == tuple(
        sum(row[i] for row in rows.values()) for i in range(4)
    )
    return rows


@pytest.mark.parametrize("persona", ["superior", "discipline", "leader", "principal", "head", "outsider"])
def test_board_figures_equal_the_tasks_counted_one_by_one(world, county_cycle, persona):
    user = getattr(world, persona)
    for node in (world.county, world.a, world.station, world.b):
        for today in DAYS:
            expected = board_task_by_task(user, county_cycle, node, today)
            assert board_shown(user, county_cycle, node, today) == expected, (node.name, today)
    Task.objects.filter(cycle=county_cycle, institution=world.station, done=False).update(done=True)
    expected = board_task_by_task(user, county_cycle, world.county, DAYS[0])
    assert board_shown(user, county_cycle, world.county, DAYS[0]) == expected


def test_the_figures_are_not_trivial(world, county_cycle):
    """The comparison above covers rows of every kind: the superior's county rolls the station into
    甲局 with some overdue and some due soon; the head sees his department of 甲局 whole and of the
    station only his own tasks; the leader sees 甲局 whole and her own tasks of the station."""
    superior = board_shown(world.superior, county_cycle, world.county, DAYS[0])
    assert superior["甲局"][0] > 7 + 9 + 2 + 2 and superior["甲局"][2] > 0 and superior["甲局"][3] > 0
    assert board_shown(world.head, county_cycle, world.a, DAYS[0])["甲局一所"] == (2, 1, 1, 0)
    leader = board_shown(world.leader, county_cycle, world.a, DAYS[1])
    assert leader["甲局一所"] == (2, 1, 1, 0) and leader["审批科"][0] > 7


def test_board_reads_the_tallies_of_wholly_seen_institutions(world, county_cycle):
    """The decision, shown: a tally written behind the triggers moves the superior's figures (read
    from the tallies), not the head's (the tasks of a department, one by one)."""
    superior = board_shown(world.superior, county_cycle, world.county, DAYS[0])
    head = board_shown(world.head, county_cycle, world.county, DAYS[0])
    TaskTally.objects.filter(cycle=county_cycle, institution=world.station).update(total=F("total") + 1)
    assert board_shown(world.superior, county_cycle, world.county, DAYS[0])["甲局"][0] > superior["甲局"][0]
    assert board_shown(world.head, county_cycle, world.county, DAYS[0]) == head


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("persona", ["superior", "head"])
def test_board_queries_do_not_grow_with_the_institutions_below(world, county_cycle, client, persona):
    client.force_login(getattr(world, persona))
    url = f"/cycles/{county_cycle.pk}/"
    before = _queries(client, url)
    for n in range(4):
        bureau = institution_create(
            code=f"more-{n}", name=f"丙局{n}", kind=Institution.Kind.BUREAU, parent=world.county
        )
        station = institution_create(
            code=f"more-{n}-s", name=f"丙局{n}一所", kind=Institution.Kind.SUB_BUREAU, parent=bureau
        )
        for institution in (bureau, station):
            extra_tasks(county_cycle, institution, None, world.head, 3, tag=f"more-{institution.code}")
    page = client.get(url).content.decode()
    assert "丙局3" in page and "丙局3一所" not in page  # a station rolled up into its bureau
    assert _queries(client, url) == before
