"""Export jobs under faults, with REAL worker processes on Redis and the pytest PostgreSQL database
(issue 10, "Background work never strands"): the pool process killed with SIGKILL in the middle of
a PDF, the whole worker killed, the broker unreachable when the export is asked for."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from celery import current_app
from django.urls import reverse

from risk_registry.documents import rendering, services, tasks
from risk_registry.documents.models import ExportJob
from risk_registry.models import RiskPoint, RiskPointState
from tests.test_celery_integration import Worker, purge_and_delete, wait_for
from tests.test_deadline_scan_celery import broker_at, closed_port_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

State = ExportJob.State
# A working copy of the year: the submitted points are in it (the official form holds approved ones only).
REGISTER = {"institution": ["bureau-a"], "year": ["2026"], "copy": ["working"]}
POINTS = 60  # a PDF WeasyPrint lays out for a few seconds: time to kill it in the middle


def many_points(world, count: int = POINTS) -> None:
    """Bureau A's register grows by ``count`` submitted points (copies of one, each its own text)."""
    model = RiskPoint.objects.get(pk=world.submitted.pk)
    fields = {f.attname: getattr(model, f.attname) for f in RiskPoint._meta.concrete_fields if not f.primary_key}
    RiskPoint.objects.bulk_create(
        RiskPoint(**{**fields, "description": f"违规简化审批程序 {number}"}) for number in range(count)
    )
    assert model.state == RiskPointState.SUBMITTED


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own: the export task is sent there, and only the test's worker reads it.
    Every export runs in the background, however small."""
    monkeypatch.setitem(rendering.SYNC_LIMITS, "pdf", 1)
    monkeypatch.setitem(rendering.SYNC_LIMITS, "xlsx", 1)
    name = f"test-exports-{uuid.uuid4().hex}"
    task = current_app.tasks[tasks.export_job_run.name]
    monkeypatch.setattr(task, "queue", name, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)  # Celery caches the options of a task's sends
    yield name
    purge_and_delete(name)


def job_of(world) -> ExportJob:
    return ExportJob.objects.get(owner=world.discipline)


def finished_whole(job: ExportJob) -> None:
    assert job.state == State.DONE, job.error
    assert job.done == job.total > POINTS and job.phase == ""
    assert os.path.getsize(job.file_path) == job.size > 0
    assert not list(rendering.export_dir().glob(f"{job.token}.*.part"))


def test_kill_9_of_the_pool_process_during_a_pdf_the_job_completes_after_the_restart(world, queue, tmp_path):
    many_points(world)
    worker = Worker(queue, tmp_path / "worker.log", pool="prefork")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)
        job = services.export_start(
            user=world.discipline, kind="list", form_code="overview", fmt="pdf", params=REGISTER
        ).job
        wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, phase=ExportJob.Phase.LAYOUT).exists(),
            "the PDF being laid out",
            worker=worker,
        )
        job.refresh_from_db()
        pool_pid = int(job.holder.rsplit(":", 1)[1])
        assert pool_pid != worker.process.pid  # the pool's child, not the worker itself
        os.kill(pool_pid, signal.SIGKILL)  # what the OOM killer does to a large PDF

        wait_for(lambda: job_of(world).is_finished, "the export finished after the kill", worker=worker)
        job.refresh_from_db()
        finished_whole(job)
        assert job.attempts == 2 and not job.holder.endswith(f":{pool_pid}")
        assert "WorkerLostError" in worker.log() or "SIGKILL" in worker.log()
    finally:
        worker.stop()


def test_kill_9_of_the_whole_worker_the_sweep_sends_the_job_again_and_a_new_worker_completes_it(world, queue, tmp_path):
    many_points(world)
    worker = Worker(queue, tmp_path / "first.log", pool="solo")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)
        job = services.export_start(
            user=world.discipline, kind="list", form_code="overview", fmt="pdf", params=REGISTER
        ).job
        wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, phase=ExportJob.Phase.LAYOUT).exists(),
            "the PDF being laid out",
            worker=worker,
        )
        os.kill(worker.process.pid, signal.SIGKILL)  # its message stays unacknowledged in Redis
        worker.process.wait(timeout=10)
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.state == State.RUNNING  # stranded: only the visibility timeout (15 min) would resend it

    started = time.monotonic()
    result = services.export_jobs_sweep()  # what beat runs every minute
    job.refresh_from_db()
    assert result.requeued == 1 and job.state == State.PENDING and job.holder == ""
    assert not list(rendering.export_dir().glob(f"{job.token}.*.part"))  # the killed attempt's file is gone

    again = Worker(queue, tmp_path / "second.log", pool="solo")
    try:
        wait_for(lambda: job_of(world).is_finished, "the export finished by the new worker", worker=again)
    finally:
        again.stop()
    job.refresh_from_db()
    finished_whole(job)
    assert job.attempts == 2 and time.monotonic() - started < 60


def test_broker_down_the_export_answers_and_runs_when_the_broker_is_back(world, queue, tmp_path, login, monkeypatch):
    client = login(world.discipline)
    with broker_at(closed_port_url()):
        response = client.get(reverse("documents_export"), {"form": "overview", "format": "xlsx", **REGISTER})
        assert response.status_code == 302
        assert client.get(response.url).status_code == 200
        assert client.get(reverse("documents_home")).status_code == 200
    job = job_of(world)
    assert job.state == State.PENDING and job.queued_at is None

    worker = Worker(queue, tmp_path / "worker.log", pool="solo")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)
        assert services.export_jobs_sweep().requeued == 1  # the broker is back: beat's next sweep
        wait_for(lambda: job_of(world).is_finished, "the export run after the broker came back", worker=worker)
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.state == State.DONE and job.done == job.total and job.attempts == 1
    download = client.get(reverse("documents_job_download", args=[job.token]))
    assert download.status_code == 200
