"""Concurrent deadline scans on PostgreSQL never send a notification twice: two `manage.py
run_deadline_scan` processes at once, and eight scans in threads started by a barrier. A task
deleted while a scan records it leaves no record behind, whichever goes first (the records' task
key is no database constraint: docs/cycle.md, "The records' keys")."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from assessments import services
from assessments.models import Notification, Task, TaskNotice
from assessments.scan import deadline_scan
from assessments.tests.conftest import at
from integrity_warnings.deadlines import NAME
from positions.models import Position
from positions.services import holding_start
from risk_registry.models import RiskPoint, RiskPointState
from tests.warnings_helpers import inspection_item, issue

BASE_DIR = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def grow(world, count: int) -> None:
    """``count`` more positions of 审批科, each with a holder who has not self-checked yet."""
    positions = Position.objects.bulk_create(
        Position(institution=world.a, department=world.dept, title=f"并发岗{i}") for i in range(count)
    )
    for position in positions:
        holding_start(user=world.holder2, position=position, started_on=datetime.date(2026, 1, 1))


@pytest.fixture
def busy_cycle(transactional_db, world, monkeypatch):
    monkeypatch.setattr(services, "enqueue_on_commit", lambda *args: None)  # generated below, not by a worker
    RiskPoint.objects.filter(pk=world.draft.pk).update(state=RiskPointState.SUBMITTED)  # holder's self-check is in
    for user in (world.holder2, world.head, world.discipline):
        user.email = f"{user.username}@example.gov"
        user.save()
    grow(world, 150)
    cycle = services.cycle_launch(by=world.discipline, institution=world.a, year=2026, today=datetime.date(2026, 1, 15))
    services.cycle_generate_tasks(cycle_id=cycle.pk)
    return world, cycle


def _waiting_for_a_lock(seconds: float = 10) -> bool:
    """Whether another connection of the test database waits for a lock, within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def _race(first, then) -> tuple[list[Exception], bool]:
    """Run ``first`` in a transaction kept open until ``then``, started in another thread once
    ``first`` has run, waits for one of its locks (or 10 s passed); return the errors of both and
    whether ``then`` waited."""
    ran, done, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                first()
                ran.set()
                done.wait(timeout=30)
        except Exception as error:  # reported by the caller's assertion
            errors.append(error)
        finally:
            ran.set()
            connection.close()

    def follow() -> None:
        try:
            ran.wait(timeout=30)
            then()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=follow)]
    for thread in threads:
        thread.start()
    ran.wait(timeout=30)
    waited = _waiting_for_a_lock()
    done.set()
    for thread in threads:
        thread.join(timeout=60)
    return errors, waited


def _overdue_checks(world, cycle):
    return Task.objects.filter(cycle=cycle, kind=Task.Kind.SELF_CHECK, owner=world.holder2)


def test_a_task_deleted_while_a_scan_records_it_takes_the_record(busy_cycle):
    """The scan locks the tasks it reads (what a foreign key's check would lock at commit): the
    delete waits for the scan, then removes the task and, by the trigger, what the scan recorded."""
    world, cycle = busy_cycle
    mine = _overdue_checks(world, cycle).earliest("pk")
    errors, waited = _race(
        lambda: deadline_scan(now=at("2026-05-02")), lambda: Task.objects.filter(pk=mine.pk).delete()
    )
    assert errors == []
    assert not Task.objects.filter(pk=mine.pk).exists()
    assert not TaskNotice.objects.filter(task_id=mine.pk).exists()
    assert waited, "the delete waited for the scan's lock on the task"
    assert TaskNotice.objects.filter(task__cycle=cycle, stage="supervise").count() == 150  # the others'


def test_a_scan_reading_a_task_being_deleted_records_nothing_of_it(busy_cycle):
    """The other order: the scan waits for the delete, then leaves the task out."""
    world, cycle = busy_cycle
    mine = _overdue_checks(world, cycle).earliest("pk")
    errors, waited = _race(
        lambda: Task.objects.filter(pk=mine.pk).delete(), lambda: deadline_scan(now=at("2026-05-02"))
    )
    assert errors == []
    assert not TaskNotice.objects.filter(task_id=mine.pk).exists()
    assert waited, "the scan waited for the delete"
    assert TaskNotice.objects.filter(task__cycle=cycle, stage="supervise").count() == 150
    assert list(
        Notification.objects.values_list("recipient__username", "task_count").order_by("recipient__username")
    ) == [
        ("head", 150),
        ("holder2", 150),
    ]


def test_a_recipient_deleted_while_a_scan_writes_to_them_takes_the_digest(busy_cycle):
    """The scan locks the recipients it writes to: the user's delete waits, then removes the
    digest the scan wrote (the trigger); the other order leaves them out."""
    world, _cycle = busy_cycle
    head, holder2 = world.head.pk, world.holder2.pk
    errors, waited = _race(lambda: deadline_scan(now=at("2026-05-02")), world.head.delete)
    assert errors == []
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [holder2]  # none of head's
    assert not get_user_model().objects.filter(pk=head).exists()
    assert waited, "the user's delete waited for the scan's lock"


def test_a_scan_writing_to_a_user_being_deleted_leaves_them_out(busy_cycle):
    world, _cycle = busy_cycle
    holder2 = world.holder2.pk
    errors, waited = _race(world.head.delete, lambda: deadline_scan(now=at("2026-05-02")))
    assert errors == []
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [holder2]
    assert waited, "the scan waited for the user's delete"


def run_scan_process(now: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_deadline_scan", "--now", now],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_scanning_at_once_send_each_notification_once(busy_cycle):
    world, cycle = busy_cycle
    open_checks = Task.objects.filter(cycle=cycle, kind=Task.Kind.SELF_CHECK, owner=world.holder2).count()
    assert open_checks == 151
    first, second = run_scan_process("2026-05-02T09:00"), run_scan_process("2026-05-02T09:00")
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    for process, (_out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
    lines = [line for out, _ in outputs for line in out.splitlines() if "→" in line]
    # overdue: each task's supervise stage recorded once, told to holder2 and the department head ...
    records = TaskNotice.objects.filter(task__cycle=cycle, stage="supervise")
    assert records.count() == 151
    both = tuple(sorted([world.head.pk, world.holder2.pk]))
    assert {tuple(r) for r in records.values_list("recipients", flat=True)} == {both}
    # ... in one digest each, of the 151 tasks, written and e-mailed by exactly one of the processes
    digests = Notification.objects.filter(scan__isnull=False)
    assert sorted(digests.values_list("recipient__username", "stage", "task_count")) == [
        ("head", "supervise", 151),
        ("holder2", "supervise", 151),
    ]
    assert len(lines) == 2 and len(set(lines)) == 2, "each digest is printed (sent) by exactly one process"
    statuses = set(Notification.objects.values_list("email_status", flat=True))
    assert statuses == {Notification.Email.SENT}


def test_eight_concurrent_scans_in_threads_insert_each_notification_once(busy_cycle):
    _world, cycle = busy_cycle
    runners = 8
    barrier = threading.Barrier(runners)
    created, errors = [], []

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            created.append(len(deadline_scan(now=at("2026-04-24")).created))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(created) == 1  # one digest for holder2, by one of the eight
    assert TaskNotice.objects.filter(task__cycle=cycle, stage="remind-7").count() == 151
    assert list(Notification.objects.values_list("recipient__username", "stage", "task_count")) == [
        ("holder2", "remind", 151)
    ]


def test_two_processes_scanning_at_once_send_each_warning_notice_once(transactional_db, world):
    """The warning ledger's deadlines ride the same scan: two processes at once, each notice and
    escalation inserted and e-mailed by exactly one of them."""
    for user in (world.holder, world.head, world.discipline):
        user.email = f"{user.username}@example.gov"
        user.save()
    notices = [issue(world, inspection_item(world)) for _ in range(20)]
    first, second = run_scan_process("2026-03-12T09:00"), run_scan_process("2026-03-12T09:00")
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    for process, (_out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
    lines = [line for out, _ in outputs for line in out.splitlines() if "→" in line]
    expected = 4 * len(notices)  # holder: the notice and supervise; head: supervise; discipline: report
    assert Notification.objects.filter(source=NAME).count() == expected
    assert len(lines) == expected and len(set(lines)) == expected
    assert set(Notification.objects.values_list("email_status", flat=True)) == {Notification.Email.SENT}
    assert len(mail_lines := [line for line in lines if "✉" in line]) == expected, mail_lines
