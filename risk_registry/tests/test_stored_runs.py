"""The control runs of a point's year stored on the point (``RiskPoint.control_runs``): kept by a
PostgreSQL trigger (migration 0015) on every write of a run, repaired by ``reconcile_stored``.

The oracle is the grouped count the column replaces, read apart: the runs of each point's controls
dated in the point's year."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from controls.models import Control, ControlRun
from controls.services import control_run_record
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.services import control_runs_refresh, risk_points_copy

pytestmark = pytest.mark.django_db


def computed() -> dict[int, int]:
    runs = {pk: 0 for pk in RiskPoint.objects.values_list("pk", flat=True)}
    for point_id, point_year, ran_on in ControlRun.objects.values_list(
        "control__risk_point", "control__risk_point__year", "ran_on"
    ):
        runs[point_id] += ran_on.year == point_year
    return runs


def stored() -> dict[int, int]:
    return dict(RiskPoint.objects.values_list("pk", "control_runs"))


def runs_of(point: RiskPoint) -> int:
    point.refresh_from_db()
    assert stored() == computed()  # every point, not only this one
    return point.control_runs


def record(world, point: RiskPoint, day: datetime.date) -> ControlRun:
    control = Control.objects.filter(risk_point=point).order_by("pk").first()
    return control_run_record(by=world.holder, control=control, ran_on=day, description="双人复核")


def test_recording_runs_counts_those_of_the_points_year(world):
    point = world.submitted
    assert runs_of(point) == 0
    record(world, point, datetime.date(point.year, 3, 2))
    record(world, point, datetime.date(point.year, 4, 2))
    assert runs_of(point) == 2
    record(world, point, datetime.date(point.year - 1, 12, 31))  # dated in another year: not this year's
    assert runs_of(point) == 2


def test_a_run_deleted_or_redated_is_uncounted(world):
    point = world.submitted
    first = record(world, point, datetime.date(point.year, 3, 2))
    second = record(world, point, datetime.date(point.year, 4, 2))
    first.delete()
    assert runs_of(point) == 1
    ControlRun.objects.filter(pk=second.pk).update(ran_on=datetime.date(point.year - 1, 4, 2))
    assert runs_of(point) == 0


def test_deleting_a_control_uncounts_its_runs(world):
    point = world.submitted
    record(world, point, datetime.date(point.year, 3, 2))
    Control.objects.filter(risk_point=point).delete()
    assert runs_of(point) == 0


def test_copies_start_without_runs(world):
    point = world.submitted
    record(world, point, datetime.date(point.year, 3, 2))
    copy = risk_points_copy(points=[point], year=point.year + 1, state=RiskPointState.DRAFT, carried=True)[point.pk]
    assert (runs_of(copy), runs_of(point)) == (0, 1)  # runs belong to the source's controls


def test_reconcile_recounts_what_was_written_behind_the_trigger(world):
    point = world.submitted
    record(world, point, datetime.date(point.year, 3, 2))
    RiskPoint.objects.filter(pk=point.pk).update(control_runs=0)  # as COPY with the triggers off
    RiskPoint.objects.filter(pk=world.draft.pk).update(control_runs=5)
    assert stored() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert stored() == computed()
    assert runs_of(point) == 1
    assert (
        out.getvalue()
        .strip()
        .endswith("whose control runs were: 2; whose post's kind was: 0; whose level's figures were: 0")
    )
    assert control_runs_refresh(RiskPoint.objects.all()) == 0
