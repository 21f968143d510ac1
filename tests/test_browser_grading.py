"""In Chromium: the superior's list across four schemes (label and band, the band filter, most
serious first, the legend), and the discipline office's matrix editor whose preview counts the
points a change will flag. Screenshots at desktop and phone width go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Institution
from risk_registry.organisation.services import department_create, grading_scheme_adopt_preset, institution_create
from risk_registry.selectors import current_year
from tests.browser import every, screenshot_both_widths, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
UNITS = (
    ("market", "市场监督管理局", "level-3-highest"),
    ("ecology", "生态环境局", "level-1-highest"),
    ("town", "青石镇", "abc"),
    ("village", "石桥村", "four-levels"),
)


def _shoot(page, name: str) -> None:
    screenshot_both_widths(page, SHOTS, name)


def _login(page, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def _county(world) -> None:
    for code, name, preset in UNITS:
        unit = institution_create(code=code, name=name, kind=Institution.Kind.BUREAU, parent=world.county)
        grading_scheme_adopt_preset(institution=unit, preset_code=preset)
        department = department_create(institution=unit, name="综合股")
        for level in GradeLevel.objects.filter(scheme=unit.grading_scheme):
            RiskPoint.objects.create(
                institution=unit,
                department=department,
                year=current_year(),
                risk_type=world.risk_type,
                description=f"{name}的{level.name}风险点",
                likelihood=1,
                severity=1,
                level=level,
                state=RiskPointState.SUBMITTED,
            )


def test_the_superior_filters_by_band_and_sorts_most_serious_first(live_world, live_server, page):
    _county(live_world)
    _login(page, live_server.url, "superior")
    page.goto(f"{live_server.url}/risks/?order=serious")
    rows = page.locator("[data-testid=risk-point-table] tbody tr")
    expect(rows.first.locator("[data-testid=band]")).to_have_text("高")
    expect(page.locator("[data-testid=band-legend]")).to_contain_text("三级分级(三级最高)")
    _shoot(page, "rank-list")

    page.select_option("#id_band", "low")  # htmx swaps the rows and pushes the URL
    expect(page.locator("[data-testid=risk-point-table]")).to_contain_text("市场监督管理局的一级风险点")
    expect(page.locator("[data-testid=risk-point-table]")).not_to_contain_text("市场监督管理局的三级风险点")
    for band in every(page.locator("[data-testid=risk-point-table] [data-testid=band]")):
        expect(band).to_have_text("低")


def test_the_discipline_office_previews_and_saves_a_matrix_change(live_world, live_server, page):
    _login(page, live_server.url, "discipline")
    page.goto(f"{live_server.url}/org/bureau-a/")
    page.click("[data-testid=edit-grading]")
    summary = page.locator("[data-testid=preview-summary]")
    expect(summary).to_contain_text("已修改 0 格")

    page.select_option("[name=cell_2_2]", "1")  # world.submitted's cell, 二级 → 一级
    expect(summary).to_contain_text("已修改 1 格")
    expect(summary).to_contain_text("标记 1 个风险点")
    _shoot(page, "rank-matrix-editor")

    page.click("[data-testid=grading-form] button[type=submit]")
    expect(page.locator(".alert-success, .alert")).to_contain_text("1 个风险点已标记为待重新定级")
    point = RiskPoint.objects.select_related("level").get(pk=live_world.submitted.pk)
    assert point.needs_regrading and point.level.name == "二级"
