"""In Chromium: the discipline office adds a level to its warning grade scale; the county's ledger
across two scales sorts most serious first with each item's own label, its band and the legend; the
grading page's preset switch previews "这N个风险点将被标记为需要重新定级" and switches on confirmation.
Screenshots at desktop and phone width go to var/screenshots/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD
from integrity_warnings.grades import LevelRow, scale_of, warning_grades_save
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Institution, Role
from risk_registry.organisation.services import membership_grant
from tests.browser import screenshot_both_widths, sign_in
from tests.warnings_helpers import inspection_item

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _shoot(page, name: str) -> None:
    screenshot_both_widths(page, SHOTS, name)


def _login(page, url: str, username: str) -> None:
    sign_in(page, url, username, PASSWORD)


def test_the_office_adds_a_level_to_its_scale(live_world, live_server, page):
    _login(page, live_server.url, "discipline")
    page.goto(f"{live_server.url}/warnings/")
    page.click("[data-testid=warning-grades]")
    expect(page.locator("[data-testid=scale-owner]")).to_contain_text("默认预警等级标准")
    rows = page.locator("[data-testid=grades-table] tbody tr")
    empty = rows.nth(3)
    empty.locator("input[name$=-label]").fill("轻微")
    empty.locator("input[name$=-rank]").fill("4")
    empty.locator("select[name$=-band]").select_option("low")
    _shoot(page, "warning-grades")
    page.click("[data-testid=grades-save]")
    expect(page.locator(".alert-success")).to_contain_text("预警等级标准已保存")
    expect(page.locator("[data-testid=scale-owner]")).to_contain_text("本单位已设定自己的预警等级标准")
    assert [g.label for g in scale_of(Institution.objects.get(pk=live_world.a.pk))] == ["一级", "二级", "三级", "轻微"]


def test_the_county_ledger_across_two_scales(live_world, live_server, page):
    world = live_world
    membership_grant(user=world.superior, institution=world.county, role=Role.DISCIPLINE)
    rows = [
        LevelRow(None, label, rank, band)
        for label, rank, band in (("红", 1, "high"), ("橙", 2, "medium"), ("黄", 3, "low"), ("蓝", 4, "low"))
    ]
    warning_grades_save(by=world.superior, institution=world.b, rows=rows)
    for institution, rank, subject in (
        (world.a, 3, world.holder),
        (world.b, 1, world.outsider_holder),
        (world.b, 4, world.outsider_holder),
        (world.a, 1, world.holder),
    ):
        inspection_item(
            world,
            by=world.superior,
            institution=institution,
            grade=rank,
            subject_user=subject,
            risk_points=[],
            received_on=datetime.date(2026, 2, 10 + rank),
        )
    _login(page, live_server.url, "superior")
    page.goto(f"{live_server.url}/warnings/?order=serious")
    table = page.locator("[data-testid=ledger] tbody tr")
    expect(table.first.locator("[data-testid=band]")).to_have_text("高")
    expect(table.last).to_contain_text("蓝")
    expect(page.locator("[data-testid=grade-legend]")).to_contain_text("红=高、橙=中、黄=低、蓝=低")
    _shoot(page, "warning-ledger-scales")
    page.select_option("#id_band", "low")
    page.click("[data-testid=ledger-filters] button:has-text('筛选')")
    expect(page.locator("[data-testid=ledger] tbody tr")).to_have_count(2)


def test_the_office_switches_the_grading_preset_after_the_preview(live_world, live_server, page):
    filed = RiskPoint.objects.filter(institution=live_world.a, year=2026).exclude(state="draft").count()
    _login(page, live_server.url, "discipline")
    page.goto(f"{live_server.url}/org/bureau-a/grading/")
    page.click("[data-testid=grading-switch-link]")
    page.select_option("#id_preset", "abc")
    page.click("[data-testid=switch-preview-form] button")
    expect(page.locator("[data-testid=switch-count]")).to_have_text(f"这{filed}个风险点将被标记为需要重新定级。")
    _shoot(page, "grading-switch")
    page.check("#id_confirm")
    page.click("[data-testid=switch-submit]")
    expect(page.locator(".alert-success")).to_contain_text(f"{filed}个风险点已标记为需要重新定级")
    assert RiskPoint.objects.filter(institution=live_world.a, needs_regrading=True).count() == filed
