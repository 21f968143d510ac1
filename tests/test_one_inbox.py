"""The one inbox (我的待办): steps of the register, tasks of the annual cycle and warning notices to
answer on one page, each group counted; the navigation's badge is the page's total and means one
thing (things to do: notifications are news and are counted apart); the old 我的任务 page leads here."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Notification, Task
from assessments.scan import deadline_scan
from assessments.tests.conftest import at, launch
from risk_registry.web import todo
from tests.warnings_helpers import inspection_item, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(world, django_capture_on_commit_callbacks):
    """A running cycle of bureau A, its tasks generated here (not through the broker)."""
    with django_capture_on_commit_callbacks(execute=False):
        return launch(world)


def _badge(html: str) -> str:
    found = re.search(r'data-testid="nav-inbox-count">(?:<span[^>]*>[^<]*</span>)?([^<]+)<', html)
    return found.group(1) if found else ""


def _total(html: str) -> str:
    found = re.search(r'data-testid="inbox-total">([^<]+)<', html)
    return found.group(1) if found else ""


def test_one_page_lists_cycle_tasks_and_notices_with_one_total(world, cycle, client):
    deadline_scan(now=at("2026-04-24"))  # reminders: notifications, which are not things to do
    notice = issue(world, inspection_item(world, subject_user=world.holder2))  # to answer
    client.force_login(world.holder2)
    counts = todo.todo_counts(world.holder2)
    assert counts.notices == 1 and counts.tasks >= 1
    html = client.get("/inbox/").content.decode()
    assert _badge(html) == _total(html) == str(counts.total)
    assert counts.total == sum(counts.workflow.values()) + counts.tasks + 1
    assert f'data-testid="count-tasks">{counts.tasks}<' in html and "复核岗" in html
    assert 'data-testid="count-notices">1<' in html and f"/warnings/notices/{notice.pk}/" in html
    assert Notification.objects.filter(recipient=world.holder2, read_at=None).exists()
    client.post("/tasks/read/")  # notifications are shown apart: reading them changes no count
    assert _badge(client.get("/inbox/").content.decode()) == str(counts.total)


def test_register_steps_are_counted_by_group(world, client):
    client.force_login(world.holder)
    counts = todo.todo_counts(world.holder)
    assert counts.workflow["to_submit"] == 1 and counts.total == 1
    html = client.get("/inbox/").content.decode()
    assert 'data-testid="count-to_submit">1<' in html and _badge(html) == _total(html) == "1"
    assert world.draft.description[:20] in html


def test_the_badge_is_counted_at_login_and_kept_for_the_pages_after(world, client):
    """Login saves the session anyway: the badge is counted there, so the first pages read it."""
    client.force_login(world.holder)
    assert client.session[todo.BADGE_SESSION_KEY] == "1"  # the holder's draft, to submit
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/risks/").content.decode()
    assert _badge(html) == "1"
    assert not any("SELECT (SELECT COUNT(*)" in query["sql"] for query in captured.captured_queries)


def test_the_badge_counts_tasks_not_notifications(world, cycle, client):
    deadline_scan(now=at("2026-04-24"))
    client.force_login(world.holder2)
    before = todo.todo_counts(world.holder2)
    assert Notification.objects.filter(recipient=world.holder2).exists()
    assert before.total == before.tasks + sum(before.workflow.values())
    assert _badge(client.get("/").content.decode()) == (str(before.total) if before.total else "")


def test_the_badge_and_the_total_stop_at_the_list_limit(world, cycle, client, settings):
    settings.RISK_REGISTRY_COUNT_LIMIT = 1
    client.force_login(world.holder2)
    assert todo.todo_counts(world.holder2).total > 1
    html = client.get("/inbox/").content.decode()
    assert _badge(html) == _total(html) == "1+"


def test_nothing_to_do_says_so_and_shows_no_badge(world, client):
    client.force_login(world.nobody)
    html = client.get("/inbox/").content.decode()
    assert _badge(html) == "" and 'data-testid="inbox-empty"' in html


def test_the_old_my_tasks_page_leads_to_the_one_inbox(world, client):
    client.force_login(world.holder)
    response = client.get("/tasks/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert client.post("/tasks/read/")["Location"] == "/inbox/#notifications"


def test_the_head_reaches_the_batch_review_from_the_inbox(world, client):
    client.force_login(world.head)
    html = client.get("/inbox/").content.decode()
    link = f"/registers/{world.a.code}/{world.submitted.year}/batch/review/?department={world.dept.pk}"
    assert 'data-testid="batch-links-review"' in html and link in html
    assert 'data-testid="count-to_review">1<' in html
    assert client.get(link).status_code == 200


def test_the_inbox_names_every_task_with_at_most_four_tables_joined(world, cycle, client):
    """A task's post, department, control and owner are read apart (``assessments.selectors.
    with_targets``): the task queries join the cycle, phase and institution only. With every
    relation joined, PostgreSQL spent 8 ms planning each of them for 0.3 ms of work."""
    deadline_scan(now=at("2026-04-24"))  # digests listing the tasks
    mine = list(Task.objects.filter(owner=world.holder2).select_related("position", "control"))
    assert {task.kind for task in mine} >= {Task.Kind.SELF_CHECK}
    client.force_login(world.holder2)
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/inbox/").content.decode()
    task_queries = [
        q["sql"] for q in captured.captured_queries if q["sql"].split(" FROM ", 1)[-1].startswith('"assessments_task"')
    ]
    assert task_queries and all(sql.count(" JOIN ") <= 3 for sql in task_queries)
    for task in mine:  # each named by its target, read apart
        if task.position is not None:
            assert task.position.title in html
        if task.control is not None:
            assert task.control.measure[:20] in html
