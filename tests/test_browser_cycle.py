"""In Chromium: the discipline office launches a cycle late (confirmed: a grace period holds the
reminders back), the scan after the grace runs (what beat does every few minutes), a holder sees
the task and its reminder under My tasks, and doing the real work — recording how a control ran —
marks the task done."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from assessments.completion import with_done
from assessments.models import Cycle, Notification, Task
from conftest import PASSWORD
from controls.models import Control
from risk_registry.models import RiskPoint, RiskPointState
from tests.browser import optional_shots

pytestmark = pytest.mark.browser

# Phases around today, in days: the self-checks are overdue, the monitoring phase is running.
PHASES = ((-80, -61), (-60, -10), (-9, -6), (-5, 60), (61, 80))


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_launch_remind_and_complete_by_the_real_work(live_world, live_server, page):
    w = live_world
    RiskPoint.objects.filter(pk=w.submitted.pk).update(state=RiskPointState.APPROVED)  # the workflow is the lead's
    Control.objects.filter(risk_point=w.submitted).update(frequency="monthly")
    today = timezone.localdate()

    log_in(page, live_server, "discipline")
    page.click("[data-testid=nav-cycles]")
    page.click("[data-testid=launch-cycle]")
    page.wait_for_load_state("load")  # the form's deferred script listens for the year before we change it
    page.fill("#id_year", str(today.year + 1))  # the phase dates follow the chosen year
    page.locator("#id_year").dispatch_event("change")
    expect(page.locator("#id_phase_2_starts_on")).to_have_value(f"{today.year + 1}-04-01")
    page.fill("#id_year", str(today.year))
    page.locator("#id_year").dispatch_event("change")
    expect(page.locator("#id_phase_2_starts_on")).to_have_value(f"{today.year}-04-01")
    page.fill("#id_name", "甲局年度廉政风险防控")
    for n, (start, due) in enumerate(PHASES, start=1):
        page.fill(f"#id_phase_{n}_starts_on", (today + datetime.timedelta(days=start)).isoformat())
        page.fill(f"#id_phase_{n}_due_on", (today + datetime.timedelta(days=due)).isoformat())
    page.click("[data-testid=cycle-form] button[type=submit]")
    expect(page.locator("[data-testid=late-errors]")).to_be_visible()  # the self-checks' dates are past
    assert not Cycle.objects.exists()
    page.check("#id_confirm_late")
    page.click("[data-testid=cycle-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("甲局年度廉政风险防控")
    expect(page.locator("[data-testid=generating]")).to_be_visible()
    expect(page.locator("[data-testid=grace]")).to_be_visible()
    cycle = Cycle.objects.get(name="甲局年度廉政风险防控")
    assert cycle.institution == w.a

    call_command("run_deadline_scan")  # beat's next scan: generates the tasks; the grace holds reminders back
    assert not Notification.objects.exists()
    after_grace = cycle.grace_until + datetime.timedelta(days=1)
    call_command("run_deadline_scan", "--now", f"{after_grace.isoformat()}T09:00")

    page.reload()
    expect(page.locator("[data-testid=board]")).to_contain_text("审批科")

    log_in(page, live_server, "holder2")  # 复核岗 has only a draft: the self-check is overdue
    expect(page.locator("[data-testid=nav-inbox-count]")).to_be_visible()  # the overdue self-check waits
    page.click("[data-testid=nav-inbox]")
    expect(page.locator("[data-testid=open-tasks]")).to_contain_text("复核岗")
    expect(page.locator("[data-testid=notifications]")).to_contain_text("复核岗")

    log_in(page, live_server, "holder")
    page.click("[data-testid=nav-inbox]")
    runs = Task.objects.filter(cycle=cycle, kind=Task.Kind.CONTROL_RUN, owner=w.holder)
    assert runs.exists() and not with_done(runs).filter(is_done=True).exists()
    page.locator("[data-testid=open-tasks] a", has_text="双人审核").first.click()
    page.fill("#id_ran_on", today.isoformat())
    page.fill("#id_description", "对本月全部审批件双人复核")
    page.fill("#id_evidence", "复核登记簿第12页")
    page.click("[data-testid=control-run-form] button[type=submit]")
    expect(page.locator("[data-testid=control-runs]")).to_contain_text("对本月全部审批件双人复核")

    page.click("[data-testid=nav-inbox]")
    expect(page.locator("[data-testid=done-tasks]")).to_contain_text("双人审核")
    assert with_done(runs).filter(is_done=True).count() == 1


# Each percentage label of the board, with the box of its cell and of the page: a label cut by its
# bar, its cell or the phone's screen is one whose box leaves them.
CLIPPED_PERCENT_JS = """() => [...document.querySelectorAll('[data-testid=board] [data-testid=percent]')].map(el => {
    const box = el.getBoundingClientRect(), cell = el.closest('td').getBoundingClientRect();
    const inside = box.width > 0 && box.left >= cell.left - 0.5 && box.right <= cell.right + 0.5
        && el.scrollWidth <= el.clientWidth + 1 && box.right <= document.documentElement.clientWidth + 0.5;
    return [el.textContent.trim(), inside];
})"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_board_shows_every_percentage_whole_at_both_widths(
    live_world, live_server, page, django_capture_on_commit_callbacks, monkeypatch, width
):
    """The county's board, paged (one row a page), as the superior office: every row's done share
    reads whole beside its bar, on a desktop and on a phone (issue 16: clipped at 390 px)."""

    from assessments.services import cycle_generate_tasks, cycle_launch

    w = live_world
    with django_capture_on_commit_callbacks(execute=False):
        county = cycle_launch(by=w.superior, institution=w.county, year=2027)
    cycle_generate_tasks(cycle_id=county.pk)
    monkeypatch.setattr("assessments.web.views.BOARD_PAGE", 1)
    log_in(page, live_server, "superior")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{live_server.url}/cycles/{county.pk}/")
    expect(page.get_by_test_id("board-pager")).to_be_visible()
    shots = optional_shots("ux16")
    if shots:
        page.screenshot(path=str(shots / f"cycle-board-{width}.png"), full_page=True)
    labels = page.evaluate(CLIPPED_PERCENT_JS)
    assert len(labels) == 1 and all(text.endswith("%") for text, _inside in labels)
    assert [text for text, inside in labels if not inside] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page never scrolls sideways
    box = page.locator(".table-responsive:has([data-testid=board])")
    assert box.evaluate("el => el.scrollWidth <= el.clientWidth")  # nor the board: every column in sight
