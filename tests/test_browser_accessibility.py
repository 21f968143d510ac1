"""Accessibility and words, in Chromium, over the main pages of each persona (issue 16).

- axe-core (vendored, ``static/vendor/axe-core-*``) finds no "serious" or "critical" violation;
- the visible text of a Chinese page holds no English word and no institution code (``yunling-scjgj``);
- the navigation links reach 4.5:1 on the navigation's red (computed colours);
- the skip link is the first thing Tab reaches, is visible then, and leads to the main content.
"""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assessments.services import cycle_generate_tasks, cycle_launch
from risk_registry.documents.models import ExportJob
from risk_registry.organisation.colours import contrast_ratio
from risk_registry.organisation.models import Institution
from tests.browser import axe_violations, log_in

pytestmark = pytest.mark.browser

# Latin words that may stand on a Chinese page, each for a reason: the file types people know by
# these names (the buttons that download them say so), and the units/numbering of dates and sizes.
ALLOWED_WORDS = frozenset({"PDF", "Excel", "ZIP", "KB", "MB", "SHA", "English"})
# Words as a reader sees them: "ExcelPDF" (two buttons side by side) is Excel and PDF; one letter is no word.
WORD = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]?[a-z]{2,}")


def _pages(w, cycle_pk: int, job_token: str) -> dict[str, list[str]]:
    year = w.submitted.year
    register = f"/registers/{w.a.code}/{year}/"
    return {
        "holder": [
            "/",
            "/inbox/",
            "/risks/",
            f"/risks/{w.draft.pk}/",
            f"/risks/{w.draft.pk}/edit/",
            f"/positions/{w.position.pk}/",
            f"/controls/{w.submitted.controls.first().pk}/runs/new/",
            "/dashboards/mine/",
        ],
        "head": ["/", "/inbox/", "/risks/", f"/risks/{w.submitted.pk}/"],
        "discipline": [
            "/",
            "/inbox/",
            "/risks/",
            f"/risks/{w.submitted.pk}/",
            register,
            f"/cycles/{cycle_pk}/",
            "/dashboards/oversight/",
            "/warnings/",
            f"/warnings/grades/{w.a.code}/",
            f"/org/{w.a.code}/grading/switch/?preset=abc",
            f"/org/{w.a.code}/",
            "/audit/",
            "/documents/",
            f"/documents/jobs/{job_token}/",
        ],
        "leader": ["/", "/inbox/", register, "/dashboards/leadership/"],
        "principal": ["/", "/inbox/", register],
        "superior": ["/", "/dashboards/oversight/", "/cycles/", "/warnings/"],
    }


def _foreign_words(page, codes: set[str]) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    found = [code for code in codes if code in text]
    found += [word for word in WORD.findall(text) if word not in ALLOWED_WORDS]
    return found


@pytest.fixture
def cycle(live_world):
    w = live_world
    today = timezone.localdate()
    launched = cycle_launch(by=w.discipline, institution=w.a, year=today.year, confirm_late=True, enqueue=False)
    cycle_generate_tasks(cycle_id=launched.pk)
    return launched


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.parametrize("persona", ["holder", "head", "discipline", "leader", "principal", "superior"])
def test_main_pages_pass_axe_and_speak_chinese(live_world, live_server, page, cycle, persona, width):
    """At desktop width and at a phone's (390 px: the collapsed navigation, stacked cards)."""
    w, base = live_world, live_server.url
    codes = {code for code in Institution.objects.values_list("code", flat=True) if "-" in code}
    log_in(page, base, persona)  # at desktop width: log_in waits for the user's name in the open navigation
    page.set_viewport_size({"width": width, "height": 844 if width < 600 else 900})
    violations: dict[str, list[dict]] = {}
    words: dict[str, list[str]] = {}
    job = ExportJob.objects.create(
        owner=w.discipline, institution=w.a, kind="archive", form="archive", file_format="zip"
    )
    for path in _pages(w, cycle.pk, str(job.token))[persona]:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        if found := axe_violations(page):
            violations[path] = found
        if found_words := _foreign_words(page, codes):
            words[path] = sorted(set(found_words))
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
    assert not words, json.dumps(words, ensure_ascii=False, indent=1)


def test_navigation_links_reach_4_5_to_1(live_world, live_server, page):
    log_in(page, live_server.url, "discipline")
    colours = page.evaluate(
        """() => {
          const nav = getComputedStyle(document.querySelector('.app-nav')).backgroundColor;
          const links = Array.from(document.querySelectorAll('.app-nav .nav-link, .app-nav .navbar-text'));
          return {nav, links: links.map(a => getComputedStyle(a).color)};
        }"""
    )
    background = _hex(colours["nav"])
    assert colours["links"]
    for link in colours["links"]:
        assert contrast_ratio(_blend(link, background), background) >= 4.5, link


def test_the_skip_link_is_first_and_leads_to_the_content(live_world, live_server, page):
    log_in(page, live_server.url, "holder")
    skip = page.locator("[data-testid=skip-link]")
    assert skip.bounding_box() is None or skip.bounding_box()["width"] <= 1  # hidden until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("跳到正文")
    assert skip.bounding_box()["width"] > 10
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def _hex(css: str) -> str:
    r, g, b = (int(part) for part in re.findall(r"[\d.]+", css)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _blend(css: str, background: str) -> str:
    """A computed ``rgba(…)`` over ``background``, as the eye sees it."""
    parts = [float(part) for part in re.findall(r"[\d.]+", css)]
    alpha = parts[3] if len(parts) == 4 else 1.0
    back = [int(background[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(alpha * front + (1 - alpha) * b) for front, b in zip(parts[:3], back, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*mixed)
