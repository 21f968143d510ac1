"""Background work of the documents: large exports and archives, rendered by a worker, and the
sweep that sends again or fails the jobs a dead worker or a lost message left behind."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from risk_registry.documents import filed, housekeeping, import_jobs, services
from risk_registry.documents.pdf import DocumentUnavailable

TIME_LIMIT = settings.RISK_REGISTRY_EXPORT_TIME_LIMIT_SECONDS
# How a job's task is delivered (exports and the import's steps alike): acknowledged after it ran,
# sent back when its process was killed, retried up to the attempts a job may take, time-limited.
JOB_TASK = {
    "max_retries": settings.RISK_REGISTRY_EXPORT_MAX_ATTEMPTS - 1,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": TIME_LIMIT,
    "time_limit": TIME_LIMIT + 60,
}


@shared_task(bind=True, **JOB_TASK)
def export_job_run(self, job_id: int) -> None:
    """Render one export job (by id) to its file. Safe to run twice (see services.export_job_run).

    A refusal that will not change (no CJK font, too many points for a PDF, the job's data no
    longer visible to its owner) fails the job at once, and so does running past the time limit;
    anything else is retried with a growing countdown, and after the last retry the job is marked
    failed. The error is always re-raised. A killed process (kill -9, the OOM killer) sends the
    message back to the queue (``reject_on_worker_lost``); the job's claim counts the starts.
    """
    _deliver(self, services.export_job_run, job_id, final=(DocumentUnavailable, Http404, ValidationError))


def _deliver(task, run, job_id: int, *, final: tuple[type[BaseException], ...]) -> None:
    """Run a job's body: a refusal of the ``final`` kinds, or the time limit, fails the job at once;
    anything else is retried with a growing countdown, then failed. The error is always re-raised."""
    try:
        run(job_id)
    except final as error:
        services.export_job_fail(job_id, str(error) or error.__class__.__name__)
        raise
    except SoftTimeLimitExceeded:
        services.export_job_fail(job_id, services.time_limit_message())
        raise
    except Exception as error:
        if task.request.retries >= task.max_retries:
            services.export_job_fail(job_id, f"{error.__class__.__name__}: {error}")
            raise
        raise task.retry(exc=error, countdown=5 * 2**task.request.retries) from error


@shared_task(bind=True, max_retries=2, acks_late=True, reject_on_worker_lost=True)
def filed_pdf_keep(self, version_id: int) -> None:
    """Render a version's PDF when it is filed and keep it (documents/filed.py). Safe to run twice
    (a kept, intact PDF is left alone). An error is retried with a countdown, then re-raised: the
    first download then renders and keeps the PDF instead, so a lost message costs one slow download."""
    try:
        filed.filed_pdf_keep(version_id)
    except Exception as error:
        if self.request.retries >= self.max_retries:
            raise
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task
def export_jobs_sweep() -> None:
    """Beat runs this every minute (services.export_jobs_sweep)."""
    services.export_jobs_sweep()


@shared_task
def documents_housekeeping() -> None:
    """Beat runs this every hour: old exports and unconfirmed uploads removed (documents/housekeeping.py)."""
    housekeeping.documents_housekeeping()


@shared_task(bind=True, **JOB_TASK)
def import_job_run(self, job_id: int) -> None:
    """One step of an import (check or write, import_jobs.import_job_run), delivered as an export
    is: a refusal that will not change (the owner may no longer import) fails the job at once;
    anything else is retried, then failed; a killed process sends the message back."""
    _deliver(self, import_jobs.import_job_run, job_id, final=(PermissionDenied, Http404, ValidationError))
