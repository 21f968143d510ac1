"""The scheduler heartbeat: shows that beat and a worker are alive."""

from celery import shared_task
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from risk_registry.organisation.models import SchedulerHeartbeat

HEARTBEAT_NAME = "scheduler-heartbeat"


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def scheduler_heartbeat(self, name: str = HEARTBEAT_NAME) -> None:
    """Count one run of ``name`` and stamp its time, atomically, whatever runs at the same moment.

    The counter is incremented by the database (``runs = runs + 1``), never read and written back.
    The row is created on the first run only; when two workers both find no row, the unique name
    lets one INSERT win and the other's IntegrityError sends it back to the UPDATE, which then
    finds the row. The savepoint keeps a PostgreSQL transaction usable after that error.
    """
    now = timezone.now()
    rows = SchedulerHeartbeat.objects.filter(name=name)
    if rows.update(last_run_at=now, runs=F("runs") + 1):
        return
    try:
        with transaction.atomic():
            SchedulerHeartbeat.objects.create(name=name, last_run_at=now, runs=1)
    except IntegrityError:
        if not rows.update(last_run_at=now, runs=F("runs") + 1):
            raise  # not a lost race: the row is still missing, so the error is real
