"""The risk points' tallies per institution and year (``PointTally``) and the charts' rows
(``PointSpread``): kept by PostgreSQL's statement triggers (migrations 0020, 0021) on every write of
points, rebuilt by ``reconcile_stored``.

The oracle is the points themselves, grouped in Python, read apart after every kind of write:
insert (one, in bulk, by COPY as the register import writes), a level changed (by ``save()``, in
bulk, by the scheme editor's band change), a state changed (a transition, in bulk), the stored
controls and runs changed, a delete (one, in bulk, by a cascade's shape: a queryset)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q, Sum

from controls.models import Control
from controls.services import control_quality_refresh, control_run_record
from risk_registry.dashboards import SPREAD, Groups
from risk_registry.models import PointSpread, PointTally, RiskPoint, RiskPointState
from risk_registry.models.tally import point_spreads_rebuild, point_tallies_rebuild
from risk_registry.organisation.copy import Copier
from risk_registry.organisation.models import GradeLevel
from risk_registry.services import grading_scheme_edit, risk_points_copy
from risk_registry.workflow.transitions import Change, transition_apply

pytestmark = pytest.mark.django_db

KEY = ("institution_id", "year", "level_band", "level_scheme_id")


def recount() -> dict[tuple, tuple[int, int, int]]:
    """(institution, year, band, scheme, submitted) → (points, controls, runs), from the points."""
    counts: dict[tuple, tuple[int, int, int]] = {}
    for *key, state, issued_before, controls, runs in RiskPoint.objects.values_list(
        *KEY, "state", "issued_before", "controls_count", "control_runs"
    ):
        full = (*key, state != RiskPointState.DRAFT or issued_before)
        total, control_total, run_total = counts.get(full, (0, 0, 0))
        counts[full] = (total + 1, control_total + controls, run_total + runs)
    return counts


def stored() -> dict[tuple, tuple[int, int, int]]:
    return {
        tuple(key): (total, controls, runs)
        for *key, total, controls, runs in PointTally.objects.exclude(total=0).values_list(
            *KEY, "submitted", "total", "controls", "runs"
        )
    }


SPREAD_KEY = (
    "institution_path",
    "year",
    "institution_id",
    "level_band",
    "risk_type_id",
    "power_item_id",
    "position_kind",
)
SPREAD_SUMS = (
    "points",
    "none_points",
    "vague_points",
    "regrade_points",
    "new_points",
    "raised_points",
    "lowered_points",
)


def spread_recount() -> dict[tuple, tuple[int, ...]]:
    """(path, year, institution, band, risk type, power item, post kind, submitted) → (points,
    without controls, vague, to re-grade, new, raised, lowered), from the points as
    ``dashboards.WATCHED`` counts them."""
    counts: dict[tuple, list[int]] = {}
    for point in RiskPoint.objects.all():
        key = (
            *(getattr(point, name) for name in SPREAD_KEY),
            point.state != RiskPointState.DRAFT or point.issued_before,
        )
        carried, rank = point.carried_from_rank, point.level_rank
        flags = (
            1,
            point.controls_count == 0,
            point.vague_controls > 0,
            point.needs_regrading,
            point.carried_from_id is None,
            carried is not None and carried > rank,
            carried is not None and carried < rank,
        )
        counts[key] = [total + flag for total, flag in zip(counts.get(key, [0] * 7), flags, strict=True)]
    return {key: tuple(totals) for key, totals in counts.items()}


def spread_stored() -> dict[tuple, tuple[int, ...]]:
    return {
        tuple(row[:8]): tuple(row[8:])
        for row in PointSpread.objects.exclude(points=0).values_list(*SPREAD_KEY, "submitted", *SPREAD_SUMS)
    }


def agrees() -> bool:
    tallies, points = stored(), recount()
    assert tallies == points
    assert spread_stored() == spread_recount()
    return bool(points)


def test_the_worlds_points_and_new_ones_are_tallied(world):
    assert agrees()
    point = world.submitted
    risk_points_copy(points=[point, world.draft], year=2027, state=RiskPointState.DRAFT, carried=True)
    assert agrees()
    RiskPoint.objects.bulk_create([RiskPoint(**{**_fields(point), "description": f"批量 {n}"}) for n in range(3)])
    assert agrees()
    assert stored()[(point.institution_id, point.year, point.level_band, point.level_scheme_id, True)][0] >= 4


def _fields(point: RiskPoint) -> dict:
    names = ("institution", "department", "position", "year", "risk_type", "likelihood", "severity", "level", "state")
    return {name: getattr(point, name) for name in names}


def test_a_copy_written_by_copy_is_tallied(world):
    """The register import's path: rows by PostgreSQL's COPY (``organisation.copy.Copier``), which
    fires the statement triggers as INSERT does."""
    point = world.finance_point
    columns = [
        "institution_id",
        "department_id",
        "year",
        "risk_type_id",
        "description",
        "likelihood",
        "severity",
        "level_id",
        "state",
        "graded_directly",
    ]
    copier = Copier(RiskPoint, columns)
    ids = copier.reserve(2)
    copier.write(
        (
            pk,
            point.institution_id,
            point.department_id,
            2028,
            point.risk_type_id,
            "导入的风险点",
            3,
            2,
            point.level_id,
            RiskPointState.SUBMITTED,
            False,
        )
        for pk in ids
    )
    assert agrees()
    assert stored()[(point.institution_id, 2028, point.level_band, point.level_scheme_id, True)][0] == 2


def test_a_level_changed_by_save_in_bulk_and_by_the_scheme_editor_moves_its_point(world):
    level = world.submitted.level
    other = GradeLevel.objects.filter(scheme_id=level.scheme_id).exclude(band=level.band).first()
    RiskPoint.objects.filter(pk=world.draft.pk).update(level=other)
    assert agrees()
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    point.level = other
    point.save()
    assert agrees()
    bands = dict(GradeLevel.objects.filter(scheme_id=level.scheme_id).values_list("code", "band"))
    grading_scheme_edit(
        by=world.discipline,
        institution=world.a,
        matrix=world.a.grading_scheme.matrix,
        bands={**bands, other.code: "low" if other.band != "low" else "high"},
    )
    assert agrees()


def test_a_state_changed_by_a_transition_or_in_bulk_moves_its_point_in_and_out_of_sight(world):
    key = (world.draft.institution_id, world.draft.year, world.draft.level_band, world.draft.level_scheme_id)
    before = stored().get((*key, True), (0, 0, 0))[0]
    transition_apply(by=world.holder, name="submit", changes=[Change(point_id=world.draft.pk)])
    assert agrees()
    assert stored()[(*key, True)][0] == before + 1
    RiskPoint.objects.filter(pk=world.draft.pk).update(state=RiskPointState.DRAFT)
    assert agrees()
    RiskPoint.objects.filter(pk=world.draft.pk).update(issued_before=True)  # reopened for revision: in sight
    assert agrees()
    assert stored()[(*key, True)][0] == before + 1


def test_controls_and_runs_stored_on_the_point_are_summed(world):
    point = world.submitted
    Control.objects.create(risk_point=point, line="prevention", measure="每月抽查审批记录", owner="科长")
    control_quality_refresh(RiskPoint.objects.filter(pk=point.pk))
    assert agrees()
    control = Control.objects.filter(risk_point=point).order_by("pk").first()
    control_run_record(by=world.holder, control=control, ran_on=datetime.date(point.year, 3, 2), description="双人复核")
    assert agrees()
    key = (point.institution_id, point.year, point.level_band, point.level_scheme_id, True)
    assert stored()[key][2] >= 1


def test_an_edit_that_changes_nothing_tallied_writes_no_tally(world):
    before = list(PointTally.objects.order_by("pk").values_list("pk", "total", "controls", "runs"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd + n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = 'risk_registry_pointtally'"
        )
        writes = cursor.fetchone()
        RiskPoint.objects.filter(pk__in=[world.draft.pk, world.submitted.pk]).update(description="只改了描述")
        cursor.execute(
            "SELECT n_tup_upd + n_tup_ins FROM pg_stat_xact_user_tables WHERE relname = 'risk_registry_pointtally'"
        )
        assert cursor.fetchone() == writes
    assert list(PointTally.objects.order_by("pk").values_list("pk", "total", "controls", "runs")) == before


def test_deletes_one_and_in_bulk_are_untallied(world):
    world.point_b.delete()
    assert agrees()
    RiskPoint.objects.filter(institution=world.a).delete()
    agrees()
    assert not any(key[0] == world.a.pk for key in stored())  # written down to zero, read as none


def test_reconcile_rebuilds_what_was_written_behind_the_triggers(world):
    with connection.cursor() as cursor:  # as seed_province's COPY as a replica: no trigger fires
        cursor.execute("SET LOCAL session_replication_role = replica")
        RiskPoint.objects.filter(pk=world.submitted.pk).update(year=2030)
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert stored() != recount()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert agrees()
    assert "risk point tallies: 2;" in out.getvalue()  # the year left and the year arrived at
    assert "risk point spreads: 2;" in out.getvalue()
    assert point_tallies_rebuild() == 0
    assert point_spreads_rebuild() == 0


def test_the_oversight_pages_spread_query_reads_the_key_index_alone(world):
    """The oversight page sums a subtree's spread rows by band, type, power item and post kind: the
    key index carries the sums, so PostgreSQL reads it alone (a city's 26,000 rows were 19,000 pages
    of the table at province scale)."""
    point_spreads_rebuild()
    stored = PointSpread.objects.filter(institution_path__startswith=world.a.path, year=2026, submitted=True)
    groups = Groups(RiskPoint.objects.none(), one_institution=False, stored=stored)
    submitted = RiskPoint.objects.filter(institution_path__startswith=world.a.path, year=2026).filter(
        ~Q(state=RiskPointState.DRAFT) | Q(issued_before=True)
    )
    assert sum(row["total"] for row in groups.rows) == submitted.count() > 0
    summed = stored.filter(points__gt=0).order_by().values(*SPREAD).annotate(total=Sum("points"))
    sql, params = summed.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using pointspread_unique_key" in plan
