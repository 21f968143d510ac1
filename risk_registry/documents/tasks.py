"""Background work of the documents: large exports and archives, rendered by a worker."""

from celery import shared_task
from django.core.exceptions import ValidationError
from django.http import Http404

from risk_registry.documents import services
from risk_registry.documents.pdf import DocumentUnavailable


@shared_task(bind=True, max_retries=3, acks_late=True)
def export_job_run(self, job_id: int) -> None:
    """Render one export job (by id) to its file. Safe to run twice (see services.export_job_run).

    A refusal that will not change (no CJK font, too many points for a PDF, the job's data no
    longer visible to its owner) fails the job at once; anything else is retried with a growing
    countdown, and after the last retry the job is marked failed. The error is always re-raised.
    """
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
