"""In Chromium: the discipline office records a rule and revises it (its control's point is flagged),
downloads the 流程图 PDF, opens the public disclosure page to everyone, and a visitor without login
sees the flow and the discretion benchmark but no risk point. Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD
from controls.models import Control, Rule
from positions.models import PowerItem
from risk_registry.models import RiskPoint

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-desktop.png", full_page=True)


def test_rule_revision_catalogue_pdf_and_the_public_page(live_world, live_server, page):
    PowerItem.objects.filter(pk=live_world.power.pk).update(discretion="一般情形：5个工作日；复杂情形：10个工作日")
    RiskPoint.objects.filter(pk=live_world.submitted.pk).update(
        power_item=live_world.power, process_step=live_world.step
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/org/bureau-a/")
    page.click("[data-testid=rule-catalogue]")
    page.click("[data-testid=rule-create]")
    page.fill("#id_title", "审批工作规程")
    page.fill("#id_document_number", "甲局发〔2025〕3号")
    page.fill("#id_issuing_body", "甲局党组")
    page.fill("#id_effective_on", "2025-03-01")
    page.fill("#id_text", "第一条 审批实行双人审核。")
    page.click("[data-testid=rule-form] button[type=submit]")
    expect(page.locator("[data-testid=rule-fields]")).to_contain_text("甲局党组")
    rule = Rule.objects.get(title="审批工作规程")
    Control.objects.filter(risk_point=live_world.submitted).update(rule=rule)
    page.reload()
    expect(page.locator("[data-testid=rule-controls]")).to_contain_text("违规简化审批程序")

    page.click("[data-testid=revise-form] >> xpath=.. >> summary")
    page.fill("#id_on", "2026-06-01")
    page.fill("#id_text", "第一条 审批实行双人审核并留痕。")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=revise-form] button")
    expect(page.locator(".alert-success")).to_contain_text("1 个风险点")
    assert RiskPoint.objects.get(pk=live_world.submitted.pk).needs_regrading
    _shoot(page, "rule-detail")

    page.goto(f"{live_server.url}/org/bureau-a/powers/")
    page.select_option("#id_kind", "flows")
    page.select_option("#id_fmt", "pdf")
    with page.expect_download() as download_info:
        page.click("[data-testid=catalogue-export] button")
    download = download_info.value
    assert download.suggested_filename.startswith("甲局-权力运行流程图-") and download.suggested_filename.endswith(
        ".pdf"
    )

    page.goto(f"{live_server.url}/public/bureau-a/")
    page.select_option("#id_scope", "public")
    page.click("[data-testid=disclosure-scope] button")
    expect(page.locator("[data-testid=public-page]")).to_contain_text("本页面向社会公开")

    page.context.clear_cookies()  # a visitor without login
    page.goto(f"{live_server.url}/public/bureau-a/")
    expect(page.locator("[data-testid=flow-chart]")).to_contain_text("2. 审查")
    expect(page.locator("[data-testid=public-discretion]")).to_contain_text("一般情形：5个工作日")
    expect(page.locator("body")).not_to_contain_text("违规简化审批程序")
    expect(page.locator("body")).not_to_contain_text("钱纪检")
    _shoot(page, "public-disclosure")
