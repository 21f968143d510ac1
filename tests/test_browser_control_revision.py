"""In Chromium: measures after 审定 — a holder proposes a control for an approved point, the head
approves it, and the point's controls change only then."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from controls.models import Control, ControlRevision
from risk_registry.models import DecisionRules, RiskPoint, RiskPointState
from tests.browser import log_in

pytestmark = pytest.mark.browser

MEASURE = "纪检员每月抽查审批档案"


def test_a_holder_proposes_and_the_head_approves_a_control(live_world, live_server, page):
    DecisionRules.objects.create(institution=live_world.a, measures_after_approval=True)
    point = live_world.submitted
    RiskPoint.objects.filter(pk=point.pk).update(state=RiskPointState.APPROVED)

    log_in(page, live_server.url, "holder")
    page.goto(f"{live_server.url}/risks/{point.pk}/")
    page.click("[data-testid=revise-controls]")
    page.wait_for_load_state("load")
    page.fill("#id_reason", "按审定的等级补充中期监控措施")
    page.select_option("#id_controls-1-line", "monitoring")
    page.fill("#id_controls-1-measure", MEASURE)
    page.select_option("#id_controls-1-frequency", "monthly")
    page.click("[data-testid=control-revision-form] button[type=submit]")
    expect(page.locator("[data-testid=revision-status]")).to_have_attribute("data-status", "pending")
    expect(page.locator("[data-testid=controls-after]")).to_contain_text(MEASURE)
    assert not Control.objects.filter(risk_point=point, measure=MEASURE).exists()  # nothing changed yet

    log_in(page, live_server.url, "head")
    page.goto(f"{live_server.url}/inbox/")  # the revision waits in the head's inbox
    page.locator("[data-section=revisions] a").first.click()
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=revision-status]")).to_have_attribute("data-status", "approved")
    assert ControlRevision.objects.get(risk_point=point).reviewed_by == live_world.head
    assert Control.objects.filter(risk_point=point, measure=MEASURE, line="monitoring").exists()
    page.goto(f"{live_server.url}/risks/{point.pk}/")
    expect(page.locator("[data-testid=controls]")).to_contain_text(MEASURE)
