"""Background tasks of the register: the scheduler heartbeat that shows beat and a worker are alive."""

from celery import shared_task
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from risk_registry.models import SchedulerHeartbeat

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


# --- documents: large exports and archives (risk_registry.documents) ---------------------------


@shared_task(bind=True, max_retries=3, acks_late=True)
def export_job_run(self, job_id: int) -> None:
    """Render one export job (by id) to its file. Safe to run twice (see services.export_job_run).

    A refusal that will not change (no CJK font, too many points for a PDF, the job's data no
    longer visible to its owner) fails the job at once; anything else is retried with a growing
    countdown, and after the last retry the job is marked failed. The error is always re-raised.
    """
    from django.core.exceptions import ValidationError
    from django.http import Http404

    from risk_registry.documents import services
    from risk_registry.documents.pdf import DocumentUnavailable

    try:
        services.export_job_run(job_id)
    except (DocumentUnavailable, Http404, ValidationError) as error:
        services.export_job_fail(job_id, str(error) or error.__class__.__name__)
        raise
    except Exception as error:
        if self.request.retries >= self.max_retries:
            services.export_job_fail(job_id, f"{error.__class__.__name__}: {error}")
            raise
        raise self.retry(exc=error, countdown=5 * 2**self.request.retries) from error


# --- workflow: issue the registers whose public notice has ended (risk_registry.registers) -------


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def registers_issue_due(self) -> int:
    """Issue every register whose notice period has ended. Idempotent: an issued point is no
    longer in notice, so a second run (or a second worker) finds nothing to do."""
    from risk_registry.registers import registers_issue_due as issue_due

    return issue_due()
