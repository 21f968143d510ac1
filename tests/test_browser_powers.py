"""In Chromium: the discipline office draws a power's flow with three steps, a point is pinned to a
step, the chart shows it; then records a rotation. Screenshots at desktop and phone width go to
var/screenshots/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from positions.models import Holding, PowerItem
from risk_registry.models import RiskPoint

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SHOTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_discipline_draws_a_flow_pins_a_point_and_records_a_rotation(live_world, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/org/bureau-a/")
    page.click("[data-testid=power-inventory]")
    expect(page.locator("[data-testid=power-items]")).to_contain_text("企业登记审批")
    page.click("[data-testid=power-create]")
    page.fill("#id_name", "政府采购")
    page.select_option("#id_category", index=1)
    page.select_option("#id_department", label="财务股")
    page.select_option("#id_positions", label="财务股 · 会计岗")
    page.fill("#id_discretion", "5万元以下：询价；5万元以上：公开招标")
    page.click("[data-testid=power-form] button[type=submit]")

    # the flow form: three steps in the blank rows
    rows = page.locator("[data-testid=step-row]")
    expect(rows).to_have_count(2)
    page.fill("#id_form-0-name", "提出采购需求")
    page.select_option("#id_form-0-handling_position", label="财务股 · 会计岗")
    page.fill("#id_form-0-time_limit", "3个工作日")
    page.fill("#id_form-1-name", "组织采购")
    page.fill("#id_form-1-supervision", "纪检办全程监督")
    page.click("[data-testid=steps-form] button[type=submit]")
    page.click("[data-testid=power-steps]")
    expect(page.locator("[data-testid=step-row]")).to_have_count(4)  # two steps and two blank rows
    page.fill("#id_form-2-name", "验收付款")
    page.fill("#id_form-2-counterpart_rights", "供应商可向县纪委监委投诉")
    page.click("[data-testid=steps-form] button[type=submit]")
    expect(page.locator("[data-testid=flow-step]")).to_have_count(3)

    item = PowerItem.objects.get(name="政府采购")
    step = item.steps.get(order=2)
    RiskPoint.objects.filter(pk=live_world.finance_point.pk).update(
        power_item=item, process_step=step, year=timezone.localdate().year
    )
    page.reload()
    expect(page.locator("[data-testid=flow-pin]")).to_contain_text("虚报冒领")
    expect(page.locator("[data-testid=flow-table]")).to_contain_text("纪检办全程监督")
    _shoot(page, "power-flow")

    page.goto(f"{live_server.url}/org/bureau-a/rotation/")
    page.select_option("#id_kind", "rotate")
    page.select_option("#id_holding", label="张审批 · 审批科 · 审批岗")
    page.select_option("#id_position", label="财务股 · 会计岗")
    page.fill("#id_on", "2026-07-01")
    _shoot(page, "rotation")
    page.click("[data-testid=rotation-form] button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("风险点已标记为待重新定级")
    expect(page.locator("[data-testid=rotation-history]")).to_contain_text("结束任职")
    assert Holding.objects.filter(ended_on="2026-07-01").count() == 1
