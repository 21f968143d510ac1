"""In Chromium: the discipline office proposes post grades, confirms them in bulk and changes one
with a reason; the leadership's "what I must watch". Screenshots at desktop and phone width go to
var/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from positions.models import Position
from positions.services import position_create
from risk_registry.models import PostGrade, RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel
from risk_registry.selectors import current_year
from tests.test_browser_grading import _login, _shoot

pytestmark = pytest.mark.browser


def _verified(world) -> None:
    levels = {level.name: level for level in GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id)}
    RiskPoint.objects.filter(pk=world.submitted.pk).update(level=levels["一级"], state=RiskPointState.DEFINED)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(level=levels["二级"], state=RiskPointState.DEFINED)
    chief = position_create(department=world.dept, title="局长岗", kind=Position.Kind.PRINCIPAL)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    point.pk, point.position, point.description = None, chief, "重大事项决策不民主"
    point.save()


def test_the_office_proposes_confirms_and_changes_a_grade(live_world, live_server, page):
    _verified(live_world)
    year = current_year()
    _login(page, live_server.url, "discipline")
    page.goto(f"{live_server.url}/org/bureau-a/")
    page.get_by_test_id("post-grades").click()
    expect(page.get_by_test_id("no-grades")).to_be_visible()
    page.get_by_test_id("propose").click()
    rows = page.get_by_test_id("post-grade-row")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("summary")).to_contain_text("4个岗位待认定")
    # 复核岗 (no verified point): leave it out of the bulk confirmation
    row = rows.filter(has_text="复核岗")
    row.locator("input[type=checkbox]").uncheck()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("summary")).to_contain_text("1个岗位待认定")
    row = page.get_by_test_id("post-grade-row").filter(has_text="复核岗")
    row.locator("select").select_option("B")
    row.locator("input[type=text]").fill("负责大额资金复核")
    row.get_by_role("button").click()
    expect(page.get_by_test_id("summary")).to_contain_text("0个岗位待认定")
    expect(page.get_by_test_id("summary")).to_contain_text("1个认定与建议不同")
    grades = {g.position.title: g for g in PostGrade.objects.select_related("position").filter(year=year)}
    assert grades["局长岗"].grade == "A" and grades["局长岗"].supervision == "direct"
    changed = grades["复核岗"]
    assert (changed.grade, changed.proposed, changed.reason) == ("B", "C", "负责大额资金复核")
    _shoot(page, "post-grades")

    page.context.clear_cookies()
    _login(page, live_server.url, "leader")
    page.get_by_test_id("nav-dashboards").click()
    page.get_by_test_id("nav-watch").click()
    expect(page.get_by_test_id("watch-point")).to_have_count(3)
    expect(page.get_by_test_id("watch-no-posts")).to_be_visible()  # no C post: the leader in charge watches none
    _shoot(page, "watch-leader")
    page.context.clear_cookies()
    _login(page, live_server.url, "superior")
    page.goto(f"{live_server.url}/watch/")
    expect(page.get_by_test_id("watch-post")).to_have_count(1)
    expect(page.get_by_test_id("watch-posts")).to_contain_text("局长岗")
    _shoot(page, "watch-superior")
