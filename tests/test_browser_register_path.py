"""In Chromium, the whole path of a register (issue 9): the holder submits, withdraws and submits
again; the department head returns one point from the register table and reviews the rest in bulk;
the discipline office defines from the table, overriding one level with its reason; leadership
records a vote that fails (nothing changes), then one that passes; notice with a staff comment;
issue; the principal leader files, each of these after a confirmation that says how many points
change; the superior office sees the filing; a later change of the grading scheme leaves the filed
PDF and xlsx the same in content and the version's hash unchanged."""

from __future__ import annotations

import datetime
import io

import pytest
from playwright.sync_api import expect

from risk_registry.documents import rendering
from risk_registry.models import Register, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import GradeLevel, GradingScheme
from risk_registry.tests.documents_helpers import pdf_text, xlsx_text
from risk_registry.workflow.snapshots import content_hash
from tests.browser import bulk, confirm, log_in

pytestmark = pytest.mark.browser


def _filed_documents(version: RegisterVersion) -> tuple[str, str]:
    """The filed version's PDF and xlsx, rendered as the export does, as text and cells."""
    out = []
    for fmt, read in (("pdf", pdf_text), ("xlsx", xlsx_text)):
        buffer = io.BytesIO()
        rendering.render(buffer, document=rendering.document_for_version(version=version), fmt=fmt)
        out.append(read(buffer.getvalue()))
    return out[0], out[1]


def test_the_whole_path_of_a_register(live_world, live_server, page):
    w, base = live_world, live_server.url
    # This register holds three points of 审批科: the holder's draft, a submitted point on the same
    # post and one on 复核岗; the others of bureau A belong to another year.
    RiskPoint.objects.filter(institution=w.a).exclude(pk__in=[w.draft.pk, w.submitted.pk, w.draft2.pk]).update(
        year=2025
    )
    RiskPoint.objects.filter(pk=w.draft2.pk).update(state=S.SUBMITTED)
    register_url = f"{base}/registers/bureau-a/2026/"

    # 1. The holder submits the self-report, withdraws it (the department has not acted yet) and
    #    submits it again.
    log_in(page, base, "holder")
    page.goto(f"{base}/risks/{w.draft.pk}/")
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    page.click("[data-step=withdraw]")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=w.draft.pk).state == S.DRAFT
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    # 2. The department head returns one point from the register table, with a reason, and
    #    reviews the other two in bulk.
    log_in(page, base, "head")
    page.click("[data-testid=nav-inbox]")
    expect(page.locator("[data-section=to_review]")).to_contain_text("审批中吃拿卡要")
    page.goto(register_url)
    expect(page.locator("[data-testid=table-row]")).to_have_count(3)
    bulk(page, "return_to_author", w.submitted.pk, reason="风险表现不具体，请补充")
    expect(page.locator(".alert-success")).to_be_visible()
    assert RiskPoint.objects.get(pk=w.submitted.pk).state == S.DRAFT
    bulk(page, "review", w.draft.pk, w.draft2.pk)
    expect(page.locator("[data-state=reviewed]")).to_have_text("2")
    # The holder resubmits the returned point; the head reviews it too (every point of the
    # register must be issued before it is filed).
    log_in(page, base, "holder")
    page.goto(f"{base}/risks/{w.submitted.pk}/")
    page.click("[data-step=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    log_in(page, base, "head")
    page.goto(register_url)
    bulk(page, "review", w.submitted.pk)
    expect(page.locator("[data-state=reviewed]")).to_have_text("3")

    # 3. The discipline office defines from the table: the holder's point at another level than
    #    proposed (一级 → 二级), refused without a reason, then with it; the other as proposed.
    log_in(page, base, "discipline")
    page.goto(register_url)
    bulk(page, "define", w.draft.pk, likelihood="2", severity="2")
    expect(page.locator(".alert-danger")).to_contain_text("改定理由")
    assert RiskPoint.objects.get(pk=w.draft.pk).state == S.REVIEWED
    bulk(page, "define", w.draft.pk, likelihood="2", severity="2", reason="已有双人审核，发生概率不高")
    expect(page.locator("[data-state=defined]")).to_have_text("1")
    bulk(page, "define", w.draft2.pk, w.submitted.pk)
    expect(page.locator("[data-state=defined]")).to_have_text("3")

    # 4. Leadership records a vote that fails (nothing changes), then one that passes. The form
    #    lists the points it covers; the confirmation says how many will be approved.
    log_in(page, base, "leader")
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
        confirm(page, "这 3 个风险点将被审定")

    vote("2026年第2次局党组会议", "1", "1")
    expect(page.locator("[data-outcome=not_passed]")).to_be_visible()
    expect(page.locator("[data-state=defined]")).to_have_text("3")
    vote("2026年第3次局党组会议", "2", "0")
    expect(page.locator("[data-state=approved]")).to_have_text("3")
    expect(page.locator("[data-outcome=passed]")).to_be_visible()

    # 5. The discipline office publishes them for notice, anonymous comments allowed.
    log_in(page, base, "discipline")
    page.goto(register_url)
    page.check("#id_allow_anonymous")
    page.click("[data-testid=publish]")
    confirm(page, "这 3 个风险点将进入公示")
    expect(page.locator("[data-testid=notice]")).to_be_visible()

    # 6. A member of staff comments during the notice.
    log_in(page, base, "holder2")
    page.goto(register_url)
    page.fill("#id_text", "建议对窗口受理环节增加视频监控")
    page.fill("#id_risk_point", str(w.draft.pk))
    page.click("[data-testid=comment-submit]")
    expect(page.locator("[data-testid=comment]")).to_contain_text("建议对窗口受理环节增加视频监控")

    # 7. The discipline office answers; when the period is over it issues the register.
    log_in(page, base, "discipline")
    page.goto(register_url)
    page.fill("[data-testid=comment] textarea[name=answer]", "已采纳,增加中期监控措施")
    page.click("[data-testid=answer]")
    expect(page.locator("[data-testid=comment]")).to_contain_text("已采纳")
    Register.objects.filter(institution=w.a, year=2026).update(  # the clock: the notice period has passed
        notice_ends_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    page.goto(register_url)
    page.click("[data-testid=issue]")
    confirm(page, "这 3 个风险点将被印发")
    expect(page.locator("[data-state=issued]")).to_have_text("3")

    # 8. The principal leader signs and files it.
    log_in(page, base, "principal")
    page.goto(register_url)
    page.click("[data-testid=file]")
    confirm(page, "这 3 个风险点将被签发并报上级备案")
    expect(page.locator("[data-testid=versions]")).to_contain_text("v1")

    # 9. The superior office sees the filing.
    log_in(page, base, "superior")
    page.goto(f"{base}/filings/")
    expect(page.locator("[data-testid=filings]")).to_contain_text("甲局")
    page.click("[data-testid=filings] a")
    version = RegisterVersion.objects.get(register__institution=w.a, register__year=2026)
    expect(page.locator("[data-testid=content-hash]")).to_have_text(version.content_hash)
    expect(page.locator("[data-testid=version-points]")).to_contain_text("审批中吃拿卡要")

    assert version.number == 1 and version.signed_by == w.principal
    assert content_hash(version.snapshot) == version.content_hash
    levels = {p["description"]: p["level"]["name"] for p in version.snapshot["points"]}
    assert levels["审批中吃拿卡要"] == "二级"
    assert RiskPoint.objects.get(pk=w.draft.pk).state == S.ISSUED

    # 10. The grading scheme changes after filing: the filed PDF and xlsx read the same, and the
    #     version's hash still covers exactly what they print.
    pdf_before, xlsx_before = _filed_documents(version)
    scheme = GradingScheme.objects.get(pk=w.a.grading_scheme_id)
    scheme.name = "今年改过的方案"
    scheme.save()
    GradeLevel.objects.filter(scheme=scheme).update(supervision="改过的监控责任", name="改名")
    version = RegisterVersion.objects.get(pk=version.pk)
    pdf_after, xlsx_after = _filed_documents(version)
    assert (pdf_after, xlsx_after) == (pdf_before, xlsx_before)
    assert "改过的监控责任" not in pdf_after + xlsx_after and "改名" not in pdf_after + xlsx_after
    assert content_hash(version.snapshot) == version.content_hash
