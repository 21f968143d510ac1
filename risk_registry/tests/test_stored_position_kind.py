"""The kind of a point's post stored on the point (``RiskPoint.position_kind``, "" for a
department's point): kept by PostgreSQL's triggers (migration 0016), repaired by
``reconcile_stored``. The oracle is the join the column replaces, read apart."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from positions.models import Position
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.services import position_kind_refresh, risk_points_copy

pytestmark = pytest.mark.django_db


def computed() -> dict[int, str]:
    return {pk: kind or "" for pk, kind in RiskPoint.objects.values_list("pk", "position__kind")}


def stored() -> dict[int, str]:
    return dict(RiskPoint.objects.values_list("pk", "position_kind"))


def kind_of(point: RiskPoint) -> str:
    point.refresh_from_db()
    assert stored() == computed()  # every point, not only this one
    return point.position_kind


def test_points_and_copies_store_their_posts_kind(world):
    assert kind_of(world.draft) == world.position.kind != ""
    assert kind_of(world.dept_draft) == ""  # a department's point has no post
    copy = risk_points_copy(points=[world.draft], year=2027, state=RiskPointState.DRAFT, carried=True)[world.draft.pk]
    assert kind_of(copy) == world.position.kind


def test_a_posts_new_kind_and_a_point_moved_to_another_post_follow(world):
    Position.objects.filter(pk=world.position.pk).update(kind=Position.Kind.PRINCIPAL)
    assert kind_of(world.draft) == Position.Kind.PRINCIPAL
    RiskPoint.objects.filter(pk=world.draft.pk).update(position=world.position3)
    world.position3.refresh_from_db()
    assert kind_of(world.draft) == world.position3.kind
    RiskPoint.objects.filter(pk=world.draft.pk).update(position=None)
    assert kind_of(world.draft) == ""


def test_reconcile_repairs_what_was_written_behind_the_triggers(world):
    RiskPoint.objects.filter(pk=world.draft.pk).update(position_kind="")  # as COPY with the triggers off
    RiskPoint.objects.filter(pk=world.dept_draft.pk).update(position_kind=Position.Kind.DEPUTY)
    assert stored() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert stored() == computed()
    assert out.getvalue().strip().endswith("whose post's kind was: 2; whose level's figures were: 0")
    assert position_kind_refresh(RiskPoint.objects.all()) == 0
