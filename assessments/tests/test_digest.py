"""One digest per recipient, stage and scan: a recipient with many due tasks gets one notification
listing them (at most ``RISK_REGISTRY_DIGEST_TASKS``, the count always whole), not one per task;
the per-task records (``TaskNotice``: which stage of which task went to whom, in which scan) keep
the scan exactly-once and the escalation right."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Notification, Task, TaskNotice
from assessments.scan import deadline_scan
from assessments.selectors import inbox_for, stage_label
from assessments.tests.conftest import at, more_self_checks

pytestmark = pytest.mark.django_db

D = datetime.date


def digests(ids) -> list[tuple[str, str, int, int]]:
    return sorted(
        (n.recipient.username, n.stage, n.task_count, len(n.task_ids))
        for n in Notification.objects.filter(pk__in=ids).select_related("recipient")
    )


def notices(cycle, stage: str) -> dict[int, list[int]]:
    return dict(TaskNotice.objects.filter(task__cycle=cycle, stage=stage).values_list("task_id", "recipients"))


def test_many_due_tasks_make_one_digest_per_recipient_and_stage_each_once(world, cycle, settings):
    settings.RISK_REGISTRY_DIGEST_TASKS = 10
    more_self_checks(world, cycle, 40)
    mine = set(Task.objects.filter(cycle=cycle, kind="self_check", owner=world.holder2).values_list("id", flat=True))
    assert len(mine) == 41

    first = deadline_scan(now=at("2026-04-24"))  # 7 days before 1 May (and 6 before 30 April)
    assert digests(first.created) == [("holder2", "remind", 41, 10)]
    digest = Notification.objects.get(pk__in=first.created)
    # the per-task records: every task, its exact stage, who was told
    sent = {**notices(cycle, "remind-7"), **notices(cycle, "remind-1")}
    assert set(sent) == mine and set(map(tuple, sent.values())) == {(world.holder2.pk,)}
    assert set(TaskNotice.objects.filter(task__in=mine).values_list("scan_id", flat=True)) == {first.scan_id}
    # the listing: most urgent first (due 30 April before 1 May), then by id
    by_urgency = list(Task.objects.filter(pk__in=mine).order_by("due_on", "id").values_list("id", flat=True))
    assert digest.task_ids == by_urgency[:10]
    assert Task.objects.filter(pk__in=digest.task_ids[:4], due_on=D(2026, 4, 30)).count() == 4

    assert deadline_scan(now=at("2026-04-24", 15)).created == []  # the same day again: nothing new
    assert deadline_scan(now=at("2026-04-27")).created == []  # no nearer reminder yet for the 1 May tasks
    assert TaskNotice.objects.filter(task__in=mine).count() == 41

    overdue = deadline_scan(now=at("2026-05-02"))  # the owner and the department head, one digest each
    assert digests(overdue.created) == [("head", "supervise", 41, 10), ("holder2", "supervise", 41, 10)]
    assert set(map(tuple, notices(cycle, "supervise").values())) == {tuple(sorted([world.head.pk, world.holder2.pk]))}
    assert deadline_scan(now=at("2026-05-03")).created == []

    reported = deadline_scan(now=at("2026-05-08"))  # 30 April's are 8 days late, 1 May's 7: the discipline office
    assert digests(reported.created) == [("discipline", "report", 41, 10)]
    assert set(notices(cycle, "report")) == mine
    for day in ("2026-05-08", "2026-05-20"):
        assert deadline_scan(now=at(day)).created == []
    assert Notification.objects.filter(task_count__gt=0).count() == 4  # not 41 × 4


def test_the_digest_lists_everything_when_under_the_bound(world, cycle, settings):
    settings.RISK_REGISTRY_DIGEST_TASKS = 50
    more_self_checks(world, cycle, 5)
    created = deadline_scan(now=at("2026-05-02")).created
    assert digests(created) == [("head", "supervise", 6, 6), ("holder2", "supervise", 6, 6)]


def _values(params) -> int:
    values = params.values() if isinstance(params, dict) else params or ()
    return sum(len(value) if isinstance(value, list | tuple) else 1 for value in values)


def scan_traffic(day: str):
    """One scan as of ``day``: its result, and the statements and parameter values it sent."""
    sent = {"statements": 0, "values": 0}

    def count(execute, sql, params, many, context):
        sent["statements"] += 1
        sent["values"] += _values(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = deadline_scan(now=at(day))
    return result, (sent["statements"], sent["values"])


def test_the_task_records_and_digests_never_travel_through_python(world, cycle, settings):
    """No giant INSERT of parameters: the busiest day's 417,000 task records and 163,000 digests are
    written by SQL from the candidate tasks (``INSERT … SELECT``), so what a scan sends to the
    database does not grow with the number of tasks it records."""
    settings.RISK_REGISTRY_DIGEST_TASKS = 10
    one, few = scan_traffic("2026-05-02")  # holder2's one self-check, a day late
    assert digests(one.created) == [("head", "supervise", 1, 1), ("holder2", "supervise", 1, 1)]
    more_self_checks(world, cycle, 40, due_on=lambda _: D(2026, 5, 2))
    forty, many = scan_traffic("2026-05-03")  # forty more, a day late: one digest each, ten listed
    assert digests(forty.created) == [("head", "supervise", 40, 10), ("holder2", "supervise", 40, 10)]
    assert TaskNotice.objects.filter(scan_id=forty.scan_id).count() == forty.task_notices == 40
    assert many == few, f"{few} (statements, values) for one task, {many} for forty"


def test_inbox_and_notification_page_show_the_digest_with_links(world, cycle, client, settings):
    settings.RISK_REGISTRY_DIGEST_TASKS = 10
    more_self_checks(world, cycle, 40)
    deadline_scan(now=at("2026-04-24"))
    digest = Notification.objects.get(recipient=world.holder2)
    client.force_login(world.holder2)
    inbox = client.get("/inbox/").content.decode()
    assert "41项任务临近截止" in inbox
    assert f'href="/notifications/{digest.pk}/"' in inbox
    first = Task.objects.select_related("position").get(pk=digest.task_ids[0])
    assert f'href="/positions/{first.position_id}/"' in inbox and first.position.title in inbox

    page = client.get(f"/notifications/{digest.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for task in Task.objects.filter(pk__in=digest.task_ids):  # each listed task, a link to where its work is done
        assert f'href="/positions/{task.position_id}/"' in html
    # what each line says is computed when it is shown: the real due date and the days as of today
    assert stage_label("remind", due_on=first.due_on, today=timezone.localdate()) in html
    assert "2026年4月30日" in html and "2026年5月1日" in html
    assert "另有31项未列出" in html
    assert Notification.objects.get(pk=digest.pk).read_at is None  # a GET writes nothing


def test_a_digest_is_its_recipients_alone(world, cycle, client):
    more_self_checks(world, cycle, 3)
    deadline_scan(now=at("2026-04-24"))
    digest = Notification.objects.get(recipient=world.holder2)
    for other in (world.head, world.discipline, world.holder):
        client.force_login(other)
        assert client.get(f"/notifications/{digest.pk}/").status_code == 404
    client.force_login(world.holder2)
    assert client.get("/notifications/999999/").status_code == 404


def test_the_inbox_reads_digests_in_a_fixed_number_of_queries(world, cycle, django_assert_max_num_queries):
    deadline_scan(now=at("2026-05-02"))
    with CaptureQueriesContext(connection) as few:
        inbox_for(user=world.head, today=D(2026, 5, 2))
    more_self_checks(world, cycle, 30)
    deadline_scan(now=at("2026-05-09"))  # report to discipline, and supervise digests again for the new ones
    with django_assert_max_num_queries(len(few)):
        inbox = inbox_for(user=world.head, today=D(2026, 5, 9))
    assert [n.task_count for n in inbox.notifications] == [30, 1]


def test_one_e_mail_per_digest_listing_its_tasks(world, cycle, settings):
    settings.RISK_REGISTRY_DIGEST_TASKS = 5
    world.holder2.email = "holder2@example.gov"
    world.holder2.save()
    more_self_checks(world, cycle, 8)
    call_command("run_deadline_scan", "--now", "2026-04-24T09:00")
    call_command("run_deadline_scan", "--now", "2026-04-24T10:00")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["holder2@example.gov"] and "9项任务临近截止" in message.subject
    digest = Notification.objects.get(recipient=world.holder2)
    for task in Task.objects.filter(pk__in=digest.task_ids):
        assert f"/positions/{task.position_id}/" in message.body
    assert "另有4项未列出" in message.body
    assert f"/notifications/{digest.pk}/" in message.body
