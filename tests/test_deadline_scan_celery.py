"""The deadline scan on the real stack: a Celery worker AND a Celery beat (real processes) on the
real Redis and the pytest PostgreSQL database. A due task produces exactly one notification
however often beat fires the scan; when Redis is unreachable the pages keep working, and when it
is back the missed reminder goes out once (the nearest stage only) and the lost generation of a
cycle launched meanwhile is caught up."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from kombu import pools

from assessments import services
from assessments.models import Cycle, Notification, ScanRun, Task, TaskNotice
from config.celery import app
from integrity_warnings.deadlines import NAME
from integrity_warnings.models import Disposition
from tests.test_celery_integration import purge_and_delete, wait_for
from tests.warnings_helpers import inspection_item, issue

pytestmark = pytest.mark.integration

BASE_DIR = Path(__file__).resolve().parent.parent


def closed_port_url() -> str:
    """A Redis URL on a port that nothing listens on: Redis "down" without stopping it.

    The port is one the kernel just handed out and took back, so no fixed number can collide with a
    server that happens to listen there, or with the same test running on another xdist worker.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def refusals(process) -> int:
    return process.log().lower().count("connection refused")


# A real `celery worker` or `celery beat` for this app, routed to a queue of the test's own, with
# the deadline scan every second (production: every five minutes, CELERY_BEAT_SCHEDULE).
LAUNCHER = """
import sys
from config.celery import app
mode, queue, schedule = sys.argv[1:4]
app.conf.task_default_queue = queue
app.conf.beat_schedule = {"deadline-scan": {"task": "assessments.tasks.deadline_scan", "schedule": 1.0}}
common = ["--loglevel=INFO"]
if mode == "beat":
    app.start(["beat", "--schedule", schedule, "--max-interval", "1", *common])
else:
    app.start(["worker", "--pool=solo", "-Q", queue, "-n", queue + "@%h", "--without-heartbeat",
               "--without-gossip", "--without-mingle", *common])
"""


class Process:
    def __init__(self, mode: str, queue: str, tmp: Path, broker_url: str) -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": broker_url,
        }
        self.log_path = tmp / f"{mode}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, mode, queue, str(tmp / f"beat-{uuid.uuid4().hex[:6]}")],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def worker_and_beat(queue: str, tmp: Path, broker_url: str):
    worker = Process("worker", queue, tmp, broker_url)
    beat = Process("beat", queue, tmp, broker_url)
    try:
        yield worker, beat
    finally:
        beat.stop()
        worker.stop()


@contextmanager
def broker_at(url: str):
    """Point this process's Celery app at ``url`` (pools dropped so the next send reconnects)."""

    def reset() -> None:
        # kombu keeps one pool per URL in a registry of its own: closing only the app's pool would
        # leave a closed pool there for the URL, and the next send to it would fail ("Acquire on
        # closed pool"). Close and forget them all.
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    before = app.conf.broker_url
    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = before
        reset()


@pytest.fixture
def due_tomorrow(transactional_db, world, monkeypatch):
    """Bureau A's cycle; holder2's self-check is due tomorrow, every other task months away."""
    world.holder2.email = "holder2@example.gov"
    world.holder2.save()
    monkeypatch.setattr(services, "enqueue_on_commit", lambda *args: None)
    cycle = services.cycle_launch(by=world.discipline, institution=world.a, year=2026, today=datetime.date(2026, 1, 15))
    monkeypatch.undo()
    services.cycle_generate_tasks(cycle_id=cycle.pk)
    today = timezone.localdate()
    Task.objects.filter(cycle=cycle).update(due_on=today + datetime.timedelta(days=120))
    task = Task.objects.get(cycle=cycle, kind=Task.Kind.SELF_CHECK, owner=world.holder2)
    Task.objects.filter(pk=task.pk).update(due_on=today + datetime.timedelta(days=1))
    return world, cycle, task


def notifications_of(task) -> list[tuple[str, str, str]]:
    """(recipient, the task's stage, e-mail) of the digests that list ``task``: the stage is the
    task's record of the digest's scan. One statement, so one snapshot: read in two, a scan the
    worker commits between them gave a digest whose record the first read had not seen."""
    stage = TaskNotice.objects.filter(task=task, scan_id=OuterRef("scan_id")).values("stage")[:1]
    return list(
        Notification.objects.filter(task_ids__contains=[task.pk])
        .annotate(task_stage=Subquery(stage))
        .values_list("recipient__username", "task_stage", "email_status")
    )


def test_worker_and_beat_on_redis_send_a_due_reminder_exactly_once(due_tomorrow, tmp_path):
    _world, _cycle, task = due_tomorrow
    queue = f"test-deadlines-{uuid.uuid4().hex}"
    with worker_and_beat(queue, tmp_path, settings.CELERY_BROKER_URL) as (worker, beat):
        wait_for(
            lambda: notifications_of(task) == [("holder2", "remind-1", "sent")], "reminder e-mailed", worker=worker
        )
        scans = ScanRun.objects.count()
        wait_for(lambda: ScanRun.objects.count() >= scans + 3, "three more scans", worker=worker)
        assert "deadline-scan" in beat.log()
    purge_and_delete(queue)
    assert notifications_of(task) == [("holder2", "remind-1", "sent")]
    assert Notification.objects.count() == 1


def test_redis_unreachable_pages_work_and_missed_reminders_go_out_once_after(due_tomorrow, tmp_path, client):
    world, cycle, task = due_tomorrow
    queue = f"test-deadlines-down-{uuid.uuid4().hex}"
    closed = closed_port_url()

    # Redis unreachable for the web process, the worker and beat alike.
    with broker_at(closed), worker_and_beat(queue, tmp_path, closed) as (worker, beat):
        client.force_login(world.discipline)
        for url in ("/cycles/", f"/cycles/{cycle.pk}/", "/inbox/", "/"):
            assert client.get(url).status_code == 200, url
        client.force_login(world.outsider)  # launching enqueues the generation: the broker refuses it
        # 2026's default deadlines are past by now: the launch is confirmed late (and gets a grace)
        response = client.post("/cycles/new/", launch_form(world.b.pk, 2026) | {"confirm_late": "on"})
        assert response.status_code == 302, response.content.decode()[:2000]
        launched = Cycle.objects.get(institution=world.b, year=2026)
        assert launched.tasks_generated_at is None
        client.force_login(world.holder)  # recording a control run needs no broker at all
        control = world.submitted.controls.get()
        assert (
            client.post(
                f"/controls/{control.pk}/runs/new/", {"ran_on": "2026-01-05", "description": "双人审核"}
            ).status_code
            == 302
        )
        # Beat fires every second, but nothing reaches a worker: wait until both have tried the closed
        # port twice (beat logs a refusal when it sends the due scan, the worker when it connects).
        wait_for(lambda: refusals(beat) >= 2 and refusals(worker) >= 2, "two refusals each", worker=worker)
        assert "refused" in (beat.log() + worker.log()).lower()  # both kept trying the closed port
    assert ScanRun.objects.count() == 0
    assert Notification.objects.count() == 0

    # Redis is back: the next scan sends the reminder once, and generates the launched cycle.
    with worker_and_beat(queue, tmp_path, settings.CELERY_BROKER_URL) as (worker, _beat):
        wait_for(
            lambda: notifications_of(task) == [("holder2", "remind-1", "sent")], "caught-up reminder", worker=worker
        )
        wait_for(
            lambda: Cycle.objects.get(pk=launched.pk).tasks_generated_at is not None, "lost generation", worker=worker
        )
        scans = ScanRun.objects.count()
        wait_for(lambda: ScanRun.objects.count() >= scans + 3, "three more scans", worker=worker)
    purge_and_delete(queue)
    assert notifications_of(task) == [("holder2", "remind-1", "sent")]  # not the missed 7-day one as well
    assert Task.objects.filter(cycle=launched).exists()


def launch_form(institution_id: int, year: int) -> dict:
    data = {
        "institution": institution_id,
        "year": year,
        "name": "",
        "reminder_days": "7, 1",
        "supervisor_after_days": 1,
        "discipline_after_days": 7,
    }
    for n, spec in enumerate(services.default_phases(year), start=1):
        data[f"phase_{n}_name"] = spec.name
        data[f"phase_{n}_starts_on"] = spec.starts_on.isoformat()
        data[f"phase_{n}_due_on"] = spec.due_on.isoformat()
    return data


def test_worker_and_beat_send_a_warning_notice_and_its_escalation_exactly_once(transactional_db, world, tmp_path):
    """The warning ledger's 限时回告 goes through the same scan: a notice issued today is e-mailed to
    its recipient once, and one whose deadline passed three days ago is escalated once each."""
    for user in (world.holder, world.head, world.discipline):
        user.email = f"{user.username}@example.gov"
        user.save()
    today = timezone.localdate()
    fresh = issue(world, inspection_item(world), today=today)
    late = issue(world, inspection_item(world, subject_user=world.holder2), recipient_name="李复核", today=today)
    Disposition.objects.filter(pk=late.pk).update(due_on=today - datetime.timedelta(days=3))

    def sent(notice) -> list[tuple[str, str, str]]:
        return sorted(
            Notification.objects.filter(source=NAME, object_id=notice.pk).values_list(
                "recipient__username", "stage", "email_status"
            )
        )

    expected_late = [
        ("discipline", "report", "sent"),
        ("head", "supervise", "sent"),
        ("holder2", "notice", "skipped"),  # holder2 has no address
        ("holder2", "supervise", "skipped"),
    ]
    queue = f"test-deadlines-warnings-{uuid.uuid4().hex}"
    with worker_and_beat(queue, tmp_path, settings.CELERY_BROKER_URL) as (worker, _beat):
        wait_for(
            lambda: sent(fresh) == [("holder", "notice", "sent")] and sent(late) == expected_late,
            "notice and escalation e-mailed",
            worker=worker,
        )
        scans = ScanRun.objects.count()
        wait_for(lambda: ScanRun.objects.count() >= scans + 3, "three more scans", worker=worker)
    purge_and_delete(queue)
    assert sent(fresh) == [("holder", "notice", "sent")]
    assert sent(late) == expected_late
