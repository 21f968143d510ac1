"""Playwright on Debian's Chromium for the browser tests (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from django.conf import settings
from playwright.sync_api import expect

from conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a closed network: without the background-networking ones Chromium keeps trying to
# reach its own services at start, and every attempt is refused here.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def every(locator) -> list:
    """The elements a locator matches once the first of them is on the page.

    Playwright's ``locator.all()`` does not wait: right after a click that navigates it reads the
    page being left (or the new one half-built) and gives an empty list, so a loop over it does
    nothing and the test goes on as if it had (CI failed once this way: a rating form submitted
    with one of six answers chosen). Waiting for the first match closes that gap.
    """
    expect(locator.first).to_be_attached()
    return locator.all()


# The two widths every persona's job is tested at: a desktop, and a phone (the collapsed navigation).
WIDTHS = {"desktop": 1280, "phone": 390}


def chromium_path() -> str:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (make test does it as root)")
    return CHROMIUM


def screenshot_both_widths(page, folder, name: str) -> None:
    """Full-page screenshots of ``page`` at desktop (1280) and phone (390) width, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=folder / f"{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=folder / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def shots_folder(name: str, tmp_path: Path) -> Path:
    """Where a test keeps its screenshots: ``$BROWSER_SHOTS/name`` when that variable names a folder
    (to look at them), else the test's own temporary folder (a clean clone, CI)."""
    root = os.environ.get("BROWSER_SHOTS", "")
    folder = Path(root) / name if root else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def optional_shots(name: str) -> Path | None:
    """``$BROWSER_SHOTS/name`` (made if missing) when that variable is set, else None: screenshots
    only a person looks at, which a clean clone (CI) skips."""
    root = os.environ.get("BROWSER_SHOTS", "")
    if not root:
        return None
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign in through the login page of the live server at ``url``."""
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def log_in(page, base: str, username: str) -> None:
    """Sign a persona in (at desktop width: it waits for the user's name in the open navigation)."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=nav-user]")).to_be_visible()


# --- accessibility and layout checks ---------------------------------------------------------

AXE = next((Path(settings.BASE_DIR) / "static" / "vendor").glob("axe-core-*/axe.min.js"))


def axe_violations(page) -> list[dict]:
    """The serious and critical violations axe finds on the page as it stands."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the browser's tools, not a <script>
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' | ' + n.failureSummary)})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_no_serious_violations(page, where: str) -> None:
    found = axe_violations(page)
    assert not found, f"{where}: " + json.dumps(found, ensure_ascii=False, indent=1)


def assert_no_sideways_scroll(page, where: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert width <= 1, f"{where}: the page scrolls sideways by {width}px"


def assert_nav_words_whole(page, where: str) -> None:
    """No item of the open navigation breaks inside its words ("首 / 页", "组织机 / 构")."""
    broken = page.evaluate(
        """() => Array.from(document.querySelectorAll('.app-nav .nav-link, .app-nav .navbar-text'))
          .filter(el => el.offsetParent !== null)
          .filter(el => { const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
                          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                            if (node.parentElement.closest('.visually-hidden')) continue;  // 1px wide on purpose
                            const range = document.createRange(); range.selectNodeContents(node);
                            const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                            if (tops.size > 1) return true;  // one run of words on two lines
                          }
                          return false; })
          .map(el => el.innerText)"""
    )
    assert not broken, f"{where}: navigation items broken over lines: {broken}"


# --- the register page's actions ------------------------------------------------------------


def bulk(page, action: str, *points, reason: str = "", likelihood: str = "", severity: str = "") -> None:
    """Select rows of the register table and apply one action to them."""
    for pk in points:
        page.check(f"[data-testid=bulk-form] input[name=point][value='{pk}']")
    page.select_option("[data-testid=bulk-action]", action)
    if likelihood:
        page.select_option("#id_bulk_likelihood", likelihood)
        page.select_option("#id_bulk_severity", severity)
    page.fill("[data-testid=bulk-reason]", reason)
    page.click("[data-testid=bulk-submit]")


def confirm(page, sentence: str) -> None:
    """The confirmation page of a register step: it says how many points change; confirm."""
    expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text(sentence)
    page.click("[data-testid=confirm]")
