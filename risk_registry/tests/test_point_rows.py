"""``point_rows`` reads tuples, not model instances (issue 15: the ORM read was most of an export's
time); what it yields must stay exactly ``point_row`` of the model, since filed snapshots and their
hashes are built from it."""

from __future__ import annotations

import pytest
from django.db.models import Prefetch

from controls.models import Control, Rule
from positions.models import Holding
from risk_registry.models import RiskPoint
from risk_registry.tests.documents_helpers import enrich_register
from risk_registry.workflow.snapshots import CHUNK, content_hash, point_row, point_rows

pytestmark = pytest.mark.django_db


def by_model(queryset, *, spanning=False) -> list[dict]:
    """The rows built from model instances, as the snapshots were built before."""
    points = queryset.select_related(
        "department", "position", "power_item__category", "process_step", "risk_type", "level__scheme", "institution"
    ).prefetch_related(
        Prefetch("controls", queryset=Control.objects.select_related("rule").in_line_order()),
        Prefetch(
            "position__holdings",
            queryset=Holding.objects.filter(ended_on__isnull=True).select_related("user").order_by("started_on", "id"),
        ),
    )
    rows = []
    for point in points:
        row = point_row(point)
        if spanning:
            row["institution"] = point.institution.name
            row["level"]["band"] = point.level.band
        rows.append(row)
    return rows


def varied(world):
    """Bureau A's points with every shape a row can take: no position, graded directly, a rule,
    controls on three lines written out of line order."""
    enrich_register(world)
    rule = Rule.objects.create(institution=world.a, title="“三重一大”集体决策制度")
    Control.objects.create(
        risk_point=world.submitted, line="prevention", measure="集体研究", rule=rule, evidence="纪要"
    )
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(likelihood=None, severity=None, graded_directly=True)
    return RiskPoint.objects.filter(institution=world.a)


def test_point_rows_are_point_row(world):
    points = varied(world)
    rows = list(point_rows(points))
    expected = {row["id"]: row for row in by_model(points)}
    assert len(rows) == len(expected) >= 4
    assert rows == [expected[row["id"]] for row in rows]  # the same dicts, key for key
    assert {row["id"]: list(row) for row in rows} == {pk: list(row) for pk, row in expected.items()}  # key order too
    shapes = {pk: row for pk, row in expected.items()}
    assert shapes[world.dept_draft.pk]["position"] == ""
    assert shapes[world.finance_point.pk]["graded_directly"] is True
    assert [c["line"] for c in shapes[world.submitted.pk]["controls"]][-1] == "disposition"
    assert "“三重一大”集体决策制度" in [c["rule"] for c in shapes[world.submitted.pk]["controls"]]
    assert content_hash({"points": rows}) == content_hash({"points": [expected[row["id"]] for row in rows]})


def test_point_rows_spanning_carry_institution_and_band(world):
    points = RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk, world.dept_draft.pk])
    varied(world)
    rows = list(point_rows(points, spanning=True))
    expected = {row["id"]: row for row in by_model(points, spanning=True)}
    assert rows == [expected[row["id"]] for row in rows]
    assert all(row["institution"] == world.a.name and "band" in row["level"] for row in rows)


def test_point_rows_read_controls_per_chunk_not_per_point(world, django_assert_max_num_queries, monkeypatch):
    points = varied(world)
    monkeypatch.setattr("risk_registry.workflow.snapshots.CHUNK", 2)  # several chunks from the few points
    count = points.count()
    assert count > 2 and CHUNK > 2
    chunks = -(-count // 2)
    with django_assert_max_num_queries(1 + 3 * chunks):  # the points, then controls, holders, scales per chunk
        rows = list(point_rows(points))
    assert len(rows) == count and all(row["controls"] is not None for row in rows)
