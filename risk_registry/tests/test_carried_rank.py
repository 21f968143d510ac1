"""The stored rank of the point a point was carried from (``RiskPoint.carried_from_rank``): kept by
PostgreSQL's triggers (migration 0014) on every write path, and repaired by ``reconcile_stored``.

The oracle is the join the column replaces: each point's source's level's rank, read apart."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel
from risk_registry.services import carried_rank_refresh, risk_point_update, risk_points_copy

pytestmark = pytest.mark.django_db


def computed() -> dict[int, int | None]:
    ranks = dict(RiskPoint.objects.values_list("pk", "level__rank"))
    return {pk: ranks[source] if source else None for pk, source in RiskPoint.objects.values_list("pk", "carried_from")}


def stored() -> dict[int, int | None]:
    return dict(RiskPoint.objects.values_list("pk", "carried_from_rank"))


def carried(point: RiskPoint) -> RiskPoint:
    return risk_points_copy(points=[point], year=point.year + 1, state=RiskPointState.DRAFT, carried=True)[point.pk]


def rank_of(point: RiskPoint) -> int | None:
    point.refresh_from_db()
    assert stored() == computed()  # every point, not only this one
    return point.carried_from_rank


def test_a_carried_copy_stores_its_sources_rank_and_a_fresh_copy_none(world):
    copy = carried(world.draft)
    assert rank_of(copy) == world.draft.level.rank is not None
    fresh = risk_points_copy(points=[world.submitted], year=2027, state=RiskPointState.DRAFT, carried=False)
    assert rank_of(fresh[world.submitted.pk]) is None
    assert rank_of(world.draft) is None  # not carried from anything


def test_regrading_the_source_follows_into_its_copies(world):
    copy = carried(world.draft)
    before = rank_of(copy)
    risk_point_update(by=world.holder, risk_point=world.draft, fields={"likelihood": 1, "severity": 1})
    world.draft.refresh_from_db()
    assert rank_of(copy) == world.draft.level.rank != before


def test_a_bulk_level_change_follows_too(world):
    copy = carried(world.submitted)
    other = GradeLevel.objects.filter(scheme=world.submitted.level.scheme).exclude(rank=world.submitted.level.rank)
    level = other.first()
    RiskPoint.objects.filter(pk=world.submitted.pk).update(level=level)  # no service: the trigger still holds
    assert rank_of(copy) == level.rank


def test_a_levels_new_rank_follows_into_the_points_carried_from_it(world):
    copy = carried(world.draft)
    level = world.draft.level
    GradeLevel.objects.filter(pk=level.pk).update(rank=level.rank + 10)
    assert rank_of(copy) == level.rank + 10


def test_rewiring_or_deleting_the_source_follows(world):
    copy = carried(world.draft)
    RiskPoint.objects.filter(pk=copy.pk).update(carried_from=world.submitted)
    assert rank_of(copy) == world.submitted.level.rank
    world.submitted.delete()  # carried_from is SET_NULL: the copy is "new" now, with no source rank
    assert rank_of(copy) is None


def test_reconcile_repairs_what_was_written_behind_the_triggers(world):
    copy, other = carried(world.draft), carried(world.submitted)
    RiskPoint.objects.filter(pk=copy.pk).update(carried_from_rank=99)  # as COPY with the triggers off
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(carried_from_rank=2)  # a rank and no source
    RiskPoint.objects.filter(pk=other.pk).update(carried_from_rank=None)
    assert stored() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert stored() == computed()
    assert rank_of(copy) == world.draft.level.rank
    assert (
        out.getvalue()
        .strip()
        .endswith(
            "whose carried-from rank was: 3; whose control runs were: 0; whose post's kind was: 0; "
            "whose level's figures were: 0"
        )
    )
    assert carried_rank_refresh(RiskPoint.objects.all()) == 0  # nothing left to repair
