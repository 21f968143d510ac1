"""Two handlers act on the same disposition or item at once, on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from integrity_warnings import services
from integrity_warnings.ladder import DispositionState, Measure
from integrity_warnings.models import Disposition, WarningItem
from integrity_warnings.services import WarningConflict
from risk_registry.organisation.models import AuditEntry, Role
from risk_registry.organisation.services import membership_grant
from tests.warnings_helpers import TODAY, inspection_item, issue, step

pytestmark = pytest.mark.django_db(transaction=True)


def _race(actions):
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(label, action):
        try:
            barrier.wait(timeout=10)
            action()
            outcomes.append(f"ok:{label}")
        except WarningConflict:
            outcomes.append(f"conflict:{label}")
        except Exception as error:
            outcomes.append(f"error:{label}:{error!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def two_handlers(world, django_user_model):
    colleague = django_user_model.objects.create_user(username="colleague", password="x-1234567")
    membership_grant(user=colleague, institution=world.a, role=Role.DISCIPLINE)
    return world, colleague


@pytest.mark.parametrize("pair", [("accept", "reject"), ("accept", "accept"), ("reject", "ask_again")])
def test_two_handlers_deciding_one_report_at_once_one_wins(two_handlers, pair):
    assert connection.vendor == "postgresql"
    world, colleague = two_handlers
    notice = issue(world, inspection_item(world))
    step(world, notice, "respond")
    seen = Disposition.objects.get(pk=notice.pk)
    audits = AuditEntry.objects.count()

    def decide(user, name):
        return lambda: services.disposition_transition(
            by=user, disposition=seen, name=name, version=seen.version, reason="意见", today=TODAY
        )

    outcomes = _race([(pair[0], decide(world.discipline, pair[0])), (pair[1], decide(colleague, pair[1]))])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    winner = next(o for o in outcomes if o.startswith("ok:")).split(":")[1]
    expected = {"accept": DispositionState.ACCEPTED, "reject": DispositionState.FAILED, "ask_again": "issued"}
    assert Disposition.objects.get(pk=notice.pk).state == expected[winner]
    assert AuditEntry.objects.count() == audits + 1


def test_two_handlers_issuing_the_next_rung_at_once_issue_one_notice(two_handlers):
    world, colleague = two_handlers
    item = inspection_item(world)
    first = issue(world, item)
    step(world, first, "respond")
    step(world, first, "reject", reason="未整改")
    seen = WarningItem.objects.get(pk=item.pk)

    def escalate(user):
        return lambda: services.disposition_issue(
            by=user,
            item=seen,
            measure=Measure.ADMONITION,
            recipient_name="张审批",
            notice_facts="情况",
            requirement="要求",
            reason="警示提醒后仍未纠正",
            version=seen.version,
            today=TODAY,
        )

    outcomes = _race([("a", escalate(world.discipline)), ("b", escalate(colleague))])
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    assert Disposition.objects.filter(item=item, measure=Measure.ADMONITION).count() == 1
