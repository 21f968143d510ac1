"""In Chromium: the discipline office brings in the three published layouts of issue 18 through the
import wizard (upload → columns → values → check → confirm), nothing of them lost; the level words
shown against the scheme's order and colours; the mapping remembered for the next import."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from risk_registry.documents.models import ImportMapping
from risk_registry.documents.rendering import export_dir
from risk_registry.models import RiskPoint
from risk_registry.tests import wizard_layouts as layouts
from risk_registry.tests.test_import_wizard import assert_nothing_lost, positions_xlsx

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("WIZARD_SHOTS", "")  # a folder to keep screenshots of each step in, when set


def shoot(page, name: str) -> None:
    """At desktop and phone width (a screenshot of each when WIZARD_SHOTS names a folder): nothing
    wider than the phone, wide tables scroll inside their frame."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


def through_the_wizard(
    page, base: str, data: bytes, tmp_path, name: str, *, year: str, state: str = "draft", choose=None
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.goto(f"{base}/documents/import/bureau-a/wizard/")
    page.set_input_files("#file", str(path))
    page.fill("#year", year)
    page.click("[data-testid=wizard-upload]")
    expect(page.locator("[data-testid=preview-grid]")).to_be_visible()
    shoot(page, f"{name}-2-columns")
    page.click("[data-testid=wizard-columns]")
    expect(page.locator("[data-testid=wizard-values]")).to_be_visible()
    if page.locator("#default_risk_type").count():
        page.select_option("#default_risk_type", index=1)
    page.check(f"#state_{state}")
    if choose:
        choose(page)
    shoot(page, f"{name}-3-values")
    page.click("[data-testid=wizard-values]")
    expect(page.locator("[data-testid=preview]")).to_be_visible()
    shoot(page, f"{name}-4-check")
    page.click("[data-testid=wizard-confirm]")
    page.wait_for_url("**/risks/**")


def test_three_published_layouts_through_the_wizard(live_world, live_server, page, tmp_path):
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/documents/import/bureau-a/wizard/")
    page.fill("#id_username", "discipline")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=wizard-upload]")).to_be_visible()
    shoot(page, "1-upload")

    def housing_levels(page) -> None:
        # The scheme in its order with its colours, and each word of the file with the level it goes to.
        expect(page.locator("[data-testid=scheme-order] .level-badge")).to_have_count(3)
        # each level with its county-wide band beside rank and colour (高/中/低)
        expect(page.locator("[data-testid=scheme-order] [data-testid=band]")).to_have_text(["高", "中", "低"])
        expect(page.locator("[data-testid=level-map]")).to_contain_text("高")
        assert page.locator("[data-testid=level-高]").input_value() == "1"
        assert page.locator("[data-testid=level-低]").input_value() == "3"
        # Choosing another level shows it at once, coloured, with its rank; then back.
        page.select_option("[data-testid=level-低]", "1")
        now = page.locator("[data-testid=level-map] tr", has=page.locator("[data-testid=level-低]")).locator(
            "[data-level-now]"
        )
        expect(now).to_contain_text("一级")
        expect(now.locator(".band-badge")).to_have_text("高")
        page.select_option("[data-testid=level-低]", "3")

    through_the_wizard(
        page,
        base,
        layouts.housing_xlsx(),
        tmp_path,
        "住建局.xlsx",
        year="2026",
        state="submitted",
        choose=housing_levels,
    )
    assert_nothing_lost(
        layouts.HOUSING_ROWS,
        layouts.HOUSING_HEADER,
        level_column=4,
        measure_column=5,
        level_map={"高": "1", "中": "2", "低": "3"},
    )
    first = RiskPoint.objects.filter(import_order=1).order_by("id").first()
    page.goto(f"{base}/risks/{first.pk}/")
    expect(page.locator("[data-testid=graded-directly]")).to_be_visible()
    shoot(page, "5-point")
    RiskPoint.objects.filter(import_order__isnull=False).update(import_order=None)  # the next file's rows

    through_the_wizard(page, base, layouts.market_xlsx(), tmp_path, "市场监管局.xlsx", year="2026", state="issued")
    assert_nothing_lost(
        layouts.MARKET_ROWS,
        layouts.MARKET_HEADER,
        level_column=3,
        measure_column=4,
        level_map={"一级": "1", "二级": "2", "三级": "3"},
    )
    RiskPoint.objects.filter(import_order__isnull=False).update(import_order=None)

    def company_level(page) -> None:
        page.select_option("#default_level", "3")

    through_the_wizard(page, base, layouts.company_xlsx(), tmp_path, "公司.xlsx", year="2026", choose=company_level)
    assert_nothing_lost(layouts.COMPANY_ROWS, layouts.COMPANY_HEADER, measure_column=3)

    # The second import of the same layout: the columns come from the remembered mapping.
    assert ImportMapping.objects.filter(institution=live_world.a).exists()
    path = tmp_path / "公司2027.xlsx"
    path.write_bytes(layouts.company_xlsx())
    page.goto(f"{base}/documents/import/bureau-a/wizard/")
    page.set_input_files("#file", str(path))
    page.fill("#year", "2027")
    page.click("[data-testid=wizard-upload]")
    expect(page.locator("[data-testid=remembered]")).to_be_visible()
    page.click("form[action$='/restart/'] button")

    # A position near an existing title of its department is matched to it; an unknown one created.
    RiskPoint.objects.filter(import_order__isnull=False).update(import_order=None)

    def match_position(page) -> None:
        near = page.locator("[data-testid='position-审批科·审批岗位']")
        expect(near.locator("option:checked")).to_have_text("新建“审批科·审批岗位”")
        expect(near).to_contain_text("即审批岗（名称相近）")
        near.select_option(str(live_world.position.pk))
        expect(page.locator("[data-testid='position-财务股·出纳岗'] option")).to_have_count(3)  # new, 会计岗, none

    through_the_wizard(page, base, positions_xlsx(), tmp_path, "岗位.xlsx", year="2026", choose=match_position)
    imported = RiskPoint.objects.filter(import_order__isnull=False).select_related("position").order_by("import_order")
    assert [p.position.title for p in imported] == ["审批岗", "复核岗", "出纳岗"]
    for waiting in export_dir().glob("import-*.xlsx"):
        waiting.unlink(missing_ok=True)
