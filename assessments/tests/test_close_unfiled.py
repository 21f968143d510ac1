"""Issue 9, defect 3: closing the year at 26 % done with 4 of 6 institutions unfiled carried
nothing over for them. Closing lists who has not filed and refuses by default; the launching
office may force it with a reason, and then each unfiled institution's approved points are still
carried into next year, marked as carried from an unfiled register, and the close is audited."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from assessments.models import Cycle
from assessments.services import cycle_close, cycle_launch, cycle_unfiled_registers
from assessments.tests.conftest import LAUNCHED_ON
from controls.models import Control
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_cycle(world):
    return cycle_launch(by=world.superior, institution=world.county, year=2026, today=LAUNCHED_ON, enqueue=False)


def file_version(world, institution, points) -> RegisterVersion:
    register, _ = Register.objects.get_or_create(institution=institution, year=2026)
    RiskPoint.objects.filter(pk__in=[p.pk for p in points]).update(state=RiskPointState.ISSUED)
    return RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot={"points": [{"id": p.pk} for p in points]},
        content_hash="0" * 64,
        signed_by=world.principal,
        signed_at=datetime.datetime(2026, 8, 30, tzinfo=datetime.UTC),
    )


def untouched(cycle) -> bool:
    return (
        Cycle.objects.get(pk=cycle.pk).state == Cycle.State.RUNNING
        and not RiskPoint.objects.filter(year=2027).exists()
        and not Register.objects.filter(year=2027).exists()
        and not AuditEntry.objects.filter(action__in=["cycle.close", "register.carry_over"]).exists()
    )


def test_closing_with_unfiled_registers_is_refused_and_lists_them(world, county_cycle):
    file_version(world, world.b, [world.point_b])
    assert [(u.institution, u.not_approved) for u in cycle_unfiled_registers(county_cycle)] == [(world.a, 5)]
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        cycle_close(by=world.superior, cycle=county_cycle)
    assert refused.value.code == "unfiled"
    assert "甲局" in refused.value.messages[0] and "乙局" not in refused.value.messages[0]
    assert "未备案" in refused.value.messages[0]
    assert untouched(county_cycle)


def test_a_blank_reason_does_not_force_the_close(world, county_cycle):
    with pytest.raises(ValidationError):
        cycle_close(by=world.superior, cycle=county_cycle, force_reason="   ")
    assert untouched(county_cycle)


def test_a_forced_close_carries_the_unfiled_registers_approved_state_marked_and_audited(world, county_cycle):
    file_version(world, world.b, [world.point_b])
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.APPROVED)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(state=RiskPointState.IN_NOTICE)
    reason = "甲局公示期内机构改革,经县纪委监委研究同意先行结转"

    result = cycle_close(by=world.superior, cycle=county_cycle, force_reason=reason)

    assert (result.registers, result.points, result.unfiled_points) == (2, 3, 2)
    carried = {p.carried_from_id: p for p in RiskPoint.objects.filter(year=2027)}
    assert set(carried) == {world.submitted.pk, world.finance_point.pk, world.point_b.pk}
    assert carried[world.submitted.pk].carried_unfiled and carried[world.finance_point.pk].carried_unfiled
    assert not carried[world.point_b.pk].carried_unfiled  # from a filed register
    assert {p.state for p in carried.values()} == {RiskPointState.DRAFT}
    assert Control.objects.filter(risk_point__year=2027, risk_point__institution=world.a).count() == 2
    assert Register.objects.filter(institution=world.a, year=2027).exists()

    cycle = Cycle.objects.get(pk=county_cycle.pk)
    assert cycle.state == Cycle.State.CLOSED and cycle.close_reason == reason
    close = AuditEntry.objects.get(action="cycle.close", target_id=cycle.pk)
    assert close.actor == world.superior
    (unfiled,) = close.changes["forced"]["unfiled"]
    assert close.changes["forced"]["reason"] == reason
    assert unfiled["institution"] == world.a.pk
    assert sorted(unfiled["carried"]) == sorted([world.submitted.pk, world.finance_point.pk])
    left = sorted([world.draft.pk, world.draft2.pk, world.dept_draft.pk])
    assert unfiled["not_approved"] == left  # named, not silently dropped
    carry_a = AuditEntry.objects.get(action="register.carry_over", institution=world.a)
    assert carry_a.changes["unfiled"] is True and len(carry_a.changes["points"]) == 2
    assert AuditEntry.objects.get(action="register.carry_over", institution=world.b).changes["unfiled"] is False


def test_a_fully_filed_cycle_closes_without_a_reason(world, county_cycle):
    RiskPoint.objects.filter(institution=world.a, year=2026).update(state=RiskPointState.ISSUED)
    file_version(world, world.a, list(RiskPoint.objects.filter(institution=world.a, year=2026)))
    file_version(world, world.b, [world.point_b])
    assert cycle_unfiled_registers(county_cycle) == []
    result = cycle_close(by=world.superior, cycle=county_cycle)
    assert (result.points, result.unfiled_points) == (6, 0)
    assert not RiskPoint.objects.filter(year=2027, carried_unfiled=True).exists()
    assert Cycle.objects.get(pk=county_cycle.pk).close_reason == ""
