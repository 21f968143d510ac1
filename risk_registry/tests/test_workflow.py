"""The transition table: every step by the right role succeeds; wrong role, wrong state or an
outsider is refused. The number of cases is printed at the end of the run (root conftest)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import PERSONAS
from risk_registry import access
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow.transitions import TRANSITIONS, Change, WorkflowConflict, transition_apply, transitions_for

# Who may take each step on the world's submitted point of 审批岗 (bureau A), put in the source state.
ALLOWED = {
    "submit": {"holder"},
    "withdraw": {"holder"},
    "review": {"head", "discipline"},
    "return_to_author": {"head", "discipline"},
    "define": {"discipline"},
    "return_to_department": {"discipline"},
    "appraise": {"discipline"},
    "approve": {"leader", "principal"},
    "return_to_discipline": {"leader", "principal"},
    "publish": {"discipline"},
    "return_from_notice": {"discipline"},
    "issue": {"discipline"},
    "revise": {"discipline"},
}

CASES = [
    pytest.param(t.name, source, persona, id=f"{t.name}-{source}-{persona}")
    for t in TRANSITIONS
    for source in t.sources
    for persona in PERSONAS
]


def _put(point: RiskPoint, state: str) -> RiskPoint:
    RiskPoint.objects.filter(pk=point.pk).update(state=state)
    point.refresh_from_db()
    return point


@pytest.mark.parametrize(("name", "source", "persona"), CASES)
def test_transition_table(world, name, source, persona):
    point = _put(world.submitted, source)
    user = getattr(world, persona)
    entries = AuditEntry.objects.count()
    if persona in ALLOWED[name]:
        [moved] = transition_apply(by=user, name=name, changes=[Change(point_id=point.pk)], reason="理由")
        step = next(t for t in TRANSITIONS if t.name == name)
        assert moved.state == step.target
        assert RiskPoint.objects.get(pk=point.pk).state == step.target
        entry = AuditEntry.objects.latest("id")
        assert entry.action == f"risk_point.{name}" and entry.actor == user
        assert entry.changes["state"] == [source, step.target]
    else:
        with pytest.raises(PermissionDenied):
            transition_apply(by=user, name=name, changes=[Change(point_id=point.pk)], reason="理由")
        assert RiskPoint.objects.get(pk=point.pk).state == source
        assert AuditEntry.objects.count() == entries


WRONG_STATE = [
    pytest.param(t.name, state, id=f"{t.name}-from-{state}")
    for t in TRANSITIONS
    for state in S.values
    if state not in t.sources
]


@pytest.mark.parametrize(("name", "state"), WRONG_STATE)
def test_a_step_from_the_wrong_state_is_a_conflict(world, name, state):
    point = _put(world.submitted, state)
    actor = getattr(world, sorted(ALLOWED[name])[0])
    visible = access.risk_points_visible_to(actor).filter(pk=point.pk).exists()
    with pytest.raises(WorkflowConflict if visible else PermissionDenied):  # drafts stay private
        transition_apply(by=actor, name=name, changes=[Change(point_id=point.pk)], reason="理由")
    assert RiskPoint.objects.get(pk=point.pk).state == state


def test_returns_need_a_reason(world):
    with pytest.raises(ValidationError):
        transition_apply(by=world.head, name="return_to_author", changes=[Change(point_id=world.submitted.pk)])
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.SUBMITTED


def test_a_stale_form_is_refused(world):
    seen = world.submitted.version
    transition_apply(by=world.head, name="review", changes=[Change(point_id=world.submitted.pk, version=seen)])
    with pytest.raises(WorkflowConflict):
        transition_apply(
            by=world.head,
            name="return_to_author",
            changes=[Change(point_id=world.submitted.pk, version=seen)],
            reason="x",
        )


def test_holder_cannot_review_own_point(world):
    """A department head who holds the post may not review it: the discipline office does."""
    from positions.services import holding_start

    holding_start(user=world.head, position=world.position, started_on=world.position.holdings.first().started_on)
    with pytest.raises(PermissionDenied):
        transition_apply(by=world.head, name="review", changes=[Change(point_id=world.submitted.pk)])
    transition_apply(by=world.discipline, name="review", changes=[Change(point_id=world.submitted.pk)])


def test_define_overrides_the_proposed_level_and_records_both(world):
    point = _put(world.submitted, S.REVIEWED)
    assert point.level.name == "二级"
    [moved] = transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=point.pk, likelihood=3, severity=3, reason="涉及大额资金")],
    )
    assert moved.level.name == "一级"
    assert AuditEntry.objects.latest("id").changes["level"] == ["二级", "一级"]


def test_batch_is_all_or_nothing(world):
    first = _put(world.submitted, S.SUBMITTED)
    second = _put(world.finance_point, S.SUBMITTED)  # another department: the head may not review it
    with pytest.raises(PermissionDenied):
        transition_apply(by=world.head, name="review", changes=[Change(point_id=first.pk), Change(point_id=second.pk)])
    assert RiskPoint.objects.get(pk=first.pk).state == S.SUBMITTED


def test_buttons_offer_exactly_the_allowed_steps(world):
    assert [t.name for t in transitions_for(world.head, world.submitted)] == ["review", "return_to_author"]
    assert [t.name for t in transitions_for(world.holder, world.draft)] == ["submit"]
    assert transitions_for(world.leader, world.submitted) == []


def test_a_batch_costs_the_same_queries_for_one_point_or_many(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    more = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=world.a,
            department=world.dept,
            position=world.position,
            year=2026,
            risk_type=world.risk_type,
            description=f"批量{i}",
            likelihood=2,
            severity=2,
            level=world.submitted.level,
            state=S.REVIEWED,
        )
        for i in range(20)
    )
    _put(world.submitted, S.REVIEWED)
    transition_apply(by=world.discipline, name="define", changes=[Change(point_id=world.submitted.pk)])  # warm caches
    with CaptureQueriesContext(connection) as one:
        transition_apply(
            by=world.discipline, name="return_to_department", changes=[Change(world.submitted.pk)], reason="x"
        )
    with CaptureQueriesContext(connection) as many:
        transition_apply(
            by=world.discipline,
            name="define",
            changes=[Change(point_id=p.pk, likelihood=3, severity=3, reason="上调") for p in more],
        )
    assert len(many) == len(one)
    assert {p.level.name for p in RiskPoint.objects.filter(pk__in=[p.pk for p in more])} == {"一级"}


def test_reopening_an_issued_point_lands_on_the_point_under_revision(world, client):
    point = _put(world.submitted, S.ISSUED)
    client.force_login(world.discipline)
    response = client.post(
        f"/risks/{point.pk}/step/revise/", {"reason": "年中复查", "version": point.version}, follow=True
    )
    assert RiskPoint.objects.get(pk=point.pk).state == S.DRAFT
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/risks/{point.pk}/"
    content = response.content.decode()
    assert "已完成：重新修订。" in content  # the success message, on the point itself
    assert 'data-testid="under-revision"' in content and "年中复查" in content


def test_returning_a_never_issued_point_to_its_author_lands_on_its_register(world, client):
    client.force_login(world.discipline)
    point = world.submitted
    response = client.post(
        f"/risks/{point.pk}/step/return_to_author/", {"reason": "补充表现形式", "version": point.version}, follow=True
    )
    assert RiskPoint.objects.get(pk=point.pk).state == S.DRAFT
    assert response.redirect_chain[-1][0] == f"/registers/{world.a.code}/{point.year}/"
