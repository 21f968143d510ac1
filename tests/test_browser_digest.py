"""In Chromium: a holder with many overdue self-checks gets one digest from the scan, not one
notification per task; the inbox shows its first tasks, each a link, and the notification page
lists them all with their real dates; a listed task leads to where its work is done. Screenshots
at desktop and phone width (SCAN_SHOTS, else var/screenshots/)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from assessments.models import Notification, Task
from assessments.scan import deadline_scan
from assessments.tests.conftest import at, launch
from conftest import PASSWORD
from positions.models import Position
from positions.services import holding_start
from tests.browser import screenshot_both_widths, sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCAN_SHOTS") or Path(settings.BASE_DIR) / "var" / "screenshots")


def test_a_digest_lists_its_tasks_in_the_inbox_and_on_its_page(live_world, live_server, page, settings):
    w = live_world
    settings.RISK_REGISTRY_DIGEST_TASKS = 8
    cycle = launch(w, enqueue=False)
    positions = Position.objects.bulk_create(
        Position(institution=w.a, department=w.dept, title=f"窗口受理岗{i + 1}号") for i in range(11)
    )
    for position in positions:
        holding_start(user=w.holder2, position=position, started_on=datetime.date(2026, 1, 1))
    inventory = cycle.phases.get(kind="inventory")
    Task.objects.bulk_create(
        Task(
            cycle=cycle,
            phase=inventory,
            kind=Task.Kind.SELF_CHECK,
            key=f"self_check:{p.pk}",
            year=2026,
            institution=w.a,
            department=w.dept,
            position=p,
            due_on=datetime.date(2026, 4, 28) if i < 3 else datetime.date(2026, 5, 1),
            owner=w.holder2,
        )
        for i, p in enumerate(positions)
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
    screenshot_both_widths(page, SHOTS, "digest-inbox")

    listed.get_by_text("本条通知的全部12项任务").click()
    expect(page.locator("[data-testid=notification-title]")).to_have_text("12项任务已逾期：已告知上级负责人")
    rows = page.locator("[data-testid=digest-tasks] tbody tr")
    expect(rows).to_have_count(8)
    expect(page.locator("[data-testid=digest-unlisted]")).to_contain_text("另有4项未列出（每条通知最多列出8项）")
    screenshot_both_widths(page, SHOTS, "digest-page")

    first = Task.objects.select_related("position").get(pk=digest.task_ids[0])
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/positions/{first.position_id}/")
    expect(page.locator("h1")).to_contain_text(first.position.title)
