"""In Chromium: closing the year asks first, in numbers, and closes only on the confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments.models import Cycle
from assessments.services import cycle_launch
from assessments.tests.conftest import LAUNCHED_ON
from conftest import PASSWORD
from tests.browser import optional_shots

pytestmark = pytest.mark.browser

SHOTS = optional_shots("cycle-close")


def test_close_asks_with_the_numbers_then_closes(live_world, live_server, page):
    w, base = live_world, live_server.url
    cycle = cycle_launch(by=w.superior, institution=w.county, year=2026, today=LAUNCHED_ON, enqueue=False)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", w.superior.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/cycles/{cycle.pk}/close/")
    page.fill("textarea[name=reason]", "机构改革,经研究同意先行结转")
    page.click("[data-testid=close-confirm]")
    confirmation = page.locator("[data-testid=close-confirmation]")
    expect(confirmation).to_contain_text("将结转")
    expect(confirmation).to_contain_text("未备案")
    if SHOTS:
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(SHOTS / f"cycle_close_confirm_{width}.png"), full_page=True)
    assert Cycle.objects.get(pk=cycle.pk).is_running  # asking wrote nothing
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=close-reason]")).to_be_visible()
    assert Cycle.objects.get(pk=cycle.pk).state == Cycle.State.CLOSED
