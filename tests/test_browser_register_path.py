"""In Chromium, the whole path of a grade: holder submits → department head reviews → discipline
office defines → leadership approves → staff comment during notice → principal leader files →
the superior office sees the filing."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from risk_registry.models import Register, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.workflow.snapshots import content_hash

pytestmark = pytest.mark.browser


def login(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=nav-user]")).to_be_visible()


def test_the_whole_path_of_a_register(live_world, live_server, page):
    w, base = live_world, live_server.url
    page.on("dialog", lambda dialog: dialog.accept())
    # This register holds one point: the others of bureau A belong to another year.
    RiskPoint.objects.filter(institution=w.a).exclude(pk=w.draft.pk).update(year=2025)
    register_url = f"{base}/registers/bureau-a/2026/"

    # 1. The holder submits the self-report, withdraws it (the department has not acted yet) and
    #    submits it again.
    login(page, base, "holder")
    page.goto(f"{base}/risks/{w.draft.pk}/")
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    page.click("[data-step=withdraw]")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=w.draft.pk).state == S.DRAFT
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    # 2. The department head reviews the department's submitted points on one page.
    login(page, base, "head")
    page.click("[data-testid=nav-inbox]")
    expect(page.locator("[data-section=to_review]")).to_contain_text("审批中吃拿卡要")
    page.goto(register_url)
    page.click("[data-testid=batch-review]")
    expect(page.locator("[data-testid=batch-row]")).to_have_count(1)
    page.click("[data-testid=batch-submit]")
    expect(page.locator("[data-state=reviewed]")).to_have_text("1")

    # 3. The discipline office defines the level, overriding the proposal (一级 → 二级).
    login(page, base, "discipline")
    page.goto(register_url)
    page.click("[data-testid=batch-define]")
    page.select_option(f"select[name=likelihood_{w.draft.pk}]", "2")
    page.select_option(f"select[name=severity_{w.draft.pk}]", "2")
    page.click("[data-testid=batch-submit]")  # an override without a reason is refused
    expect(page.locator(".alert-danger")).to_contain_text("改定理由")
    page.select_option(f"select[name=likelihood_{w.draft.pk}]", "2")
    page.select_option(f"select[name=severity_{w.draft.pk}]", "2")
    page.fill(f"input[name=reason_{w.draft.pk}]", "已有双人审核，发生概率不高")
    page.click("[data-testid=batch-submit]")
    expect(page.locator("[data-state=defined]")).to_have_text("1")

    # 4. Leadership records a vote that fails (nothing changes), then one that passes. The form
    #    lists the point it covers.
    login(page, base, "leader")
    page.goto(register_url)
    expect(page.locator("[data-testid=approve-points]")).to_contain_text("审批中吃拿卡要")

    def vote(meeting: str, votes_for: str, against: str) -> None:
        card = "[data-testid=approve-card]"
        page.fill(f"{card} input[name=meeting]", meeting)
        page.select_option(f"{card} select[name=meeting_kind]", "party_group")
        page.fill(f"{card} textarea[name=participants]", "周局长、孙副局长")
        page.fill(f"{card} input[name=present]", "2")
        page.fill(f"{card} input[name=votes_for]", votes_for)
        page.fill(f"{card} input[name=votes_against]", against)
        page.fill(f"{card} input[name=votes_abstaining]", "0")
        page.fill(f"{card} textarea[name=decision]", "审定所列风险点等级")
        page.click("[data-testid=approve]")
        expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text("这 1 个风险点将被审定")
        page.click("[data-testid=confirm]")

    vote("2026年第2次局党组会议", "1", "1")
    expect(page.locator("[data-outcome=not_passed]")).to_be_visible()
    expect(page.locator("[data-state=defined]")).to_have_text("1")
    vote("2026年第3次局党组会议", "2", "0")
    expect(page.locator("[data-state=approved]")).to_have_text("1")
    expect(page.locator("[data-outcome=passed]")).to_be_visible()

    # 5. The discipline office publishes it for notice, anonymous comments allowed.
    login(page, base, "discipline")
    page.goto(register_url)
    page.check("#id_allow_anonymous")
    page.click("[data-testid=publish]")
    expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text("这 1 个风险点将进入公示")
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=notice]")).to_be_visible()

    # 6. A member of staff comments during the notice.
    login(page, base, "holder2")
    page.goto(register_url)
    page.fill("#id_text", "建议对窗口受理环节增加视频监控")
    page.fill("#id_risk_point", str(w.draft.pk))
    page.click("[data-testid=comment-submit]")
    expect(page.locator("[data-testid=comment]")).to_contain_text("建议对窗口受理环节增加视频监控")

    # 7. The discipline office answers; when the period is over it issues the register.
    login(page, base, "discipline")
    page.goto(register_url)
    page.fill("[data-testid=comment] textarea[name=answer]", "已采纳,增加中期监控措施")
    page.click("[data-testid=answer]")
    expect(page.locator("[data-testid=comment]")).to_contain_text("已采纳")
    Register.objects.filter(institution=w.a, year=2026).update(  # the clock: the notice period has passed
        notice_ends_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    page.goto(register_url)
    page.click("[data-testid=issue]")
    expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text("这 1 个风险点将被印发")
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-state=issued]")).to_have_text("1")

    # 8. The principal leader signs and files it.
    login(page, base, "principal")
    page.goto(register_url)
    page.click("[data-testid=file]")
    expect(page.locator("[data-testid=confirm-sentence]")).to_contain_text("报上级备案")
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=versions]")).to_contain_text("v1")

    # 9. The superior office sees the filing.
    login(page, base, "superior")
    page.goto(f"{base}/filings/")
    expect(page.locator("[data-testid=filings]")).to_contain_text("甲局")
    page.click("[data-testid=filings] a")
    version = RegisterVersion.objects.get(register__institution=w.a, register__year=2026)
    expect(page.locator("[data-testid=content-hash]")).to_have_text(version.content_hash)
    expect(page.locator("[data-testid=version-points]")).to_contain_text("审批中吃拿卡要")

    assert version.number == 1 and version.signed_by == w.principal
    assert content_hash(version.snapshot) == version.content_hash
    assert version.snapshot["points"][0]["level"]["name"] == "二级"
    assert RiskPoint.objects.get(pk=w.draft.pk).state == S.ISSUED
