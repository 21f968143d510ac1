"""In Chromium, the ladder end to end: an item entered → 警示提醒书 issued (the deadline scan puts it in
the recipient's inbox) → the recipient answers → not accepted → 诫勉谈话告知书 → answered with a report
file and accepted; a second item not answered → escalated by the deadline scan to the supervisor and
the discipline office → 责令整改通知书. Screenshots at desktop and phone width go to var/screenshots/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from assessments.scan import deadline_scan
from conftest import PASSWORD
from integrity_warnings.ladder import DispositionState, Measure
from integrity_warnings.models import Disposition, WarningItem, WarningStatus
from tests.warnings_helpers import inspection_item, issue, step

pytestmark = pytest.mark.browser
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
REPORT_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=SHOTS / f"warnings-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"warnings-{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


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


def _answer(page, live_server, *, attach: bool = False) -> None:
    _login(page, live_server, "holder")
    page.click("[data-testid=nav-inbox]")  # the one inbox lists the notices to answer
    page.locator("[data-testid=notices-to-answer] a").first.click()
    if attach:
        page.set_input_files(
            "[data-testid=attach-form] input[type=file]",
            files=[{"name": "整改情况报告.pdf", "mimeType": "application/pdf", "buffer": REPORT_PDF}],
        )
        page.click("[data-testid=attach-form] button")
        expect(page.locator("[data-testid=attachments]")).to_contain_text("整改情况报告.pdf")
        _shoot(page, "notice-with-file")
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
    page.select_option("#id_grade", label="二级（中）")  # a level of the institution's scale, by its label
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
    deadline_scan()  # beat's scan: the new notice goes to the recipient's inbox (and e-mail)
    _login(page, live_server, "holder")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("[data-testid=notifications]")).to_contain_text(first.number)
    _shoot(page, "inbox-new-notice")

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

    _answer(page, live_server, attach=True)
    _login(page, live_server, "discipline")
    page.goto(f"{live_server.url}/warnings/notices/{second.pk}/")
    expect(page.locator("[data-testid=attachments]")).to_contain_text("整改情况报告.pdf")
    with page.expect_download() as download:
        page.click("[data-testid=attachment]")
    assert "回告附件" in download.value.suggested_filename
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
    assert deadline_scan().created  # overdue: the recipient, the supervisor and the discipline office hear
    _login(page, live_server, "head")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("[data-testid=notifications]")).to_contain_text(admonition.number)
    expect(page.locator("[data-testid=notifications]")).to_contain_text("已告知回告人的上级负责人")
    _shoot(page, "inbox-escalated")
    _login(page, live_server, "discipline")
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("[data-testid=notifications]")).to_contain_text(admonition.number)
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
    _shoot(page, "rectification-order")
    page.goto(f"{live_server.url}/warnings/{other.pk}/")
    _shoot(page, "item")
    page.goto(f"{live_server.url}/warnings/statistics/")
    expect(page.locator("[data-testid=ledger-stats]")).to_contain_text("专项检查: 2")
    _shoot(page, "statistics")
    page.click("text=已办结: 1")
    expect(page.locator("[data-testid=ledger] tbody tr")).to_have_count(1)
