"""The band, rank and scheme of a point's level stored on the point (``RiskPoint.level_band``,
``level_rank``, ``level_scheme_id``): kept by PostgreSQL's triggers (migration 0017), repaired by
``reconcile_stored``. The oracle is the join the columns replace, read apart, for every point."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel
from risk_registry.services import grading_scheme_edit, level_figures_refresh, risk_points_copy
from risk_registry.workflow.transitions import Change, transition_apply

pytestmark = pytest.mark.django_db

JOINED = ("pk", "level__band", "level__rank", "level__scheme_id")
STORED = ("pk", "level_band", "level_rank", "level_scheme_id")


def computed() -> dict[int, tuple]:
    return {pk: rest for pk, *rest in RiskPoint.objects.values_list(*JOINED)}


def stored() -> dict[int, tuple]:
    return {pk: rest for pk, *rest in RiskPoint.objects.values_list(*STORED)}


def figures_of(point: RiskPoint) -> tuple[str, int, int | None]:
    point.refresh_from_db()
    assert stored() == computed()  # every point, not only this one
    return point.level_band, point.level_rank, point.level_scheme_id


def test_points_and_copies_store_their_levels_figures(world):
    level = world.draft.level
    assert figures_of(world.draft) == (level.band, level.rank, level.scheme_id)
    assert level.band != ""
    copy = risk_points_copy(points=[world.draft], year=2027, state=RiskPointState.DRAFT, carried=True)[world.draft.pk]
    assert figures_of(copy) == (level.band, level.rank, level.scheme_id)


def test_a_point_given_another_level_follows_by_save_update_and_regrade(world):
    other = GradeLevel.objects.filter(scheme_id=world.draft.level.scheme_id).exclude(pk=world.draft.level_id).first()
    RiskPoint.objects.filter(pk=world.draft.pk).update(level=other)
    assert figures_of(world.draft) == (other.band, other.rank, other.scheme_id)
    point = RiskPoint.objects.get(pk=world.finance_point.pk)
    point.level = other
    point.save()
    assert figures_of(point) == (other.band, other.rank, other.scheme_id)
    # the register's path: the discipline office defines a new grade (likelihood 1 × severity 1)
    transition_apply(by=world.head, name="review", changes=[Change(point_id=world.submitted.pk)])
    before = figures_of(world.submitted)
    transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=world.submitted.pk, likelihood=1, severity=1, reason="重新界定")],
    )
    after = figures_of(world.submitted)
    level = RiskPoint.objects.get(pk=world.submitted.pk).level
    assert after == (level.band, level.rank, level.scheme_id) != before


def test_the_scheme_editors_band_change_and_a_rank_change_reach_the_levels_points(world):
    level = world.submitted.level
    bands = dict(GradeLevel.objects.filter(scheme_id=level.scheme_id).values_list("code", "band"))
    new_band = "low" if level.band != "low" else "high"
    grading_scheme_edit(
        by=world.discipline,
        institution=world.a,
        matrix=world.a.grading_scheme.matrix,
        bands={**bands, level.code: new_band},
    )
    assert figures_of(world.submitted)[0] == new_band
    assert RiskPoint.objects.filter(level=level).count() >= 2  # every point at that level, by the oracle above
    GradeLevel.objects.filter(pk=level.pk).update(rank=99)
    assert figures_of(world.submitted)[1] == 99


def test_reconcile_repairs_what_was_written_behind_the_triggers(world):
    RiskPoint.objects.filter(pk=world.draft.pk).update(level_band="", level_rank=0, level_scheme_id=None)
    RiskPoint.objects.filter(pk=world.dept_draft.pk).update(level_rank=42)  # as COPY with the triggers off
    assert stored() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert stored() == computed()
    assert out.getvalue().strip().endswith("whose level's figures were: 2")
    assert level_figures_refresh(RiskPoint.objects.all()) == 0
