"""Celery against the real stack: a worker process, Redis as the broker and the PostgreSQL test database."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from config.celery import app
from risk_registry.organisation.models import SchedulerHeartbeat
from risk_registry.organisation.tasks import HEARTBEAT_NAME, scheduler_heartbeat

pytestmark = pytest.mark.integration

BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"
TIMEOUT = 60.0
POLL = 0.05  # seconds between two looks at the condition; the database answers in a millisecond


def wait_for(predicate, what: str, timeout: float = TIMEOUT, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}) before {what}:\n{worker.log()}")
        time.sleep(POLL)
    pytest.fail(f"no {what} within {timeout:.0f} s" + (f":\n{worker.log()}" if worker else ""))


def heartbeat_runs(name: str = HEARTBEAT_NAME) -> int | None:
    return SchedulerHeartbeat.objects.filter(name=name).values_list("runs", flat=True).first()


def purge_and_delete(queue: str) -> None:
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_purge(queue)
        channel.queue_delete(queue)


def own_queue(monkeypatch, task_name: str, prefix: str) -> str:
    """A queue of the test's own for the task ``task_name``: only the test's worker reads it."""
    name = f"{prefix}-{uuid.uuid4().hex}"
    task = app.tasks[task_name]
    monkeypatch.setattr(task, "queue", name, raising=False)
    monkeypatch.setattr(task, "_exec_options", None)  # Celery caches the options of a task's sends
    return name


class Worker:
    """A real `celery worker` process consuming one queue of its own, on the test database. ``pool``
    ``prefork`` runs tasks in a child process (as production does), ``solo`` in the worker itself."""

    def __init__(self, queue: str, log_path: Path, pool: str = "solo") -> None:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": settings.CELERY_BROKER_URL,
        }
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
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
            self.process.terminate()  # SIGTERM: warm shutdown, the connections to the test database close
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_against_the_test_database(tmp_path):
    queue = f"test-heartbeat-{uuid.uuid4().hex}"
    SchedulerHeartbeat.objects.filter(name=HEARTBEAT_NAME).delete()
    worker = Worker(queue, tmp_path / "worker.log")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)

        scheduler_heartbeat.apply_async(queue=queue)
        wait_for(lambda: heartbeat_runs() == 1, "first heartbeat", worker=worker)
        first = SchedulerHeartbeat.objects.get(name=HEARTBEAT_NAME).last_run_at

        scheduler_heartbeat.apply_async(queue=queue)
        scheduler_heartbeat.apply_async(queue=queue)
        wait_for(lambda: heartbeat_runs() == 3, "third heartbeat", worker=worker)
        assert SchedulerHeartbeat.objects.get(name=HEARTBEAT_NAME).last_run_at >= first
        assert SchedulerHeartbeat.objects.filter(name=HEARTBEAT_NAME).count() == 1
    finally:
        worker.stop()
        purge_and_delete(queue)


@pytest.mark.django_db(transaction=True)
def test_concurrent_heartbeats_are_all_counted_on_one_row():
    name = f"race-{uuid.uuid4().hex[:16]}"
    runners = 8
    barrier = threading.Barrier(runners)
    errors = []

    def beat() -> None:
        try:
            barrier.wait(timeout=10)
            scheduler_heartbeat.run(name=name)  # the task body, in this thread's own connection
        except Exception as error:  # reported by the assertion below, with the thread's error
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert heartbeat_runs(name) == runners
    assert SchedulerHeartbeat.objects.filter(name=name).count() == 1


def test_the_broker_carries_a_message_through_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    queue = f"test-broker-{uuid.uuid4().hex}"
    with Connection(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=3)
        simple = conn.SimpleQueue(queue)
        try:
            simple.put({"hello": "世界"})
            message = simple.get(block=True, timeout=10)
            assert message.payload == {"hello": "世界"}
            message.ack()
        finally:
            simple.clear()
            simple.queue.delete()
            simple.close()
