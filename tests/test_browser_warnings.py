"""In Chromium, the ladder end to end: an item entered → 警示提醒书 issued → the recipient answers →
not accepted → 诫勉谈话告知书 → answered and accepted; a second item not answered → escalated →
责令整改通知书."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from integrity_warnings.ladder import DispositionState, Measure
from integrity_warnings.models import Disposition, WarningItem, WarningStatus
from tests.warnings_helpers import inspection_item, issue, step

pytestmark = pytest.mark.browser


def _login(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def _issue(page, measure_label: str, reason: str = "") -> None:
    page.click("[data-testid=issue]")
    page.select_option("#id_measure", label=measure_label)
    page.fill("#id_recipient_name", "张审批同志")
    page.fill("#id_notice_facts", "你在企业登记审批中存在超时办理的情况。")
    page.fill("#id_requirement", "请认真自查，剖析原因，制定整改措施。")
    if reason:
        page.fill("#id_reason", reason)
    page.click("[data-testid=issue-form] button")


def _answer(page, live_server) -> None:
    _login(page, live_server, "holder")
    page.click("[data-testid=nav-notices]")
    page.locator("[data-testid=my-notices] tbody a").first.click()
    page.fill("#id_cause_analysis", "对审批时限要求重视不够。")
    page.fill("#id_measures_taken", "建立审批时限台账，每周自查。")
    page.click("[data-testid=respond-form] button")
    expect(page.locator("[data-testid=notice-state]")).to_have_text("已回告")


def test_the_ladder_in_the_browser(live_world, live_server, page):
    today = timezone.localdate()
    _login(page, live_server, "discipline")
    page.click("[data-testid=nav-warnings]")
    page.click("[data-testid=warning-new]")
    page.select_option("#id_institution", label="甲局")
    page.select_option("#id_channel", label="专项检查")
    page.fill("#id_received_on", today.isoformat())
    page.select_option("#id_grade", "2")
    page.select_option("#id_subject_kind", "person")
    page.select_option("#id_subject_user", label="张审批")
    page.fill("#id_facts", "专项检查发现审批超时未说明理由。")
    page.click("[data-testid=warning-form] button")
    expect(page.locator("h1")).to_contain_text("预警信息")
    item = WarningItem.objects.get()
    _issue(page, "警示提醒")
    expect(page.locator("h1")).to_contain_text("警示提醒")
    first = Disposition.objects.get()
    assert first.measure == Measure.WARNING_REMINDER and first.recipient_user == live_world.holder

    _answer(page, live_server)
    _login(page, live_server, "discipline")
    page.goto(f"{live_server.url}/warnings/notices/{first.pk}/")
    page.fill("#id_reason", "整改措施空泛，未落实到人。")
    page.click("[data-testid=reject]")
    expect(page.locator("[data-testid=notice-state]")).to_have_text("未整改到位")
    page.goto(f"{live_server.url}/warnings/{item.pk}/")
    _issue(page, "诫勉谈话", reason="警示提醒后仍未纠正。")
    second = Disposition.objects.exclude(pk=first.pk).get()
    assert second.measure == Measure.ADMONITION

    _answer(page, live_server)
    _login(page, live_server, "discipline")
    page.goto(f"{live_server.url}/warnings/notices/{second.pk}/")
    page.click("[data-testid=accept]")
    expect(page.locator("[data-testid=notice-state]")).to_have_text("报告已认可")
    page.goto(f"{live_server.url}/warnings/{item.pk}/")
    expect(page.locator("[data-testid=warning-status]")).to_contain_text("已办结")
    assert WarningItem.objects.get(pk=item.pk).status == WarningStatus.CLOSED

    # a second item: the admonition was never answered
    long_ago = today - datetime.timedelta(days=40)
    other = inspection_item(live_world, received_on=long_ago - datetime.timedelta(days=5), today=long_ago)
    reminder = issue(live_world, other, today=long_ago)
    step(live_world, reminder, "lapse", reason="逾期", today=long_ago + datetime.timedelta(days=10))
    admonition = issue(
        live_world, other, Measure.ADMONITION, reason="逾期未回告", today=long_ago + datetime.timedelta(days=11)
    )
    page.goto(f"{live_server.url}/warnings/?overdue=on")
    expect(page.locator("[data-testid=ledger] tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/warnings/notices/{admonition.pk}/")
    page.fill("[data-testid=lapse-form] #id_reason", "诫勉谈话后逾期未回告。")
    page.click("[data-testid=lapse-form] button")
    expect(page.locator("[data-testid=notice-state]")).to_have_text("未整改到位")
    page.goto(f"{live_server.url}/warnings/{other.pk}/")
    _issue(page, "责令整改", reason="诫勉谈话后仍未改正。")
    expect(page.locator("h1")).to_contain_text("责令整改")
    order = Disposition.objects.get(item=other, measure=Measure.RECTIFICATION_ORDER)
    assert order.state == DispositionState.ISSUED and order.due_on > today
