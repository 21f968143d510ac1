"""positions.services: positions, holdings with their guardian permission, the power inventory."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from guardian.models import UserObjectPermission

from positions.models import Holding, Position, PositionUserObjectPermission, PowerCategory, PowerItem, ProcessStep
from positions.services import HOLD_PERMISSION, holding_end, holding_start, position_create, power_item_create
from risk_registry import access
from risk_registry.organisation.models import AuditEntry
from risk_registry.services import holding_rotate

START = datetime.date(2026, 1, 1)  # the world's holdings start here
DAY = datetime.date(2026, 3, 1)


def _fresh(user):
    """A new instance: no cached scope, no cached guardian permissions."""
    return get_user_model().objects.get(pk=user.pk)


def _holds(user, position) -> bool:
    return _fresh(user).has_perm(HOLD_PERMISSION, position)


def _audit(action, target):
    return AuditEntry.objects.filter(action=action, target_type=target._meta.label_lower, target_id=target.pk)


# --- position_create ------------------------------------------------------------------------


def test_position_create_takes_the_institution_of_its_department(world):
    position = position_create(department=world.finance, title="出纳岗", kind=Position.Kind.GENERAL, is_key_post=True)

    position.refresh_from_db()
    assert (position.institution, position.department, position.is_key_post) == (world.a, world.finance, True)
    assert _audit("position.create", position).get().institution == world.a


# --- holding_start --------------------------------------------------------------------------


def test_holding_start_grants_the_hold_permission(world):
    holding = holding_start(user=world.nobody, position=world.position3, started_on=DAY)

    assert holding.is_open and holding.started_on == DAY
    assert _holds(world.nobody, world.position3)
    assert not _holds(world.nobody, world.position)
    assert access.scope_of(_fresh(world.nobody)).held_position_ids == {world.position3.pk}
    assert _audit("holding.start", holding).count() == 1


def test_holding_start_gives_the_new_holder_the_positions_points(world):
    holding_start(user=world.nobody, position=world.position, started_on=DAY)

    visible = set(access.risk_points_visible_to(_fresh(world.nobody)))
    assert visible == {world.draft, world.submitted}
    assert access.can_edit_risk_point(_fresh(world.nobody), world.draft)


def test_holding_start_is_idempotent(world):
    first = holding_start(user=world.nobody, position=world.position3, started_on=DAY)
    second = holding_start(user=world.nobody, position=world.position3, started_on=DAY + datetime.timedelta(days=5))

    assert first.pk == second.pk
    assert second.started_on == DAY  # the open holding keeps its start
    assert Holding.objects.filter(user=world.nobody).count() == 1
    assert PositionUserObjectPermission.objects.filter(user=world.nobody).count() == 1
    assert _audit("holding.start", first).count() == 1


def test_holding_start_drops_the_scope_cached_on_the_user(world):
    user = _fresh(world.nobody)
    assert access.scope_of(user).is_empty

    holding_start(user=user, position=world.position3, started_on=DAY)

    assert access.scope_of(user).held_position_ids == {world.position3.pk}


def test_guardian_stores_the_hold_permission_in_the_direct_table(world):
    holding_start(user=world.nobody, position=world.position3, started_on=DAY)

    direct = PositionUserObjectPermission.objects.filter(user=world.nobody)
    assert list(direct.values_list("content_object_id", "permission__codename")) == [
        (world.position3.pk, "hold_position")
    ]
    assert not UserObjectPermission.objects.exists()  # nothing in guardian's generic table, for anyone


# --- holding_end ----------------------------------------------------------------------------


def _holding(world, persona="holder", position="position"):
    return Holding.objects.get(user=getattr(world, persona), position=getattr(world, position), ended_on=None)


def test_holding_end_revokes_the_hold_permission(world):
    holding = holding_end(holding=_holding(world), ended_on=DAY)

    assert holding.ended_on == DAY and not holding.is_open
    assert not _holds(world.holder, world.position)
    assert not PositionUserObjectPermission.objects.filter(user=world.holder).exists()
    user = _fresh(world.holder)
    assert not access.scope_of(user).is_holder
    assert not access.risk_points_visible_to(user).exists()
    assert not access.can_edit_risk_point(user, world.draft)
    assert _audit("holding.end", holding).count() == 1


def test_holding_end_leaves_the_other_holders_alone(world):
    holding_end(holding=_holding(world), ended_on=DAY)

    assert _holds(world.holder2, world.position2)
    assert _holds(world.holder3, world.position3)


def test_holding_end_is_idempotent(world):
    holding = _holding(world)
    holding_end(holding=holding, ended_on=DAY)

    again = holding_end(holding=holding, ended_on=DAY + datetime.timedelta(days=30))

    assert again.ended_on == DAY
    holding.refresh_from_db()
    assert holding.ended_on == DAY
    assert _audit("holding.end", holding).count() == 1


def test_holding_end_before_the_start_is_refused(world):
    holding = _holding(world)

    with pytest.raises(ValidationError):
        holding_end(holding=holding, ended_on=START - datetime.timedelta(days=1))

    holding.refresh_from_db()
    assert holding.is_open
    assert _holds(world.holder, world.position)
    assert not _audit("holding.end", holding).exists()


def test_holding_end_on_the_start_day_is_allowed(world):
    holding = holding_end(holding=_holding(world), ended_on=START)

    assert holding.ended_on == START


def test_a_position_may_be_held_again_after_the_holding_ended(world):
    holding_end(holding=_holding(world), ended_on=DAY)

    again = holding_start(user=world.holder, position=world.position, started_on=DAY)

    assert Holding.objects.filter(user=world.holder, position=world.position).count() == 2
    assert again.is_open
    assert _holds(world.holder, world.position)


def test_holding_end_drops_the_scope_cached_on_the_callers_user(world):
    user = _fresh(world.nobody)
    holding = holding_start(user=user, position=world.position3, started_on=DAY)
    assert access.scope_of(user).is_holder

    holding_end(holding=holding, ended_on=DAY)

    assert not access.scope_of(user).is_holder


# --- holding_rotate -------------------------------------------------------------------------


def test_holding_rotate_ends_one_holding_and_starts_the_other_on_the_same_day(world):
    new = holding_rotate(holding=_holding(world), to_position=world.position2, on=DAY)

    old = Holding.objects.get(user=world.holder, position=world.position)
    assert old.ended_on == DAY
    assert (new.user_id, new.position, new.started_on, new.ended_on) == (world.holder.pk, world.position2, DAY, None)
    assert Holding.objects.filter(user=world.holder, ended_on__isnull=True).get() == new
    assert _audit("holding.end", old).count() == 1
    assert _audit("holding.start", new).count() == 1


def test_after_rotation_the_old_position_is_no_longer_editable_and_the_new_one_is(world):
    holding_rotate(holding=_holding(world), to_position=world.position2, on=DAY)

    user = _fresh(world.holder)
    assert not _holds(world.holder, world.position)
    assert _holds(world.holder, world.position2)
    assert not access.can_edit_risk_point(user, world.draft)
    assert not access.can_add_risk_point_to_position(user, world.position)
    assert access.can_edit_risk_point(user, world.draft2)
    assert access.can_add_risk_point_to_position(user, world.position2)
    assert set(access.risk_points_visible_to(user)) == {world.draft2}
    assert _holds(world.holder2, world.position2)  # the other holder of 复核岗 keeps it


def test_rotation_to_a_position_of_another_institution_moves_the_scope(world):
    holding_rotate(holding=_holding(world), to_position=world.position_b, on=DAY)

    user = _fresh(world.holder)
    assert set(access.institutions_visible_to(user)) == {world.b}
    assert set(access.risk_points_visible_to(user)) == {world.point_b}


def test_a_failed_rotation_changes_nothing(world):
    holding = _holding(world)

    with pytest.raises(ValidationError):
        holding_rotate(holding=holding, to_position=world.position2, on=START - datetime.timedelta(days=1))

    holding.refresh_from_db()
    assert holding.is_open
    assert not Holding.objects.filter(user=world.holder, position=world.position2).exists()
    assert _holds(world.holder, world.position) and not _holds(world.holder, world.position2)


# --- constraints of the holdings table ------------------------------------------------------


def test_the_database_refuses_two_open_holdings_of_one_user_on_one_position(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.create(user=world.holder, position=world.position, started_on=DAY)

    assert Holding.objects.filter(user=world.holder, position=world.position).count() == 1


def test_the_database_refuses_a_holding_that_ends_before_it_starts(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Holding.objects.filter(user=world.holder).update(ended_on=START - datetime.timedelta(days=1))

    assert _holding(world).is_open


def test_one_user_may_hold_two_positions_at_once(world):
    holding_start(user=world.holder, position=world.position2, started_on=DAY)

    assert access.scope_of(_fresh(world.holder)).held_position_ids == {world.position.pk, world.position2.pk}


# --- power_item_create ----------------------------------------------------------------------


@pytest.fixture
def approval(db):
    return PowerCategory.objects.get(institution=None, code="approval")


def test_power_item_create_with_ordered_steps_and_positions(world, approval):
    item = power_item_create(
        institution=world.a,
        department=world.dept,
        name="建设工程规划许可",
        category=approval,
        positions=[world.position2, world.position],
        steps=["申请", "受理", "审查", "决定"],
        legal_basis="《城乡规划法》第四十条",
        responsible_subject="审批科",
        commitment="法定时限内办结",
        by=world.principal,
    )

    item.refresh_from_db()
    assert list(item.steps.values_list("order", "name")) == [(1, "申请"), (2, "受理"), (3, "审查"), (4, "决定")]
    assert set(item.positions.all()) == {world.position, world.position2}
    assert (item.legal_basis, item.responsible_subject, item.commitment) == (
        "《城乡规划法》第四十条",
        "审批科",
        "法定时限内办结",
    )
    entry = _audit("power_item.create", item).get()
    assert (entry.actor, entry.institution) == (world.principal, world.a)


def test_power_item_create_without_steps_or_positions(world, approval):
    item = power_item_create(institution=world.a, name="其他事项", category=approval)

    assert not item.steps.exists()
    assert not item.positions.exists()
    assert item.department is None


def test_power_item_create_refuses_a_position_of_another_institution(world, approval):
    items, steps = PowerItem.objects.count(), ProcessStep.objects.count()

    with pytest.raises(ValidationError):
        power_item_create(
            institution=world.a,
            name="跨单位事项",
            category=approval,
            positions=[world.position, world.position_b],
            steps=["受理"],
        )

    assert (PowerItem.objects.count(), ProcessStep.objects.count()) == (items, steps)


def test_power_item_create_refuses_a_department_of_another_institution(world, approval):
    items = PowerItem.objects.count()

    with pytest.raises(ValidationError):
        power_item_create(institution=world.a, department=world.dept_b, name="跨单位事项", category=approval)

    assert PowerItem.objects.count() == items


@pytest.mark.django_db
def test_long_lists_options_read_from_rows_say_what_the_instances_say(world):
    """``RowChoices`` draws the rotation form's options from a few columns: each option must be
    the one Django would draw from the instance (its id, ``label_from_instance``), in order."""
    from positions.models import Holding, Position
    from positions.web.forms import RotationForm
    from risk_registry import access

    form = RotationForm(
        institution=world.a,
        people=access.people_of(type(world.a).objects.filter(pk=world.a.pk)),
        holdings=Holding.objects.all(),
        positions=Position.objects.all(),
    )
    for name in ("holding", "user", "position"):
        field = form.fields[name]
        drawn = [choice for choice in field.choices if choice[0] != ""]
        expected = [(obj.pk, field.label_from_instance(obj)) for obj in field.queryset]
        assert drawn == expected and drawn, name
