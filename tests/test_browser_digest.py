"""In Chromium: a holder with many overdue self-checks gets one digest from the scan, not one
notification per task; the inbox shows its first tasks, each a link, and the notification page
lists them all with their real dates; a listed task leads to where its work is done. Screenshots
at desktop and phone width (screenshots under BROWSER_SHOTS)."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from assessments.models import Notification, Task
from assessments.scan import deadline_scan
from assessments.tests.conftest import at, launch, more_self_checks
from conftest import PASSWORD
from tests.browser import optional_shots, screenshot_both_widths, sign_in

pytestmark = pytest.mark.browser

SHOTS = optional_shots("digest")


def test_a_digest_lists_its_tasks_in_the_inbox_and_on_its_page(live_world, live_server, page, settings):
    w = live_world
    settings.RISK_REGISTRY_DIGEST_TASKS = 8
    cycle = launch(w, enqueue=False)
    more_self_checks(
        w,
        cycle,
        11,
        title="窗口受理岗{}号",
        due_on=lambda i: datetime.date(2026, 4, 28) if i < 3 else datetime.date(2026, 5, 1),
    )
    deadline_scan(now=at("2026-05-03"))  # 12 self-checks overdue: holder2 and the head, one digest each
    digest = Notification.objects.get(recipient=w.holder2)
    assert (digest.stage, digest.task_count, len(digest.task_ids)) == ("supervise", 12, 8)

    sign_in(page, live_server.url, "holder2", PASSWORD)
    page.goto(f"{live_server.url}/inbox/")
    listed = page.locator(f"[data-testid=digest-{digest.pk}]")
    expect(page.locator("[data-testid=notifications]")).to_contain_text("12项任务已逾期：已告知上级负责人")
    expect(listed.locator("li")).to_have_count(4)  # three tasks and the way to all twelve
    expect(listed).to_contain_text("截止 2026年4月28日")
    if SHOTS:
        screenshot_both_widths(page, SHOTS, "digest-inbox")

    listed.get_by_text("本条通知的全部12项任务").click()
    expect(page.locator("[data-testid=notification-title]")).to_have_text("12项任务已逾期：已告知上级负责人")
    rows = page.locator("[data-testid=digest-tasks] tbody tr")
    expect(rows).to_have_count(8)
    expect(page.locator("[data-testid=digest-unlisted]")).to_contain_text("另有4项未列出（每条通知最多列出8项）")
    if SHOTS:
        screenshot_both_widths(page, SHOTS, "digest-page")

    first = Task.objects.select_related("position").get(pk=digest.task_ids[0])
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/positions/{first.position_id}/")
    expect(page.locator("h1")).to_contain_text(first.position.title)
