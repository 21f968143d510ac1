"""In Chromium, at desktop (1280) and phone (390) width, with screenshots saved and axe-core run on
the pages this work added or changed (issue 16):

- the holder writes a point with coaching: a vague control is flagged while typing, a control of
  the institution's earlier approved points is inserted with a click; submits, withdraws; records a
  run of a control from the point page, dated before the task's period, and reads why the task
  stays open;
- the department head opens the one inbox, sees what waits with its count, and reviews in bulk from
  the inbox's batch link.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from controls.models import ControlRun
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from tests.browser import WIDTHS, assert_no_serious_violations, assert_no_sideways_scroll, log_in, shots_folder
from tests.test_coaching import earlier_issued_control

pytestmark = pytest.mark.browser


def _shoot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(shots_folder("inbox", tmp_path) / f"{name}.png"), full_page=True)


@pytest.fixture
def earlier_control(live_world):
    """An issued point of last year with a good control: what the suggestions offer."""
    return earlier_issued_control(
        live_world,
        line="monitoring",
        measure="纪检办每季度随机抽查十件受理记录",
        owner="纪检办",
        frequency="quarterly",
        evidence="抽查记录表",
    )


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_holder_writes_with_coaching_submits_withdraws_and_records_a_run(
    live_world, live_server, page, earlier_control, screen, tmp_path
):
    w, base = live_world, live_server.url
    log_in(page, base, "holder")
    page.set_viewport_size({"width": WIDTHS[screen], "height": 900})
    page.goto(f"{base}/positions/{w.position.pk}/")
    page.click("[data-testid=add-risk-point]")
    page.wait_for_load_state("load")

    page.select_option("#id_risk_type", str(w.risk_type.pk))
    page.fill("#id_description", "窗口受理时对材料不全者不一次性告知")
    page.fill("#id_manifestation", "多次往返、暗示找关系")
    page.select_option("#id_likelihood", "2")
    page.select_option("#id_severity", "2")
    page.select_option("#id_controls-0-line", "prevention")
    page.locator("#id_controls-0-measure").press_sequentially("严格按照规章制度办事", delay=10)
    coach = page.locator("[data-testid=coach-0]")
    expect(coach).to_contain_text("表述笼统且无后续检查")  # the register's own check, while typing
    expect(coach).to_contain_text("未明确责任人")
    _shoot(page, tmp_path, f"holder-coaching-vague-{screen}")
    assert_no_serious_violations(page, "the form while coaching")
    assert_no_sideways_scroll(page, "the form")

    suggestion = page.locator("[data-testid=insert-suggestion]").first
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(page.locator("#id_controls-1-measure")).to_have_value(earlier_control.measure)
    expect(page.locator("#id_controls-1-line")).to_have_value("monitoring")
    page.fill("#id_controls-0-measure", "受理材料清单在窗口公示，一次性书面告知")
    page.fill("#id_controls-0-owner", "审批科科长")
    page.select_option("#id_controls-0-frequency", "each_time")
    page.fill("#id_controls-0-evidence", "一次性告知书存根")
    expect(coach).to_contain_text("已写明责任人、频次和留痕资料")
    expect(page.locator("[data-testid=coach-1]")).not_to_contain_text("台账将提示")
    _shoot(page, tmp_path, f"holder-coaching-good-{screen}")
    page.click("[data-testid=risk-point-form] button[type=submit]")

    expect(page.locator("[data-testid=risk-description]")).to_have_text("窗口受理时对材料不全者不一次性告知")
    point = RiskPoint.objects.get(description="窗口受理时对材料不全者不一次性告知")
    assert sorted(point.controls.values_list("measure", flat=True)) == sorted(
        ["受理材料清单在窗口公示，一次性书面告知", earlier_control.measure]
    )
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=point.pk).state == S.SUBMITTED
    page.click("[data-step=withdraw]")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=point.pk).state == S.DRAFT

    # a run of a control of the holder's submitted point, from the point page
    page.goto(f"{base}/risks/{w.submitted.pk}/")
    page.locator("[data-testid=record-run]").first.click()
    expect(page.locator("[data-testid=control-run-form]")).to_be_visible()
    page.fill("#id_ran_on", "2099-01-01")
    page.fill("#id_description", "按月抽查")
    page.click("[data-testid=control-run-form] button[type=submit]")
    expect(page.locator("[data-testid=error-ran_on]")).to_contain_text("是未来的日期")
    assert not ControlRun.objects.filter(control__risk_point=w.submitted).exists()
    _shoot(page, tmp_path, f"holder-run-future-{screen}")
    page.fill("#id_ran_on", str(w.submitted.year) + "-03-02")
    page.fill("#id_description", "按月抽查受理记录")
    page.click("[data-testid=control-run-form] button[type=submit]")
    expect(page.locator(".alert-success, .alert-warning").first).to_be_visible()
    assert ControlRun.objects.filter(control__risk_point=w.submitted, description="按月抽查受理记录").count() == 1
    _shoot(page, tmp_path, f"holder-run-recorded-{screen}")
    assert_no_serious_violations(page, "the run page")
    assert_no_sideways_scroll(page, "the run page")


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_head_reviews_from_the_inbox(live_world, live_server, page, screen, tmp_path):
    w, base = live_world, live_server.url
    log_in(page, base, "head")
    page.set_viewport_size({"width": WIDTHS[screen], "height": 900})
    if screen == "phone":
        page.click(".navbar-toggler")
    expect(page.locator("[data-testid=nav-inbox-count]")).to_have_text("待办事项数：2")
    page.click("[data-testid=nav-inbox]")
    expect(page.locator("[data-testid=inbox-total]")).to_have_text("2")
    expect(page.locator("[data-testid=count-to_review]")).to_have_text("1")
    _shoot(page, tmp_path, f"head-inbox-{screen}")
    assert_no_serious_violations(page, "the inbox")
    assert_no_sideways_scroll(page, "the inbox")
    page.locator("[data-testid=batch-link]").first.click()
    expect(page.locator("[data-testid=batch-row]")).to_have_count(1)
    page.click("[data-testid=batch-submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=w.submitted.pk).state == S.REVIEWED
    page.goto(f"{base}/inbox/")
    expect(page.locator("[data-testid=count-to_review]")).to_have_count(0)
    _shoot(page, tmp_path, f"head-inbox-after-{screen}")
