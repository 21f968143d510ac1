"""In Chromium: a post holder logs in, opens their position, drafts a point with two controls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from controls.models import Control
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.browser


def test_holder_drafts_a_point_with_two_controls(live_world, live_server, page):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.fill("#id_username", "holder")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.locator("[data-testid=my-positions] a", has_text="审批岗").click()
    expect(page.locator("h1")).to_contain_text("审批岗")
    page.click("[data-testid=add-risk-point]")
    page.wait_for_load_state("load")  # the level preview's script listens before we choose

    page.select_option("#id_risk_type", label="业务流程风险")
    page.fill("#id_description", "受理环节对材料不全的申请人暗示“找关系”")
    page.fill("#id_manifestation", "拖延受理、索要好处")
    preview = page.locator("[data-testid=level-preview]")
    expect(preview).to_have_text("请选择可能性和严重程度")  # nothing chosen in advance
    page.select_option("#id_likelihood", "3")
    page.select_option("#id_severity", "2")
    scheme = live_world.a.grading_scheme
    expect(preview).to_have_text(scheme.levels.get(code=scheme.level_code_for(3, 2)).name)
    page.select_option("#id_power_item", label="企业登记审批")
    page.select_option("#id_controls-0-line", "prevention")
    page.fill("#id_controls-0-measure", "受理材料清单在窗口公示,一次性告知")
    page.fill("#id_controls-0-owner", "审批科科长")
    page.select_option("#id_controls-0-frequency", "monthly")
    page.fill("#id_controls-0-evidence", "一次性告知书存根")
    page.select_option("#id_controls-1-line", "monitoring")
    page.fill("#id_controls-1-measure", "纪检办每季度抽查受理记录")
    page.fill("#id_controls-1-owner", "纪检办")
    page.select_option("#id_controls-1-frequency", "quarterly")
    page.click("[data-testid=risk-point-form] button[type=submit]")

    expect(page.locator("[data-testid=risk-description]")).to_have_text("受理环节对材料不全的申请人暗示“找关系”")
    expect(page.locator("[data-testid=controls] tbody tr")).to_have_count(2)
    expect(page.locator("[data-testid=controls]")).to_contain_text("纪检办每季度抽查受理记录")

    page.click("[data-testid=nav-risks]")
    table = page.locator("[data-testid=risk-point-table]")
    expect(table).to_contain_text("受理环节对材料不全的申请人暗示")

    point = RiskPoint.objects.get(description="受理环节对材料不全的申请人暗示“找关系”")
    assert point.state == RiskPointState.DRAFT
    assert point.position == live_world.position
    assert point.level.name == "二级"  # likely (3) × 较严重 (2) under the 一级-highest preset
    assert Control.objects.filter(risk_point=point).count() == 2
    assert AuditEntry.objects.filter(target_type="risk_registry.riskpoint", target_id=point.pk).count() == 1
    assert AuditEntry.objects.filter(action="control.create", institution=live_world.a).count() >= 2
