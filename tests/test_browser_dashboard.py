"""In Chromium: a heat-map cell of the oversight dashboard opens the list of exactly its points,
the charts are drawn by the vendored ECharts, and the policy refuses nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import log_in, screenshot_both_widths, shots_folder

pytestmark = pytest.mark.browser


def test_a_heat_map_cell_opens_its_list(live_world, live_server, page):
    w, base = live_world, live_server.url
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    log_in(page, base, "discipline")
    page.goto(f"{base}/dashboards/oversight/?institution=bureau-a")
    expect(page.locator("[data-testid=chart-level] .dashboard-chart svg")).to_be_visible()

    # 虚报冒领 (finance_point) is the one submitted point of likelihood 3 and severity 2.
    cell = page.locator("[data-testid=heat-map] tbody tr").nth(0).locator("[data-testid=heat-cell]").nth(1)
    expect(cell).to_have_text("1")
    cell.click()
    expect(page).to_have_url(re.compile(r"/risks/\?.*likelihood=3.*severity=2"))
    expect(page.locator("[data-testid=result-count]")).to_contain_text("1")
    rows = page.locator("[data-testid=risk-point-table] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(w.finance_point.description)
    expect(page.locator("[data-testid=narrowed-by]")).to_be_visible()
    assert refused == []


def test_the_whole_county_page_keeps_every_figure_at_both_widths(live_world, live_server, page, tmp_path):
    """The whole county's page after its cost was cut: the roll-up with the legend of its rows, what
    to watch, every chart drawn beside its table and summary, the comparison with its total row."""
    base = live_server.url
    log_in(page, base, "superior")  # the county's superior office: three institutions, a total row
    page.goto(f"{base}/dashboards/oversight/")
    for testid in ("roll-up", "band-legend", "watch", "changes", "comparison", "comparison-total"):
        expect(page.locator(f"[data-testid={testid}]")).to_be_visible()
    for key in ("band", "risk_type", "power_category", "position_kind"):
        expect(page.locator(f"[data-testid=chart-{key}] .dashboard-chart svg")).to_be_visible()
        expect(page.locator(f"[data-testid=table-{key}]")).to_be_attached()
        expect(page.locator(f"#summary-{key}")).not_to_be_empty()
    expect(page.locator("[data-testid=band-legend] li").first).to_be_visible()
    screenshot_both_widths(page, shots_folder("dashboard", tmp_path), "oversight-county")
