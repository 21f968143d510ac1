"""Quality warnings: vague controls, grading by rank alone, positions without points, points
without controls. Warnings only: nothing here blocks a step."""

from __future__ import annotations

from django.utils.translation import gettext

from controls.models import Control
from controls.services import control_quality_refresh
from positions.models import Position
from positions.services import position_create
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import GradeLevel
from risk_registry.workflow.quality import quality_report


def _report(world):
    # The tests write controls directly; the services that write them also store each point's
    # control quality, which the report counts from (``control_quality_refresh``).
    control_quality_refresh(RiskPoint.objects.filter(institution=world.a))
    return quality_report(points=RiskPoint.objects.filter(institution=world.a), institution_id=world.a.pk, year=2026)


def test_the_world_has_no_vague_control(world):
    # every point of the world has "双人审核", owner 科长, each time — but no evidence
    report = _report(world)
    assert {row["reasons"] for row in report.vague_controls} == {gettext("no evidence")}


def test_a_generic_phrase_without_follow_up_is_vague(world):
    Control.objects.create(
        risk_point=world.draft,
        line="prevention",
        measure="严格按照规章制度办事",
        owner="全体",
        frequency="each_time",
        evidence="记录",
    )
    rows = [r for r in _report(world).vague_controls if r["measure"] == "严格按照规章制度办事"]
    assert len(rows) == 1 and gettext("a generic phrase with no follow-up check") in rows[0]["reasons"]
    Control.objects.create(
        risk_point=world.draft,
        line="monitoring",
        measure="纪检办每季度抽查",
        owner="纪检办",
        frequency="quarterly",
        evidence="抽查记录",
    )
    assert not [r for r in _report(world).vague_controls if r["measure"] == "严格按照规章制度办事"]


def test_points_without_controls_and_positions_without_points(world):
    Control.objects.filter(risk_point=world.draft).delete()
    idle = position_create(department=world.dept, title="档案岗")
    world.power.positions.add(idle)
    report = _report(world)
    assert [row["id"] for row in report.points_without_controls] == [world.draft.pk]
    assert [row["title"] for row in report.positions_without_points] == ["档案岗"]


def test_grading_by_rank_alone_is_named(world):
    top = GradeLevel.objects.get(scheme=world.a.grading_scheme, rank=1)
    bottom = GradeLevel.objects.get(scheme=world.a.grading_scheme, rank=3)
    Position.objects.filter(pk=world.position.pk).update(kind=Position.Kind.PRINCIPAL)
    Position.objects.filter(pk=world.position2.pk).update(kind=Position.Kind.GENERAL)
    Position.objects.filter(pk=world.position3.pk).update(kind=Position.Kind.GENERAL)
    RiskPoint.objects.filter(position=world.position).update(level=top)
    RiskPoint.objects.filter(position__in=[world.position2, world.position3]).update(level=bottom)
    assert _report(world).graded_by_rank.startswith(gettext("Levels follow position rank exactly")[:8])
    RiskPoint.objects.filter(pk=world.draft2.pk).update(level=top)  # one general post graded on its merits
    assert _report(world).graded_by_rank == ""


def _quality_block(client) -> str:
    body = client.get("/registers/bureau-a/2026/").content.decode()
    block = body[body.index('data-testid="quality-warnings"') :]
    return block[: block.index("</div>")]


def test_the_warnings_link_the_points_they_cite_by_description_never_by_id(world, client):
    """Issue 16: a warning cited "#98" as plain text. It names the point by its description, as a link
    to the point (the report reads only points the reader may see: the access module's)."""
    client.force_login(world.discipline)
    link = f'href="/risks/{world.submitted.pk}/"'
    vague = _quality_block(client)  # the world's controls keep no evidence: vague
    assert link in vague and world.submitted.description[:8] in vague and f"#{world.submitted.pk}" not in vague
    Control.objects.filter(risk_point=world.submitted).delete()
    control_quality_refresh(RiskPoint.objects.filter(pk=world.submitted.pk))  # as the services do
    bare = _quality_block(client)  # now without any control
    assert "尚无防控措施" in bare and link in bare and f"#{world.submitted.pk}" not in bare
