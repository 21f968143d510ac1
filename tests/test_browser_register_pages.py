"""In Chromium, the register table in pages (issue 11): the pager, the second page, and "all N
matching points" reviewed after the confirmation that names the count; screenshots at 1280 and
390 px (var/screenshots/register-pages-*)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.workflow import selectors as wf_selectors
from tests.browser import screenshot_both_widths, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_the_paged_table_and_all_matching_points(live_world, live_server, page, monkeypatch):
    monkeypatch.setattr(wf_selectors, "TABLE_PAGE", 1)  # two points: two pages
    w, base = live_world, live_server.url
    sign_in(page, base, w.discipline.username, PASSWORD)
    page.goto(f"{base}/registers/bureau-a/2026/")
    expect(page.locator("[data-testid=table-count]")).to_have_text("2")
    expect(page.locator("[data-testid=table-pages]")).to_be_visible()
    expect(page.locator("[data-testid=table-row]")).to_have_count(1)
    screenshot_both_widths(page, SHOTS, "register-pages")
    page.locator("[data-testid=table-pages] a", has_text="2").click()
    expect(page.locator("[data-testid=table-row]")).to_have_count(1)
    page.check("[data-testid=bulk-all]")
    page.select_option("[data-testid=bulk-action]", "review")
    page.click("[data-testid=bulk-submit]")
    expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text("这 2 个风险点")
    screenshot_both_widths(page, SHOTS, "register-pages-confirm")
    assert set(
        RiskPoint.objects.filter(pk__in=[w.submitted.pk, w.finance_point.pk]).values_list("state", flat=True)
    ) == {S.SUBMITTED}
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=register-table]")).to_be_visible()
    assert set(
        RiskPoint.objects.filter(pk__in=[w.submitted.pk, w.finance_point.pk]).values_list("state", flat=True)
    ) == {S.REVIEWED}
