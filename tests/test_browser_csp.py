"""In Chromium, under the Content-Security-Policy: the pages' scripts run from static files, nothing
is refused, and what the scripts do still happens (widget classes, level colours, form rows,
confirmations, the select-all box)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def refusals(page):
    """Console messages of the browser that report a refusal by the policy."""
    found: list[str] = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", note)
    return found


def test_pages_work_under_the_policy(live_world, live_server, page, refusals):
    w, base = live_world, live_server.url
    log_in(page, base, "holder")

    page.goto(f"{base}/risks/")
    expect(page.locator("[data-testid=filters] select").first).to_have_class("form-select form-select-sm")
    badge = page.locator("[data-testid=risk-point-table] .level-badge").first
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")

    page.goto(f"{base}/risks/{w.draft.pk}/edit/")
    rows = page.locator("[data-testid=control-rows] .control-row")
    before = rows.count()
    page.click("[data-testid=add-control]")
    expect(rows).to_have_count(before + 1)
    expect(page.locator("#id_description")).to_have_class("form-control")

    page.select_option("select[name=language]", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    log_in(page, base, "discipline")
    page.goto(f"{base}/audit/")
    expect(page.locator("main form input").first).to_have_class("form-control form-control-sm")
    page.goto(f"{base}/registers/bureau-a/2026/batch/review/")
    points = page.locator("input[name=point]")
    assert points.count() > 0
    page.locator("input[data-check-all]").uncheck()
    expect(page.locator("input[name=point]:checked")).to_have_count(0)
    page.locator("input[data-check-all]").check()
    expect(page.locator("input[name=point]:checked")).to_have_count(points.count())

    assert refusals == []
