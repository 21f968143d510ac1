"""E-mail delivery: at most once per notification, failures retried, no address skipped."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from assessments import delivery, tasks
from assessments.models import Notification
from assessments.scan import deadline_scan
from assessments.tests.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminded(world, cycle):
    world.holder2.email = "holder2@example.gov"
    world.holder2.save()
    deadline_scan(now=at("2026-05-02"))  # holder2 (with e-mail) and the head (without)
    return Notification.objects.order_by("recipient__username")


def test_each_notification_is_emailed_once_and_no_address_is_skipped(reminded):
    ids = list(reminded.values_list("id", flat=True))
    first = delivery.notifications_email_deliver(ids=ids)
    second = delivery.notifications_email_deliver(ids=ids)  # a retried or duplicated message
    assert len(first.sent) == 1 and len(first.skipped) == 1
    assert second.sent == second.skipped == []
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["holder2@example.gov"]
    assert dict(reminded.values_list("recipient__username", "email_status")) == {"head": "skipped", "holder2": "sent"}


def test_a_failure_is_recorded_pending_and_raised_for_a_retry(reminded):
    ids = list(reminded.values_list("id", flat=True))
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("smtp down")):
        with pytest.raises(delivery.DeliveryError):
            delivery.notifications_email_deliver(ids=ids)
    failed = reminded.get(recipient__username="holder2")
    assert (failed.email_status, failed.email_attempts) == ("pending", 1)
    assert "smtp down" in failed.email_error
    delivery.notifications_email_deliver(ids=ids)  # the retry
    assert len(mail.outbox) == 1


def test_gives_up_after_the_last_attempt(reminded):
    holder2 = reminded.get(recipient__username="holder2")
    Notification.objects.filter(pk=holder2.pk).update(email_attempts=delivery.MAX_ATTEMPTS - 1)
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("no")):
        with pytest.raises(delivery.DeliveryError):
            delivery.notifications_email_deliver(ids=[holder2.pk])
    assert Notification.objects.get(pk=holder2.pk).email_status == "failed"


def test_a_claim_lost_with_its_worker_is_released_and_resent(reminded):
    holder2 = reminded.get(recipient__username="holder2")
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    Notification.objects.filter(pk=holder2.pk).update(
        email_status="sending", email_claimed_at=long_ago, created_at=long_ago
    )
    assert holder2.pk in delivery.emails_to_resend(now=timezone.now())
    delivery.notifications_email_deliver(ids=[holder2.pk])
    assert len(mail.outbox) == 1


def test_the_task_retries_instead_of_swallowing(reminded):
    ids = list(reminded.values_list("id", flat=True))
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=OSError("down")):
        with pytest.raises(Exception) as raised:
            tasks.deliver_notification_emails.apply(args=[ids], throw=True)
    assert "down" in str(raised.value) or raised.type.__name__ in ("Retry", "DeliveryError")
