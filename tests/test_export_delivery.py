"""Export jobs never strand (issue 10): the claim, the heartbeat, the sweep, PDF phases, done ≤ total,
an unreachable broker and the job page's word on silent workers. In-process; the real worker and
kill -9 are in tests/test_export_faults.py."""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.services import broker_settings
from risk_registry.documents import rendering, services
from risk_registry.documents.models import ExportJob
from risk_registry.organisation.models import SchedulerHeartbeat
from risk_registry.organisation.tasks import HEARTBEAT_NAME
from risk_registry.tests.documents_helpers import enrich_register
from tests.test_deadline_scan_celery import broker_at, closed_port_url

State = ExportJob.State
pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    """A process id of this machine that no process has (the largest ones are never handed out soon)."""
    pid = 4_194_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def a_job(world, **fields) -> ExportJob:
    values = {
        "owner": world.discipline,
        "institution": world.a,
        "form": "overview",
        "file_format": "xlsx",
        "params": {"institution": ["bureau-a"], "year": ["2026"]},
        "total": 3,
        "queued_at": timezone.now(),
        **fields,
    }
    return ExportJob.objects.create(**values)


@pytest.fixture
def sent(monkeypatch):
    """The job ids sent to the broker (the task's apply_async, as config.queue calls it)."""
    calls: list[int] = []
    from risk_registry.documents import tasks

    monkeypatch.setattr(tasks.export_job_run, "apply_async", lambda args, **options: calls.append(args[0]))
    return calls


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The sweep, with what it sends after its commit sent (a plain db test never commits)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return services.export_jobs_sweep()

    return run


# --- the claim --------------------------------------------------------------------------------


def test_a_claim_records_holder_heartbeat_and_attempt(world):
    job = a_job(world)
    claimed = services.export_job_claim(job.pk)
    job.refresh_from_db()
    assert claimed is not None and job.state == State.RUNNING
    assert job.holder == f"{socket.gethostname()}:{os.getpid()}" and job.attempts == 1
    assert job.heartbeat_at is not None and job.started_at is not None


def test_a_job_held_by_a_live_process_elsewhere_is_left_alone(world):
    now = timezone.now()
    job = a_job(world, state=State.RUNNING, holder="other-host:12", heartbeat_at=now, attempts=1)
    assert services.export_job_claim(job.pk) is None
    job.refresh_from_db()
    assert (job.state, job.holder, job.attempts) == (State.RUNNING, "other-host:12", 1)


def test_a_job_of_a_killed_process_of_this_machine_is_taken_over_at_once(world):
    holder = f"{socket.gethostname()}:{dead_pid()}"
    job = a_job(world, state=State.RUNNING, holder=holder, heartbeat_at=timezone.now(), attempts=1)
    leftover = rendering.export_dir() / f"{job.token}.abc123.part"
    leftover.write_bytes(b"half a workbook")
    assert services.export_job_claim(job.pk) is not None
    job.refresh_from_db()
    assert job.holder != holder and job.attempts == 2
    assert not leftover.exists()  # what the killed attempt was writing


def test_a_job_whose_holder_stopped_beating_is_taken_over(world):
    stale = timezone.now() - timedelta(minutes=10)
    job = a_job(world, state=State.RUNNING, holder="other-host:12", heartbeat_at=stale, attempts=1)
    assert services.export_job_claim(job.pk) is not None
    job.refresh_from_db()
    assert job.attempts == 2 and job.holder.endswith(f":{os.getpid()}")


def test_a_job_interrupted_too_often_fails_with_a_chinese_message(world, settings):
    holder = f"{socket.gethostname()}:{dead_pid()}"
    job = a_job(world, state=State.RUNNING, holder=holder, heartbeat_at=timezone.now(), attempts=3)
    assert services.export_job_claim(job.pk) is None
    job.refresh_from_db()
    assert job.state == State.FAILED and job.finished_at is not None
    assert "3 次" in job.error and "Excel" in job.error


def test_finished_jobs_are_never_claimed(world):
    for state in (State.DONE, State.FAILED):
        job = a_job(world, state=state, done=3)
        assert services.export_job_claim(job.pk) is None
        job.refresh_from_db()
        assert job.state == state and job.attempts == 0


# --- running --------------------------------------------------------------------------------


def test_a_pdf_job_reports_its_phases_and_ends_with_done_equal_total(world, monkeypatch):
    enrich_register(world)
    job = a_job(world, file_format="pdf")
    seen = []
    original = services.render

    def render(*args, phase=None, **kwargs):
        def record(name):
            phase(name)
            seen.append(ExportJob.objects.values_list("phase", flat=True).get(pk=job.pk))

        return original(*args, phase=record, **kwargs)

    monkeypatch.setattr(services, "render", render)
    services.export_job_run(job.pk)
    job.refresh_from_db()
    assert seen == ["rows", "layout", "writing"]
    assert job.state == State.DONE and job.phase == "" and job.done == job.total == 3
    assert not list(rendering.export_dir().glob(f"{job.token}.*.part"))


def test_a_job_page_shows_the_pdf_step(world, login):
    job = a_job(world, file_format="pdf", state=State.RUNNING, phase=ExportJob.Phase.LAYOUT)
    page = login(world.discipline).get(reverse("documents_job", args=[job.token])).content.decode()
    assert "第 2 步(共 3 步):排版" in page and 'data-percent="30"' in page


def test_points_added_after_the_request_keep_done_within_total(world):
    enrich_register(world)
    job = a_job(world, total=1)  # counted when asked; three points when it runs
    services.export_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == State.DONE and job.done == job.total == 3


def test_the_database_refuses_done_above_total(world):
    job = a_job(world, total=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(done=4)


def test_an_error_while_rendering_leaves_no_part_file_and_the_job_waiting(world, monkeypatch):
    job = a_job(world)

    def broken(out, **kwargs):
        with open(out, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(services, "render", broken)
    with pytest.raises(OSError):
        services.export_job_run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.holder, job.attempts) == (State.PENDING, "", 1)
    assert not list(rendering.export_dir().glob(f"{job.token}.*"))


def test_the_task_fails_the_job_when_it_runs_past_its_time_limit(world, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from risk_registry.documents.tasks import export_job_run

    job = a_job(world)
    monkeypatch.setattr(services, "render", lambda *args, **kwargs: (_ for _ in ()).throw(SoftTimeLimitExceeded()))
    assert export_job_run.apply(args=[job.pk]).failed()
    job.refresh_from_db()
    assert job.state == State.FAILED and "10 分钟" in job.error


# --- the sweep --------------------------------------------------------------------------------


def test_the_sweep_sends_again_a_job_whose_worker_died(world, sent, sweep):
    stale = timezone.now() - timedelta(minutes=5)
    job = a_job(world, state=State.RUNNING, holder="gone-host:7", heartbeat_at=stale, attempts=1, done=2)
    result = sweep()
    job.refresh_from_db()
    assert job.state == State.PENDING and job.holder == "" and job.queued_at is not None
    assert sent == [job.pk] and result.requeued == 1


def test_the_sweep_fails_a_job_interrupted_too_often(world, sent, sweep):
    stale = timezone.now() - timedelta(minutes=5)
    job = a_job(world, state=State.RUNNING, holder="gone-host:7", heartbeat_at=stale, attempts=3)
    assert sweep().failed == 1
    job.refresh_from_db()
    assert job.state == State.FAILED and "3 次" in job.error and sent == []


def test_the_sweep_leaves_a_live_job_and_a_freshly_sent_one_alone(world, sent, sweep):
    now = timezone.now()
    running = a_job(world, state=State.RUNNING, holder="other-host:12", heartbeat_at=now, attempts=1)
    waiting = a_job(world, queued_at=now - timedelta(minutes=1))
    sweep()
    running.refresh_from_db()
    waiting.refresh_from_db()
    assert running.state == State.RUNNING and waiting.state == State.PENDING and sent == []


def test_the_sweep_sends_unsent_and_long_waiting_jobs(world, sent, sweep):
    unsent = a_job(world, queued_at=None)  # the broker was down when it was asked for
    lost = a_job(world, queued_at=timezone.now() - timedelta(minutes=30))  # a wiped queue
    sweep()
    assert sorted(sent) == sorted([unsent.pk, lost.pk])
    assert ExportJob.objects.filter(pk__in=sent, queued_at__isnull=False, state=State.PENDING).count() == 2
    sweep()
    assert len(sent) == 2  # sent again only after REQUEUE_MINUTES


def test_the_sweep_gives_up_on_a_job_waiting_for_hours(world, sent, sweep):
    job = a_job(world, queued_at=None)
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=7))
    sweep()
    job.refresh_from_db()
    assert job.state == State.FAILED and "6 小时" in job.error and sent == []


def test_the_sweep_removes_part_files_no_live_job_writes(world, sent, sweep):
    now = timezone.now()
    live = a_job(world, state=State.RUNNING, holder="other-host:12", heartbeat_at=now, attempts=1)
    dead = a_job(world, state=State.RUNNING, holder="other-host:13", heartbeat_at=now - timedelta(hours=1))
    failed = a_job(world, state=State.FAILED)
    kept = rendering.export_dir() / f"{live.token}.x1.part"
    removed = [
        rendering.export_dir() / name for name in (f"{dead.token}.x2.part", f"{failed.token}.x3.part", "x.x4.part")
    ]
    for path in (kept, *removed):
        path.write_bytes(b"part")
    try:
        assert sweep().parts_removed == 3
        assert kept.exists() and not any(path.exists() for path in removed)
    finally:
        kept.unlink(missing_ok=True)


# --- the broker down, the job page ----------------------------------------------------------


def test_an_export_with_the_broker_down_answers_quickly_and_waits_for_the_sweep(
    world, login, monkeypatch, django_capture_on_commit_callbacks
):
    enrich_register(world)
    monkeypatch.setitem(rendering.SYNC_LIMITS, "xlsx", 1)
    client = login(world.discipline)
    started = time.monotonic()
    with broker_at(closed_port_url()), django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            reverse("documents_export"), {"form": "overview", "format": "xlsx", "institution": "bureau-a"}
        )
        page = client.get(response.url)
    assert time.monotonic() - started < 5
    job = ExportJob.objects.get(owner=world.discipline)
    assert response.status_code == 302 and response.url == reverse("documents_job", args=[job.token])
    assert job.state == State.PENDING and job.queued_at is None  # unsent: the next sweep sends it
    assert page.status_code == 200 and 'data-testid="workers-silent"' in page.content.decode()


def test_the_job_page_says_when_no_worker_is_alive(world, login):
    job = a_job(world)
    client = login(world.discipline)
    url = reverse("documents_job", args=[job.token])
    SchedulerHeartbeat.objects.filter(name=HEARTBEAT_NAME).delete()
    assert "后台工作进程" in client.get(url).content.decode()

    SchedulerHeartbeat.objects.create(name=HEARTBEAT_NAME, last_run_at=timezone.now(), runs=1)
    assert 'data-testid="workers-silent"' not in client.get(url).content.decode()

    SchedulerHeartbeat.objects.filter(name=HEARTBEAT_NAME).update(last_run_at=timezone.now() - timedelta(minutes=4))
    assert 'data-testid="workers-silent"' in client.get(url, headers={"HX-Request": "true"}).content.decode()

    ExportJob.objects.filter(pk=job.pk).update(state=State.FAILED)
    assert 'data-testid="workers-silent"' not in client.get(url).content.decode()


def test_a_finished_export_whose_file_was_not_restored_says_to_export_again(world, login):
    job = a_job(world, state=State.DONE, done=3, file_path=str(rendering.export_dir() / "gone.xlsx"), filename="x.xlsx")
    page = login(world.discipline).get(reverse("documents_job", args=[job.token])).content.decode()
    assert 'data-testid="job-file-gone"' in page and "重新导出" in page
    assert 'data-testid="job-download"' not in page


def test_redis_fails_fast_and_redelivers_only_after_every_export_has_stopped(settings, tmp_path):
    options = broker_settings("redis://127.0.0.1:6379/0", str(tmp_path)).transport_options
    assert options["max_retries"] == 0 and options["socket_connect_timeout"] <= 1
    limit = settings.RISK_REGISTRY_EXPORT_TIME_LIMIT_SECONDS + 60  # the hard time limit of the task
    assert options["visibility_timeout"] > limit
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert (
        settings.CELERY_BEAT_SCHEDULE["export-jobs-sweep"]["task"] == "risk_registry.documents.tasks.export_jobs_sweep"
    )


def test_the_sweep_costs_the_same_queries_for_many_jobs_as_for_few(world, sent, sweep, monkeypatch, tmp_path):
    # A folder of its own: another xdist worker's export writing a .part file in var/exports must
    # not add the leftover check's query to one of the two runs.
    monkeypatch.setattr(services, "export_dir", lambda: tmp_path)

    def stranded(count: int) -> int:
        (tmp_path / f"{uuid.uuid4()}.pdf.part").write_bytes(b"")
        stale = timezone.now() - timedelta(minutes=5)
        for number in range(count):
            a_job(world, state=State.RUNNING, holder=f"gone:{number}", heartbeat_at=stale, attempts=1)
            a_job(world, state=State.RUNNING, holder=f"gone:{number}", heartbeat_at=stale, attempts=3)
            a_job(world, queued_at=None)
        with CaptureQueriesContext(connection) as queries:
            sweep()
        return len(queries)

    assert stranded(2) == stranded(8)
