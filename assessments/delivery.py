"""E-mail of notifications through Django's e-mail backend, at most once per notification.

A batch is claimed with one conditional UPDATE (``pending → sending`` on rows still pending,
locked with SKIP LOCKED so two workers split a batch instead of both sending it), sent over one
connection, and the sent ones are marked in one UPDATE. A failure puts the failed rows back to
pending (or ``failed`` after the last attempt) and re-raises, so the Celery task retries; the
rows already sent are not sent again because they are no longer pending. A worker that dies
between claim and mark leaves rows ``sending``: after ``RISK_REGISTRY_EMAIL_CLAIM_MINUTES`` the
scan puts them back to pending (the one case that can send twice: the SMTP server accepted the
message and the worker died before the UPDATE).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from assessments.models import Notification
from assessments.selectors import describe_notifications

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass
class DeliveryResult:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


class DeliveryError(Exception):
    """Some e-mails of a batch could not be sent; they are pending again (or failed for good)."""


def _claim(ids: list[int], now: datetime.datetime) -> list[int]:
    with transaction.atomic():
        claimable = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, email_status=Notification.Email.PENDING)
            .values_list("id", flat=True)
        )
        Notification.objects.filter(pk__in=claimable).update(
            email_status=Notification.Email.SENDING, email_claimed_at=now, email_attempts=F("email_attempts") + 1
        )
    return claimable


def _message(notification: Notification) -> EmailMessage:
    """The e-mail of a notification described by ``describe_notifications`` (a digest lists every
    task it lists on its page), in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        text = notification.text
        body = render_to_string("assessments/email/notification.txt", {"n": notification, "text": text})
    return EmailMessage(subject=text.subject, body=body, to=[notification.recipient.email])


def notifications_email_deliver(*, ids, now: datetime.datetime | None = None) -> DeliveryResult:
    """Send the e-mail of each pending notification of ``ids``; see the module docstring."""
    now = now or timezone.now()
    result = DeliveryResult()
    claimed = _claim(list(ids), now)
    if not claimed:
        return result
    notifications = list(Notification.objects.filter(pk__in=claimed).select_related("recipient"))
    with translation.override(settings.LANGUAGE_CODE):
        describe_notifications(notifications)
    errors: dict[int, str] = {}
    connection = get_connection()
    try:
        connection.open()
        for notification in notifications:
            if not notification.recipient.email:
                result.skipped.append(notification.pk)
                continue
            try:
                connection.send_messages([_message(notification)])
            except Exception as error:  # recorded on the row and re-raised below as DeliveryError
                errors[notification.pk] = f"{type(error).__name__}: {error}"[:255]
                continue
            result.sent.append(notification.pk)
    except Exception as error:  # the connection itself failed: nothing of the batch was sent
        errors.update(
            {n.pk: f"{type(error).__name__}: {error}"[:255] for n in notifications if n.pk not in result.sent}
        )
    finally:
        connection.close()
    done_at = timezone.now()
    Notification.objects.filter(pk__in=result.sent).update(email_status=Notification.Email.SENT, email_sent_at=done_at)
    Notification.objects.filter(pk__in=result.skipped).update(email_status=Notification.Email.SKIPPED)
    if errors:
        attempts = {n.pk: n.email_attempts for n in notifications}  # counted by the claim
        for pk, message in errors.items():  # failures are rare: one UPDATE each, with its message
            status = Notification.Email.FAILED if attempts[pk] >= MAX_ATTEMPTS else Notification.Email.PENDING
            Notification.objects.filter(pk=pk, email_status=Notification.Email.SENDING).update(
                email_status=status, email_error=message
            )
        result.failed = list(errors)
        raise DeliveryError(f"{len(errors)} e-mail(s) not sent: {next(iter(errors.values()))}")
    return result


def emails_to_resend(*, now: datetime.datetime) -> list[int]:
    """Release claims older than the limit, and return pending e-mails whose message may be lost."""
    limit = now - datetime.timedelta(minutes=settings.RISK_REGISTRY_EMAIL_CLAIM_MINUTES)
    Notification.objects.filter(email_status=Notification.Email.SENDING, email_claimed_at__lt=limit).update(
        email_status=Notification.Email.PENDING
    )
    return list(
        Notification.objects.filter(email_status=Notification.Email.PENDING, created_at__lt=limit).values_list(
            "id", flat=True
        )[:5000]
    )
