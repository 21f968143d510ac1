"""In Chromium: the oversight dashboard's warnings section, a figure opens the ledger filtered to
exactly what it counts. Screenshots of the section at desktop and phone width go to var/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser import log_in
from tests.warnings_helpers import inspection_item, issue, petition_item

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_a_warnings_figure_opens_its_ledger(live_world, live_server, page):
    w, base = live_world, live_server.url
    inspection_item(w)
    issue(w, petition_item(w))
    log_in(page, base, "discipline")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, name in ((390, "phone"), (1280, "desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/dashboards/oversight/?year=2026")
        section = page.locator("[data-testid=warnings-figures]")
        expect(section).to_be_visible()
        section.screenshot(path=SHOTS / f"dashboard-warnings-{name}.png")
    cell = page.locator("[data-testid=warnings-channel] [data-group=channel][data-label=信访举报] a")
    expect(cell).to_have_text("1")
    cell.click()
    expect(page).to_have_url(re.compile(r"/warnings/\?channel=\d+"))
    expect(page.locator("[data-testid=ledger] tbody tr")).to_have_count(1)
