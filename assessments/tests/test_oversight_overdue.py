"""The county's oversight dashboard: its overdue total counts the tasks of every institution in the
reader's scope, not only the rows of the comparison table (a page of ``COMPARISON_PAGE``)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.completion import with_done
from assessments.models import Task
from assessments.services import cycle_generate_tasks, cycle_launch
from assessments.tests.conftest import LAUNCHED_ON

pytestmark = pytest.mark.django_db


def _launch(by, institution):
    cycle = cycle_launch(by=by, institution=institution, year=2026, today=LAUNCHED_ON)
    cycle_generate_tasks(cycle_id=cycle.pk)
    return cycle


def _overdue_on_page(client) -> int:
    page = client.get("/dashboards/oversight/?year=2026").content.decode()
    found = re.search(r"(\d+)项任务逾期|(\d+) overdue task", page)
    assert found, "the comparison card names the overdue tasks"
    return int(found.group(1) or found.group(2))


def test_the_overdue_total_counts_every_institution_not_only_the_rows_shown(world, client, monkeypatch):
    _launch(world.discipline, world.a)
    _launch(world.outsider, world.b)  # bureau B's own discipline office
    today = timezone.localdate()
    overdue = with_done(Task.objects.filter(year=2026)).filter(is_done=False, due_on__lt=today)
    in_a, in_b = overdue.filter(institution=world.a).count(), overdue.filter(institution=world.b).count()
    assert in_a and in_b
    client.force_login(world.superior)  # the county's superior office: both bureaus
    assert _overdue_on_page(client) == in_a + in_b
    # The table shows the county and one bureau (a page with points, so the legend is read as on
    # the full page: a query skipped for an empty legend would not be one per institution).
    monkeypatch.setattr("risk_registry.dashboards.COMPARISON_PAGE", 2)
    with CaptureQueriesContext(connection) as cut:
        assert _overdue_on_page(client) == in_a + in_b
    monkeypatch.setattr("risk_registry.dashboards.COMPARISON_PAGE", 200)
    with CaptureQueriesContext(connection) as full:
        _overdue_on_page(client)
    assert len(cut) == len(full)  # one grouped count, not a query per institution
