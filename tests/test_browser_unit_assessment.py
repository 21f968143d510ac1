"""In Chromium: bureau A scores itself against the nine items of 篇5 and submits; the county's
superior office assesses it item by item (统一评估) and finishes; the comparison table of the
cycle shows bureau A's total and grade beside bureau B's. Screenshots at desktop and phone width
go to var/screenshots/ for a person to look at."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from assessments import unit
from assessments.models import Checklist, ChecklistItem, UnitAssessment
from assessments.services import cycle_launch
from assessments.unit_presets import install_checklist_presets
from conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
SELF = [95, 90, 85, 80, 90, 70, 80, 100, 90]
FINAL = [90, 85, 80, 70, 95, 60, 75, 100, 88]  # Σ weight × score = 8120 → 81.2, 良好 (assessments/tests/test_unit.py)


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SHOTS / f"unit-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"unit-{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_the_superior_assesses_a_unit_item_by_item_and_compares(live_world, live_server, page):
    w = live_world
    install_checklist_presets(Checklist, ChecklistItem)  # the flush of an earlier test removed them
    preset = Checklist.objects.get(institution=None, key="pian5-nine")
    cycle = cycle_launch(by=w.superior, institution=w.county, year=2026, today=datetime.date(2026, 1, 15))
    # Bureau B was assessed already (through the services): 70 on every item.
    b = unit.unit_open(by=w.outsider, cycle=cycle, institution=w.b, checklist=preset)
    items = list(b.items.all())
    b = unit.unit_self_score(
        by=w.outsider,
        assessment=b,
        scores=[unit.SelfScore(i.pk, 75) for i in items],
        submit=True,
        today=datetime.date(2026, 12, 10),
    )
    unit.unit_assess(
        by=w.superior, assessment=b, scores=[unit.AssessedScore(i.pk, 70) for i in items], conclusion="", finish=True
    )

    # Bureau A's principal opens its assessment and scores itself.
    log_in(page, live_server, "principal")
    page.goto(f"{live_server.url}/cycles/{cycle.pk}/units/bureau-a/")
    page.select_option("[data-testid=open-form] select", str(preset.pk))
    page.click("[data-testid=open-form] button[type=submit]")
    expect(page.locator("[data-testid=state]")).to_have_text("自评中")
    expect(page.locator("[data-testid=item-3] [data-testid=figure]")).to_contain_text("3个岗位中有2个")
    assessment = UnitAssessment.objects.get(cycle=cycle, institution=w.a)
    for item, score in zip(assessment.items.order_by("order"), SELF, strict=True):
        page.fill(f"#id_score_{item.pk}", str(score))
    page.fill(f"#id_note_{assessment.items.get(order=1).pk}", "成立了以局长为组长的领导小组")
    page.locator("[data-testid=item-1] input[value=register]").check()
    _shoot(page, "self-scoring")
    page.click("[data-testid=self-form] button[value=submit]")
    expect(page.locator("[data-testid=state]")).to_have_text("待统一评估")

    # The county's superior office assesses item by item.
    log_in(page, live_server, "superior")
    page.goto(f"{live_server.url}/cycles/{cycle.pk}/")
    page.click("[data-testid=unit-assessment]")
    expect(page.locator("[data-testid=unit-row-bureau-b] [data-testid=total]")).to_have_text("70.0")
    page.click("text=甲局")
    for item, score in zip(assessment.items.order_by("order"), FINAL, strict=True):
        page.fill(f"#id_final_{item.pk}", str(score))
        if score < 80:
            page.fill(f"#id_findings_{item.pk}", f"{item.title[:4]}存在不足，需整改")
    page.fill("#id_conclusion", "总体较好，制度执行方面需加强。")
    page.click("[data-testid=finish]")
    expect(page.locator("[data-testid=final-total]")).to_have_text("81.2")
    expect(page.locator("[data-testid=final-grade]")).to_have_text("良好")
    expect(page.locator(f"#id_final_{assessment.items.get(order=6).pk}")).to_have_value("60.0")  # may still correct
    _shoot(page, "assessed")

    page.click("a:has-text('单位考核评估') >> nth=0")
    row = page.locator("[data-testid=unit-row-bureau-a]")
    expect(row.locator("[data-testid=total]")).to_have_text("81.2")
    expect(row.locator("[data-testid=grade]")).to_have_text("良好")
    expect(page.locator("[data-testid=comparison] tbody tr").first).to_have_attribute(
        "data-testid", "unit-row-bureau-a"
    )  # best first
    _shoot(page, "comparison")
