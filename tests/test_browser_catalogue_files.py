"""In Chromium: the discipline office imports a power inventory from Excel (a bad file shows its
problems by row and column, a good one its preview, then the import), and records a rule with its
PDF, published, which a visitor downloads from the public page. Screenshots at desktop and phone
width go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD
from controls.models import Rule
from positions.models import Disclosure, PowerItem
from tests.test_power_import import good_rows, workbook_bytes

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SHOTS / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_inventory_import_and_a_rule_with_its_file_on_the_public_page(
    live_world, live_server, page, tmp_path, settings
):
    settings.RISK_REGISTRY_RULE_FILES_DIR = str(tmp_path / "rule-files")  # the live server's thread reads it
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"{live_server.url}/org/bureau-a/powers/")
    page.click("[data-testid=power-import]")
    with page.expect_download() as download_info:
        page.click("[data-testid=power-import-template]")
    assert download_info.value.suggested_filename == "甲局-职权目录导入模板.xlsx"

    bad = tmp_path / "有问题的职权目录.xlsx"
    bad.write_bytes(workbook_bytes([[1, "新职权", "不存在的类别", "", "不存在的岗位", "", "", "", ""]]))
    page.set_input_files("#file", str(bad))
    page.click("[data-testid=power-import-check]")
    problems = page.locator("[data-testid=problems]")
    expect(problems).to_contain_text("未知的职权类别“不存在的类别”")
    expect(problems).to_contain_text("行使岗位")
    _shoot(page, "power-import-problems")

    good = tmp_path / "职权目录.xlsx"
    good.write_bytes(workbook_bytes(good_rows()))
    page.set_input_files("#file", str(good))
    page.click("[data-testid=power-import-check]")
    expect(page.locator("[data-testid=preview]")).to_contain_text("新增职权事项 1 项，变更 1 项")
    _shoot(page, "power-import-preview")
    page.click("[data-testid=power-import-confirm]")
    expect(page.locator(".alert-success")).to_contain_text("新增职权事项 1 项")
    expect(page.locator("[data-testid=power-items]")).to_contain_text("大额资金支付审批")
    assert PowerItem.objects.filter(name="大额资金支付审批").exists()

    scan = tmp_path / "公务接待管理办法.pdf"
    scan.write_bytes(PDF)
    page.goto(f"{live_server.url}/org/bureau-a/rules/new/")
    page.fill("#id_title", "公务接待管理办法")
    page.fill("#id_document_number", "甲局发〔2026〕5号")
    page.fill("#id_issuing_body", "甲局党组")
    page.fill("#id_effective_on", "2026-02-01")
    page.check("#id_published")
    page.set_input_files("#id_attachment", str(scan))
    page.click("[data-testid=rule-form] button[type=submit]")
    expect(page.locator("[data-testid=rule-attachment]")).to_contain_text("公务接待管理办法.pdf")
    expect(page.locator("[data-testid=rule-text]")).to_contain_text("正文见附件")
    _shoot(page, "rule-with-attachment")
    rule = Rule.objects.get(title="公务接待管理办法")
    assert rule.published and rule.has_attachment

    Disclosure.objects.update_or_create(institution=live_world.a, defaults={"scope": Disclosure.Scope.PUBLIC})
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/public/bureau-a/")
    expect(page.locator("[data-testid=public-rules]")).to_contain_text("甲局发〔2026〕5号")
    with page.expect_download() as download_info:
        page.click("[data-testid=public-rule-attachment]")
    assert download_info.value.suggested_filename == "公务接待管理办法.pdf"
    page.locator("[data-testid=public-rules]").scroll_into_view_if_needed()
    _shoot(page, "public-rules")
