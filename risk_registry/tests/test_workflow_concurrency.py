"""Two people act on the same point at the same moment, on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow.transitions import Change, WorkflowConflict, transition_apply

pytestmark = pytest.mark.django_db(transaction=True)


def _race(steps):
    """Run each (user, step name) in its own thread and connection, released together."""
    barrier = threading.Barrier(len(steps))
    outcomes: list[str] = []

    def act(user, name, point_id, seen_version):
        try:
            barrier.wait(timeout=10)
            change = Change(point_id=point_id, version=seen_version)  # both loaded the same page
            transition_apply(by=user, name=name, changes=[change], reason="会议意见")
            outcomes.append(f"ok:{name}")
        except WorkflowConflict:
            outcomes.append(f"conflict:{name}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=step) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize(
    "pair",
    [("approve", "approve"), ("approve", "return_to_discipline"), ("return_to_discipline", "return_to_discipline")],
)
def test_two_leaders_acting_at_once_one_wins(world, pair):
    assert connection.vendor == "postgresql"
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DEFINED)
    seen = RiskPoint.objects.get(pk=world.submitted.pk).version
    before = AuditEntry.objects.count()
    outcomes = _race(
        [(world.leader, pair[0], world.submitted.pk, seen), (world.principal, pair[1], world.submitted.pk, seen)]
    )
    assert len(outcomes) == 2
    assert sum(o.startswith("ok:") for o in outcomes) == 1, outcomes
    assert sum(o.startswith("conflict:") for o in outcomes) == 1, outcomes
    winner = next(o for o in outcomes if o.startswith("ok:")).split(":")[1]
    expected = S.APPROVED if winner == "approve" else S.REVIEWED
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == expected
    assert AuditEntry.objects.count() == before + 1
