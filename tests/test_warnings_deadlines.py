"""Response deadlines (限时回告) of notices go through the one deadline scan of the annual cycle
(``risk_registry.workflow.deadlines``): the notice to its recipient, a reminder before the deadline,
then the recipient's supervisor, then the discipline office, each exactly once, e-mailed through
the cycle's delivery, and never with a confidential item's facts or source."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection

from assessments import delivery
from assessments.models import Notification
from assessments.scan import deadline_scan
from assessments.selectors import inbox_for
from assessments.tests.conftest import at
from integrity_warnings.deadlines import NAME
from integrity_warnings.ladder import DispositionState
from tests.warnings_helpers import SECRET_FACTS, SECRET_SOURCE, TODAY, inspection_item, issue, petition_item, step


def sent(disposition) -> list[tuple[str, str]]:
    return sorted(
        Notification.objects.filter(source=NAME, object_id=disposition.pk).values_list("recipient__username", "stage")
    )


def scan(day: str) -> list[int]:
    return deadline_scan(now=at(day)).created


@pytest.mark.django_db
def test_the_ladder_of_a_missed_deadline_is_sent_once_each(world):
    notice = issue(world, inspection_item(world))
    assert notice.due_on == datetime.date(2026, 3, 9)  # five working days after Monday 2 March

    assert len(scan("2026-03-02")) == 1
    assert sent(notice) == [("holder", "notice")]
    assert scan("2026-03-02") == []  # a second scan the same day sends nothing

    scan("2026-03-08")
    assert sent(notice) == [("holder", "notice"), ("holder", "remind-1")]
    scan("2026-03-10")  # one day late: the recipient and the head of the department where they hold a post
    assert sent(notice) == [
        ("head", "supervise"),
        ("holder", "notice"),
        ("holder", "remind-1"),
        ("holder", "supervise"),
    ]
    scan("2026-03-12")  # three days late: the discipline office
    assert ("discipline", "report") in sent(notice)
    assert scan("2026-03-12") == [] and scan("2026-03-20") == []
    assert Notification.objects.filter(source=NAME).count() == 5


@pytest.mark.django_db
def test_an_answered_notice_is_no_longer_watched_and_one_asked_again_has_a_new_deadline(world):
    notice = issue(world, inspection_item(world))
    scan("2026-03-02")
    step(world, notice, "respond")
    assert scan("2026-03-12") == []  # answered: no reminder, no escalation
    step(world, notice, "ask_again", reason="请补充整改时限", today=datetime.date(2026, 3, 12))
    notice.refresh_from_db()
    assert notice.state == DispositionState.ISSUED and notice.due_on > datetime.date(2026, 3, 12)
    scan("2026-03-12")
    assert sent(notice) == [("holder", "notice"), ("holder", "notice")]  # one per deadline
    dues = set(Notification.objects.filter(source=NAME, object_id=notice.pk).values_list("due_on", flat=True))
    assert dues == {datetime.date(2026, 3, 9), notice.due_on}


@pytest.mark.django_db
def test_notices_are_e_mailed_once_without_the_confidential_facts(world):
    for user in (world.holder, world.head, world.discipline):
        user.email = f"{user.username}@example.gov"
        user.save()
    notice = issue(world, petition_item(world))
    created = scan("2026-03-12") + scan("2026-03-02")
    result = delivery.notifications_email_deliver(ids=created)
    assert len(result.sent) == 4  # holder: notice and supervise; head: supervise; discipline: report
    assert delivery.notifications_email_deliver(ids=created).sent == []  # never twice
    assert sorted(m.to[0] for m in mail.outbox) == [
        "discipline@example.gov",
        "head@example.gov",
        "holder@example.gov",
        "holder@example.gov",
    ]
    for message in mail.outbox:
        assert notice.number in message.subject + message.body
        assert f"/warnings/notices/{notice.pk}/" in message.body
        for secret in (SECRET_FACTS, SECRET_SOURCE, "实名举报"):
            assert secret not in message.subject + message.body
    inbox = inbox_for(user=world.head, today=TODAY)
    assert [n.text.title for n in inbox.notifications] == [f"廉政风险警示提醒书（{notice.number}）"]


@pytest.mark.django_db
def test_the_inbox_describes_notices_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for _ in range(3):
        item = inspection_item(world)
        issue(world, item)
    scan("2026-03-12")
    with django_assert_max_num_queries(6):
        inbox = inbox_for(user=world.holder, today=TODAY)
    assert len(inbox.notifications) == 6  # per notice: the notice itself and the escalation to the supervisor
    assert all("廉预" in n.text.title and n.text.url.startswith("/warnings/notices/") for n in inbox.notifications)


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_eight_scans_at_once_send_each_notice_once(world):
    notices = [issue(world, inspection_item(world)) for _ in range(5)]
    runners = 8
    barrier = threading.Barrier(runners)
    created, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            created.append(len(deadline_scan(now=at("2026-03-12")).created))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    per_notice = 4  # holder: notice, supervise; head: supervise; discipline: report
    assert sum(created) == per_notice * len(notices)
    assert Notification.objects.filter(source=NAME).count() == per_notice * len(notices)
