"""The pages of the cycle: what they show, and a fixed number of queries per page whatever the
number of tasks and notifications. Who may use them: the permission harness (tests/harness.py)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Notification, SelfAssessment, Task
from assessments.scan import deadline_scan
from assessments.services import cycle_generate_tasks, cycle_launch
from assessments.tests.conftest import at, more_self_checks
from controls.models import Control

pytestmark = pytest.mark.django_db


def test_holder_sees_own_tasks_and_notifications(world, cycle, client):
    deadline_scan(now=at("2026-04-24"))
    client.force_login(world.holder2)
    page = client.get("/inbox/").content.decode()
    assert "复核岗" in page
    assert 'data-testid="count-unread">1条未读<' in page
    client.post("/tasks/read/")
    assert not Notification.objects.filter(recipient=world.holder2, read_at__isnull=True).exists()


def test_board_shows_subordinates_side_by_side_for_the_superior(world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        county = cycle_launch(by=world.superior, institution=world.county, year=2027)
    cycle_generate_tasks(cycle_id=county.pk)
    client.force_login(world.superior)
    page = client.get(f"/cycles/{county.pk}/").content.decode()
    assert "甲局" in page and "乙局" in page
    client.force_login(world.outsider)  # 乙局's office sees the county's cycle, only its own part
    page = client.get(f"/cycles/{county.pk}/").content.decode()
    assert "乙局" in page and "甲局" not in page


def test_board_pages_its_rows_and_totals_them_all(world, client, django_capture_on_commit_callbacks, monkeypatch):
    """BOARD_PAGE rows a page (a big county's root has one per child institution); the total row
    counts every task in the reader's part, whatever the page; a bad page number is no error."""
    with django_capture_on_commit_callbacks(execute=False):
        county = cycle_launch(by=world.superior, institution=world.county, year=2027)
    cycle_generate_tasks(cycle_id=county.pk)
    monkeypatch.setattr("assessments.web.views.BOARD_PAGE", 1)
    client.force_login(world.superior)
    labels = []
    for number in (1, 2, 3):
        page = client.get(f"/cycles/{county.pk}/?page={number}").content.decode()
        rows = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
        assert rows.count("<tr>") == 1
        labels.append(re.search(r"<td>(?:<a [^>]*>)?([^<]+)<", rows).group(1))
        foot = r'<tfoot><tr class="fw-bold"><td>[^<]*</td><td class="text-end[^"]*">(\d+)<'
        total = int(re.search(foot, page).group(1))
        assert total == Task.objects.filter(cycle=county).count()
    assert "甲局" in labels and "乙局" in labels
    assert 'data-testid="board-pager"' in page
    for bad in ("x", "0", "99"):
        assert client.get(f"/cycles/{county.pk}/?page={bad}").status_code == 200


def grow(world, cycle, extra: int) -> None:
    more_self_checks(world, cycle, extra, title="岗{}", due_on=lambda _i: datetime.date(2026, 5, 1))


PAGES = [
    ("my inbox", "holder2", lambda w, c: "/inbox/"),
    ("cycle list", "discipline", lambda w, c: "/cycles/"),
    ("board", "discipline", lambda w, c: f"/cycles/{c.pk}/"),
    ("board, superior", "superior", lambda w, c: f"/cycles/{c.pk}/?institution=bureau-a"),
    ("board, department", "head", lambda w, c: f"/cycles/{c.pk}/?institution=bureau-a&department={w.dept.pk}"),
    ("control runs", "holder", lambda w, c: f"/controls/{Control.objects.get(risk_point=w.submitted).pk}/runs/new/"),
    ("year changes", "discipline", lambda w, c: f"/cycles/{c.pk}/changes/bureau-a/"),
    ("close page", "discipline", lambda w, c: f"/cycles/{c.pk}/close/"),
    ("self-assessment", "principal", lambda w, c: f"/cycles/{c.pk}/self-assessment/bureau-a/"),
]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(("page", "persona", "url"), PAGES, ids=[p[0] for p in PAGES])
def test_query_count_does_not_grow_with_tasks(world, cycle, client, page, persona, url):
    deadline_scan(now=at("2026-05-09"))
    client.force_login(getattr(world, persona))
    target = url(world, cycle)
    small = _queries(client, target)
    grow(world, cycle, 40)
    client.force_login(getattr(world, persona))
    large = _queries(client, target)
    assert large == small, f"{page}: {small} queries with few tasks, {large} with 40 more"
    assert large <= 20, f"{page}: {large} queries"
    assert SelfAssessment.objects.count() == 0
