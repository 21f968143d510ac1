"""In Chromium: the discipline office draws a power's flow with three steps, a point is pinned to a
step, the chart shows it; then records a rotation. The walk the issue asks for: a flow of three
steps drawn in the forms, a holder pins a risk point to a step in the point's own form, the office
prints the chart (print rules, and the page as a PDF) and files the 流程图 PDF, and a visitor
without login sees the flow on the public page, without the point. Screenshots at desktop and
phone width, and the PDFs, go to var/screenshots/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from positions.models import Disclosure, Holding, PowerItem
from risk_registry.models import RiskPoint, RiskPointState

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


def _log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_the_issue_walk_flow_pinned_point_print_pdf_and_public_page(live_world, live_server, page):
    _log_in(page, live_server, "discipline")
    page.goto(f"{live_server.url}/org/bureau-a/powers/new/")
    page.fill("#id_name", "政府采购")
    page.select_option("#id_category", index=1)
    page.select_option("#id_department", label="财务股")
    page.select_option("#id_positions", label="财务股 · 会计岗")
    page.fill("#id_discretion", "5万元以下：询价；5万元以上：公开招标")
    page.click("[data-testid=power-form] button[type=submit]")
    page.fill("#id_form-0-name", "提出采购需求")
    page.select_option("#id_form-0-handling_position", label="财务股 · 会计岗")
    page.fill("#id_form-0-time_limit", "3个工作日")
    page.fill("#id_form-1-name", "组织采购")
    page.fill("#id_form-1-supervision", "纪检办全程监督")
    page.click("[data-testid=steps-form] button[type=submit]")
    page.click("[data-testid=power-steps]")
    page.fill("#id_form-2-name", "验收付款")
    page.fill("#id_form-2-counterpart_rights", "供应商可向县纪委监委投诉")
    page.click("[data-testid=steps-form] button[type=submit]")
    expect(page.locator("[data-testid=flow-step]")).to_have_count(3)
    item = PowerItem.objects.get(name="政府采购")

    # the holder of 会计岗 pins a risk point to the second step in the point's form
    _log_in(page, live_server, "holder3")
    page.goto(f"{live_server.url}/positions/{live_world.position3.pk}/")
    page.click("[data-testid=add-risk-point]")
    page.wait_for_load_state("load")
    page.select_option("#id_risk_type", label="业务流程风险")
    page.fill("#id_description", "组织采购时指定品牌、量身定制参数")
    page.select_option("#id_likelihood", "3")
    page.select_option("#id_severity", "3")
    page.select_option("#id_power_item", label="政府采购")
    page.select_option("#id_process_step", label="政府采购 · 2. 组织采购")
    page.click("[data-testid=risk-point-form] button[type=submit]")
    expect(page.locator("[data-testid=risk-description]")).to_have_text("组织采购时指定品牌、量身定制参数")
    point = RiskPoint.objects.get(description="组织采购时指定品牌、量身定制参数")
    assert point.process_step == item.steps.get(order=2)
    RiskPoint.objects.filter(pk=point.pk).update(state=RiskPointState.SUBMITTED)  # submitting is the workflow's walk

    # the office sees it pinned to its step, and prints the chart
    _log_in(page, live_server, "discipline")
    page.goto(f"{live_server.url}/powers/{item.pk}/")
    pin = page.locator("[data-testid=flow-pin]")
    expect(pin).to_have_count(1)
    expect(pin).to_contain_text("组织采购时指定品牌")
    expect(page.locator("[data-testid=flow-step]").nth(1)).to_contain_text("组织采购时指定品牌")  # on step 2
    expect(page.locator("[data-testid=power-print]")).to_be_visible()
    _shoot(page, "issue-walk-flow")
    page.emulate_media(media="print")
    expect(page.locator(".app-nav")).to_be_hidden()
    expect(page.locator("[data-testid=power-print]")).to_be_hidden()
    expect(page.locator("[data-testid=flow-chart]")).to_be_visible()
    expect(page.locator("[data-testid=flow-table]")).to_contain_text("供应商可向县纪委监委投诉")
    SHOTS.mkdir(parents=True, exist_ok=True)
    printed = page.pdf(path=SHOTS / "issue-walk-printed.pdf", format="A4")
    assert printed.startswith(b"%PDF")
    page.emulate_media(media="screen")

    # the 流程图 collection as a PDF, through the catalogue export
    page.goto(f"{live_server.url}/org/bureau-a/powers/")
    page.select_option("#id_kind", "flows")
    page.select_option("#id_fmt", "pdf")
    with page.expect_download() as download_info:
        page.click("[data-testid=catalogue-export] button")
    download = download_info.value
    assert download.suggested_filename.startswith("甲局-权力运行流程图-")
    download.save_as(SHOTS / "issue-walk-flows.pdf")
    assert (SHOTS / "issue-walk-flows.pdf").read_bytes().startswith(b"%PDF")

    # the office opens the public page; a visitor without login sees the flow, not the point
    page.goto(f"{live_server.url}/public/bureau-a/")
    page.select_option("#id_scope", "public")
    page.click("[data-testid=disclosure-scope] button")
    assert Disclosure.objects.get(institution=live_world.a).scope == Disclosure.Scope.PUBLIC
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/public/bureau-a/")
    section = page.locator("[data-testid=public-power]", has_text="政府采购")
    expect(section.locator("[data-testid=flow-step]")).to_have_count(3)
    expect(section).to_contain_text("5万元以下：询价")
    expect(section).to_contain_text("纪检办全程监督")
    expect(page.locator("body")).not_to_contain_text("组织采购时指定品牌")
    expect(page.locator("[data-testid=flow-pin]")).to_have_count(0)
    _shoot(page, "issue-walk-public")
