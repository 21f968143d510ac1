"""The discipline office's grading matrix editor: a scheme change flags, never rewrites, filed points."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, GradeLevel, GradingScheme
from risk_registry.services import grading_scheme_edit, grading_scheme_switch
from risk_registry.workflow.transitions import Change, transition_apply
from tests.harness import grading_form

# Bureau A grades with 一级-highest: [["3","3","2"], ["3","2","2"], ["3","2","1"]] (likelihood rows).
# world.submitted sits in cell 2×2 (二级), world.finance_point in 3×2 (二级), world.draft in 3×3 (一级).


def _scheme(world) -> GradingScheme:
    return GradingScheme.objects.get(pk=world.a.grading_scheme_id)


def _bands(world) -> dict[str, str]:
    return dict(GradeLevel.objects.filter(scheme=_scheme(world)).values_list("code", "band"))


def _levels(world) -> dict[int, str]:
    return dict(RiskPoint.objects.filter(institution=world.a).values_list("pk", "level__name"))


def test_a_changed_cell_flags_its_live_points_and_never_changes_a_level(world):
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(state=RiskPointState.ISSUED)  # filed and issued
    old_year = RiskPoint.objects.create(
        institution=world.a,
        department=world.dept,
        year=2025,
        risk_type=world.risk_type,
        description="去年的点",
        likelihood=2,
        severity=2,
        level=world.submitted.level,
        state=RiskPointState.ISSUED,
    )
    levels_before = _levels(world)
    matrix = [["3", "3", "2"], ["3", "1", "2"], ["3", "1", "2"]]  # 2×2 and 3×2 up to 一级, 3×3 down to 二级

    flagged = grading_scheme_edit(by=world.discipline, institution=world.a, matrix=matrix, bands=_bands(world))

    assert flagged == 2
    assert _levels(world) == levels_before  # nobody's level was rewritten
    flags = set(RiskPoint.objects.filter(needs_regrading=True).values_list("pk", flat=True))
    assert flags == {world.submitted.pk, world.finance_point.pk}  # not the draft, not last year's point
    assert old_year.pk not in flags
    assert _scheme(world).matrix == matrix
    entry = AuditEntry.objects.get(action="grading_scheme.update")
    assert entry.actor == world.discipline and entry.institution == world.a
    assert entry.changes["matrix"] == [[["3", "3", "2"], ["3", "2", "2"], ["3", "2", "1"]], matrix]
    assert AuditEntry.objects.filter(action="risk_point.flag_regrading", target_id__in=flags).count() == 2


def test_a_flagged_point_takes_its_new_level_through_the_register_path(world):
    matrix = [["3", "3", "2"], ["3", "1", "2"], ["3", "2", "1"]]
    grading_scheme_edit(by=world.discipline, institution=world.a, matrix=matrix, bands=_bands(world))
    point = world.submitted

    transition_apply(by=world.head, name="review", changes=[Change(point_id=point.pk)])
    transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=point.pk, likelihood=2, severity=2, reason="分级矩阵调整后重新界定")],
    )

    point.refresh_from_db()
    assert point.level.name == "一级" and not point.needs_regrading
    assert point.state == RiskPointState.DEFINED


def test_a_band_change_alone_regrades_nothing(world):
    bands = {**_bands(world), "2": "high"}

    flagged = grading_scheme_edit(by=world.discipline, institution=world.a, matrix=_scheme(world).matrix, bands=bands)

    assert flagged == 0 and not RiskPoint.objects.filter(needs_regrading=True).exists()
    assert _bands(world) == {"1": "high", "2": "high", "3": "low"}
    assert AuditEntry.objects.get(action="grading_scheme.update").changes == {"bands": {"2": ["medium", "high"]}}


def test_saving_the_same_matrix_writes_nothing(world):
    assert (
        grading_scheme_edit(by=world.discipline, institution=world.a, matrix=_scheme(world).matrix, bands=_bands(world))
        == 0
    )
    assert not AuditEntry.objects.filter(action="grading_scheme.update").exists()


@pytest.mark.parametrize("persona", ["leader", "principal", "superior", "head", "outsider"])
def test_only_the_discipline_office_edits_the_matrix(world, persona):
    before = _scheme(world).matrix
    with pytest.raises(PermissionDenied):
        grading_scheme_edit(
            by=getattr(world, persona), institution=world.a, matrix=[["1"] * 3] * 3, bands=_bands(world)
        )
    assert _scheme(world).matrix == before


def test_the_page_refuses_an_unknown_level_with_a_clear_message(world, login):
    client = login(world.discipline)
    data = {**grading_form_data(world), "cell_1_1": "X"}

    response = client.post(reverse("grading_scheme_edit", args=["bureau-a"]), data)

    assert response.status_code == 200
    assert "请为每一格选择本方案的一个等级" in response.content.decode()
    assert _scheme(world).matrix[0][0] == "3"


def test_the_page_shows_each_cell_s_points_and_the_preview(world, login):
    client = login(world.discipline)
    html = client.get(reverse("grading_scheme_edit", args=["bureau-a"])).content.decode()

    assert 'data-testid="grading-matrix-editor"' in html and "data-preview-summary" in html
    assert 'name="cell_2_2"' in html and 'data-points="1"' in html  # world.submitted's cell
    assert "grading-matrix.js" in html


def grading_form_data(world) -> dict:
    class _Scene:
        w = world

    return grading_form(_Scene)  # type: ignore[arg-type]


def test_adopting_another_scheme_flags_the_live_points_and_keeps_their_levels(world):
    levels_before = _levels(world)

    flagged = grading_scheme_switch(by=world.discipline, institution=world.a, preset_code="level-3-highest")

    world.a.refresh_from_db()
    assert world.a.grading_scheme.code == "level-3-highest"
    assert flagged == 2 and _levels(world) == levels_before
    assert set(RiskPoint.objects.filter(needs_regrading=True).values_list("pk", flat=True)) == {
        world.submitted.pk,
        world.finance_point.pk,
    }
    with pytest.raises(PermissionDenied):
        grading_scheme_switch(by=world.leader, institution=world.a, preset_code="abc")
