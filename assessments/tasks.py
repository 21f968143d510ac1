"""Background tasks of the annual cycle. Each takes ids, re-reads the database, calls one
service, is safe to run twice, and retries on errors instead of swallowing them.

Beat sends ``deadline_scan`` every few minutes (``CELERY_BEAT_SCHEDULE``); there are no ETA
tasks: the deadlines are rows in PostgreSQL and the scan finds them.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from assessments import delivery, scan, services
from config.queue import enqueue_on_commit

logger = logging.getLogger(__name__)
EMAIL_BATCH = 200


def _batches(ids: list[int], size: int = EMAIL_BATCH):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def deadline_scan(self) -> dict:
    """One scan as of now; then e-mail what it created, and catch up what a lost message missed."""
    now = timezone.now()
    result = scan.deadline_scan(now=now)
    resend = delivery.emails_to_resend(now=now)
    ids = result.created + resend
    for batch in _batches(ids):
        enqueue_on_commit(deliver_notification_emails, batch)
    for cycle_id in result.cycles_to_generate:
        enqueue_on_commit(cycle_generate_tasks, cycle_id)
    logger.info(
        "deadline scan %s: %s deadlines near or past due (cycle tasks and other sources), %s notifications,"
        " %s e-mails re-sent",
        result.scan_id,
        result.considered,
        len(result.created),
        len(resend),
    )
    return {"scan": result.scan_id, "created": len(result.created)}


@shared_task(
    bind=True,
    autoretry_for=(OperationalError, SMTPException, OSError, delivery.DeliveryError),
    retry_backoff=30,
    max_retries=delivery.MAX_ATTEMPTS,
)
def deliver_notification_emails(self, notification_ids: list[int]) -> dict:
    """E-mail the notifications still pending among ``notification_ids`` (sent ones are skipped)."""
    result = delivery.notifications_email_deliver(ids=notification_ids)
    return {"sent": len(result.sent), "skipped": len(result.skipped)}


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def cycle_generate_tasks(self, cycle_id: int) -> int:
    """Create or update the tasks of a running cycle (idempotent: the unique task key decides)."""
    with transaction.atomic():
        return services.cycle_generate_tasks(cycle_id=cycle_id)
