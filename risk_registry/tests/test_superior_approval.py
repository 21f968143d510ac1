"""Issue 9: the optional approval of the grades by the superior office (审议确定) before the notice.

The Jiuquan plan: "报上一级…领导小组办公室审议确定…公示". An institution's ``DecisionRules`` may ask
for it; by default the path is unchanged (leadership approval, then notice)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from risk_registry.models import Decision, DecisionRules, Register, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow import registers
from risk_registry.workflow.transitions import WorkflowConflict

REGISTER = "/registers/bureau-a/2026"
TODAY = datetime.date.today


def _approved(world, *, superior: bool) -> Register:
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk]).update(state=S.APPROVED, version=3)
    DecisionRules.objects.create(institution=world.a, superior_approval=superior)
    return Register.objects.create(institution=world.a, year=2026)


def _superior_decides(world, register, *, passed=True, versions=None) -> Decision:
    return registers.register_superior_decide(
        by=world.superior,
        register=register,
        meeting="县纪委常委会",
        held_on=TODAY(),
        decision="同意所报风险等级",
        passed=passed,
        point_versions=versions or {world.submitted.pk: 3, world.finance_point.pk: 3},
    )


def _states() -> set[str]:
    return set(
        RiskPoint.objects.filter(institution__code="bureau-a", year=2026)
        .exclude(state=S.DRAFT)
        .values_list("state", flat=True)
    )


def test_by_default_the_notice_follows_the_leadership_approval(world):
    register = _approved(world, superior=False)
    registers.notice_publish(by=world.discipline, register=register, days=5)
    assert _states() == {S.IN_NOTICE}


def test_with_the_rule_the_notice_waits_for_the_superior_office(world):
    register = _approved(world, superior=True)
    with pytest.raises(ValidationError, match="上级"):
        registers.notice_publish(by=world.discipline, register=register, days=5)
    assert _states() == {S.APPROVED}
    record = _superior_decides(world, register)
    assert record.kind == Decision.Kind.SUPERIOR and record.passed
    assert set(record.points.values_list("pk", flat=True)) == {world.submitted.pk, world.finance_point.pk}
    assert _states() == {S.APPROVED}  # the superior's approval moves no point by itself
    assert AuditEntry.objects.filter(action="register.superior_approve").count() == 1
    registers.notice_publish(by=world.discipline, register=register, days=5)
    assert _states() == {S.IN_NOTICE}


def test_a_superior_refusal_is_recorded_and_changes_nothing(world):
    register = _approved(world, superior=True)
    record = _superior_decides(world, register, passed=False)
    assert record.outcome == Decision.Outcome.NOT_PASSED
    assert _states() == {S.APPROVED}
    with pytest.raises(ValidationError):
        registers.notice_publish(by=world.discipline, register=register, days=5)


def test_a_point_changed_after_the_superior_approval_needs_it_again(world):
    register = _approved(world, superior=True)
    _superior_decides(world, register)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(version=7)  # returned and approved again
    assert registers.superior_pending(register) == [world.finance_point.pk]
    with pytest.raises(ValidationError, match=f"#{world.finance_point.pk}"):
        registers.notice_publish(by=world.discipline, register=register, days=5)


def test_the_superior_decides_on_exactly_what_it_was_shown(world):
    register = _approved(world, superior=True)
    with pytest.raises(WorkflowConflict):
        _superior_decides(world, register, versions={world.submitted.pk: 3, world.finance_point.pk: 2})
    with pytest.raises(WorkflowConflict):
        _superior_decides(world, register, versions={world.submitted.pk: 3})  # one point left out
    assert not Decision.objects.exists()


def test_only_the_superior_office_records_it_and_only_where_the_rules_ask(world):
    register = _approved(world, superior=True)
    with pytest.raises(PermissionDenied):
        registers.register_superior_decide(
            by=world.discipline,  # the institution's own discipline office
            register=register,
            meeting="纪检组会议",
            held_on=TODAY(),
            decision="同意",
            passed=True,
            point_versions={world.submitted.pk: 3, world.finance_point.pk: 3},
        )
    DecisionRules.objects.filter(institution=world.a).update(superior_approval=False)
    with pytest.raises(ValidationError):
        _superior_decides(world, register)


def test_the_register_page_shows_the_superior_step(world, client):
    _approved(world, superior=True)
    client.force_login(world.superior)
    html = client.get(f"{REGISTER}/").content.decode()
    assert 'data-testid="superior-card"' in html
    client.force_login(world.discipline)
    html = client.get(f"{REGISTER}/").content.decode()
    assert 'data-testid="superior-waiting"' in html and 'id="publish-card"' not in html
    client.force_login(world.superior)
    data = {
        "meeting": "县纪委常委会",
        "held_on": TODAY().isoformat(),
        "decision": "同意",
        "outcome": "passed",
        "points": [world.submitted.pk, world.finance_point.pk],
        f"version_{world.submitted.pk}": 3,
        f"version_{world.finance_point.pk}": 3,
    }
    assert client.post(f"{REGISTER}/superior/", data).status_code == 302
    assert Decision.objects.get(kind=Decision.Kind.SUPERIOR).point_versions == {
        str(world.submitted.pk): 3,
        str(world.finance_point.pk): 3,
    }
    client.force_login(world.discipline)
    assert 'id="publish-card"' in client.get(f"{REGISTER}/").content.decode()


def test_the_discipline_office_sets_the_rule_audited(world, client):
    client.force_login(world.discipline)
    Register.objects.create(institution=world.a, year=2026)
    client.post(
        f"{REGISTER}/rules/", {"quorum": "more_than_half", "majority": "majority_of_present", "superior_approval": "on"}
    )
    assert DecisionRules.objects.get(institution=world.a).superior_approval
    entry = AuditEntry.objects.get(action="decision_rules.update")
    assert entry.changes["superior_approval"] == [False, True]


def test_points_approved_before_the_register_was_saved_still_wait_for_the_superior(world, client):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.APPROVED, version=3)
    DecisionRules.objects.create(institution=world.a, superior_approval=True)
    client.force_login(world.superior)
    assert 'data-testid="superior-card"' in client.get(f"{REGISTER}/").content.decode()
    data = {
        "meeting": "县纪委常委会",
        "held_on": TODAY().isoformat(),
        "decision": "同意",
        "outcome": "passed",
        "points": [world.submitted.pk],
        f"version_{world.submitted.pk}": 3,
    }
    assert client.post(f"{REGISTER}/superior/", data).status_code == 302
    assert Decision.objects.get(kind=Decision.Kind.SUPERIOR).register.year == 2026
