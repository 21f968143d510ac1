"""Background work of the register path: issue the registers whose public notice has ended."""

from celery import shared_task
from django.db import OperationalError

from risk_registry.workflow import registers


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def registers_issue_due(self) -> int:
    """Issue every register whose notice period has ended. Idempotent: an issued point is no
    longer in notice, so a second run (or a second worker) finds nothing to do."""
    return registers.registers_issue_due()
