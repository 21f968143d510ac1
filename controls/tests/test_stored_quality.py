"""Stored control quality (``RiskPoint.controls_count``, ``vague_controls``): every service that
writes controls keeps it equal to what the controls are, and ``reconcile_stored`` repairs it.

The oracle is written apart from the SQL: each point's controls read in Python and judged by
``vague_control_reasons`` (the reasons the point form shows), so the stored figures, the SQL of
``vague_controls()`` and the form's words must all agree."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from controls.models import Control
from controls.quality import vague_control_reasons
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.services import risk_point_create, risk_point_update, risk_points_copy

pytestmark = pytest.mark.django_db

FINE = {"line": "prevention", "measure": "双人审核", "owner": "科长", "frequency": "each_time", "evidence": "审核单"}


def computed() -> dict[int, tuple[int, int]]:
    controls: dict[int, list[Control]] = {}
    for control in Control.objects.order_by("pk"):
        controls.setdefault(control.risk_point_id, []).append(control)
    figures = {}
    for point_id in RiskPoint.objects.values_list("pk", flat=True):
        mine = controls.get(point_id, [])
        followed_up = any(c.line == Control.Line.MONITORING for c in mine)
        vague = sum(
            1
            for c in mine
            if vague_control_reasons(
                measure=c.measure, owner=c.owner, frequency=c.frequency, evidence=c.evidence, followed_up=followed_up
            )
        )
        figures[point_id] = (len(mine), vague)
    return figures


def stored() -> dict[int, tuple[int, int]]:
    return {pk: (n, v) for pk, n, v in RiskPoint.objects.values_list("pk", "controls_count", "vague_controls")}


def figures(point: RiskPoint) -> tuple[int, int]:
    point.refresh_from_db()
    assert stored() == computed()  # every point, not only this one
    return point.controls_count, point.vague_controls


def draft(world, controls) -> RiskPoint:
    return risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields={
            "risk_type": world.risk_type,
            "found_by": "self",
            "description": "新风险",
            "likelihood": 2,
            "severity": 2,
        },
        controls=controls,
    )


def test_the_world_is_stored_as_computed(world):
    assert stored() == computed()
    assert figures(world.draft) == (1, 1)  # the world's control has no evidence


def test_create_update_delete_of_controls_keep_the_point_stored(world):
    point = draft(world, [FINE, {**FINE, "owner": ""}])
    assert figures(point) == (2, 1)  # one without an owner
    fine_id, vague_id = Control.objects.filter(risk_point=point).order_by("pk").values_list("pk", flat=True)

    risk_point_update(by=world.holder, risk_point=point, fields={}, controls=[{"id": vague_id, "owner": "股长"}])
    assert figures(point) == (2, 0)

    generic = {**FINE, "measure": "严格遵守有关规定"}  # a generic phrase: vague until a check follows it up
    risk_point_update(by=world.holder, risk_point=point, fields={}, controls=[generic])
    assert figures(point) == (3, 1)
    monitoring = {**FINE, "line": "monitoring", "measure": "纪检员每月抽查"}
    risk_point_update(by=world.holder, risk_point=point, fields={}, controls=[monitoring])
    assert figures(point) == (4, 0)  # another control of the point changed this one's verdict
    monitoring_id = Control.objects.get(risk_point=point, line="monitoring").pk
    risk_point_update(by=world.holder, risk_point=point, fields={}, controls=[{"id": monitoring_id, "delete": True}])
    assert figures(point) == (3, 1)

    everything = Control.objects.filter(risk_point=point).values_list("pk", flat=True)
    risk_point_update(
        by=world.holder, risk_point=point, fields={}, controls=[{"id": i, "delete": True} for i in everything]
    )
    assert figures(point) == (0, 0)
    assert fine_id not in set(Control.objects.values_list("pk", flat=True))


def test_copies_carry_their_figures(world):
    point = draft(world, [FINE, {**FINE, "frequency": ""}])
    copies = risk_points_copy(points=[point], year=2027, state=RiskPointState.DRAFT, carried=True)
    assert figures(copies[point.pk]) == (2, 1)


def test_reconcile_repairs_what_was_written_behind_the_services(world):
    point = draft(world, [FINE])
    Control.objects.create(risk_point=point, line="prevention", measure="按规定办理", owner="")  # no service
    RiskPoint.objects.filter(pk=world.draft.pk).update(controls_count=7)
    assert stored() != computed()
    out = StringIO()
    call_command("reconcile_stored", stdout=out)
    assert stored() == computed()
    assert figures(point) == (2, 1)
    assert "risk points whose control quality was: 2" in out.getvalue()
    call_command("reconcile_stored", stdout=out)
    assert (
        out.getvalue()
        .strip()
        .endswith(
            "tasks whose completion was stale: 0; task tallies: 0; risk point tallies: 0; "
            "risk point spreads: 0; "
            "risk points whose control quality was: 0; "
            "whose carried-from rank was: 0; whose control runs were: 0; whose post's kind was: 0; "
            "whose level's figures were: 0"
        )
    )
