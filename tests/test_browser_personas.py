"""Every persona's job, in Chromium, at desktop (1280) and phone (390) width (issue 16, "Must show"):
each test starts where the job starts (the world state built directly), does the job through the
pages, checks the page with axe (no serious violation) and for sideways scrolling, keeps
screenshots (``$BROWSER_SHOTS/persona``, else the test's temporary folder) and asserts the effect in
the database.

- discipline office: define levels from the register table; publish for comment (公示); answer a
  comment; import points with the product's own template (downloaded, filled with openpyxl,
  uploaded, checked by a real worker, confirmed) and see them arrive as 已自查上报;
- leadership: record the collective decision, a vote that passes;
- principal leader: sign and file;
- superior office: compare its institutions on the oversight dashboard and open a filing.

The holder's and the department head's jobs are in ``test_browser_inbox_coaching.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from risk_registry import access
from risk_registry.documents import tasks
from risk_registry.models import Decision, NoticeComment, Register, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.tests.test_import_template_lists import filled_template
from risk_registry.workflow import registers
from tests.browser import (
    WIDTHS,
    assert_nav_words_whole,
    assert_no_serious_violations,
    assert_no_sideways_scroll,
    bulk,
    confirm,
    log_in,
    shots_folder,
)
from tests.test_celery_integration import Worker, own_queue, purge_and_delete, wait_for

pytestmark = pytest.mark.browser
YEAR = 2026
REGISTER = f"/registers/bureau-a/{YEAR}/"


def start(page, base: str, username: str, screen: str) -> None:
    """Sign in (at desktop width), then take the job's width."""
    log_in(page, base, username)
    page.set_viewport_size({"width": WIDTHS[screen], "height": 900})


def check_page(page, tmp_path, name: str, screen: str) -> None:
    """A screenshot of the page at this width, axe finds nothing serious, nothing scrolls sideways."""
    page.screenshot(path=str(shots_folder("persona", tmp_path) / f"{name}-{screen}.png"), full_page=True)
    assert_no_serious_violations(page, name)
    assert_no_sideways_scroll(page, name)
    assert_nav_words_whole(page, name)


def register_of_two(w, state: str) -> list[RiskPoint]:
    """Bureau A's register of the year holds two points of 审批岗 (the others go to another year),
    both in ``state``: where a job on the register starts (the register saved, as the steps before
    it would have left it)."""
    registers.register_for(institution=w.a, year=YEAR)
    two = [w.draft.pk, w.submitted.pk]
    RiskPoint.objects.filter(institution=w.a).exclude(pk__in=two).update(year=YEAR - 1)
    RiskPoint.objects.filter(pk__in=two).update(state=state)
    return list(RiskPoint.objects.filter(pk__in=two).order_by("pk"))


def states(*points) -> list[str]:
    return list(RiskPoint.objects.filter(pk__in=[p.pk for p in points]).order_by("pk").values_list("state", flat=True))


# --- the discipline office ------------------------------------------------------------------------


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_discipline_defines_levels_from_the_register_table(live_world, live_server, page, tmp_path, screen):
    w, base = live_world, live_server.url
    register_of_two(w, S.REVIEWED)
    start(page, base, "discipline", screen)
    page.goto(f"{base}{REGISTER}")
    expect(page.locator("[data-testid=batch-define]")).to_contain_text("2")
    check_page(page, tmp_path, "discipline-define-table", screen)
    # 审批中吃拿卡要 was proposed 3×3; the office defines it 2×2, with its reason, the other as proposed
    bulk(page, "define", w.draft.pk, likelihood="2", severity="2", reason="已有双人审核，发生概率不高")
    expect(page.locator("[data-state=defined]")).to_have_text("1")
    bulk(page, "define", w.submitted.pk)
    expect(page.locator("[data-state=defined]")).to_have_text("2")
    # the 下一步 card is never empty: the optional appraisal, and who acts next
    next_steps = page.locator("[data-testid=next-steps]")
    expect(next_steps.locator("[data-testid=next-appraise]")).to_contain_text("民主评议2个风险点")
    expect(next_steps.locator("[data-testid=waiting-others]")).to_have_text(
        "2个纪委已界定的风险点等待党委（党组）会议审定。"
    )
    check_page(page, tmp_path, "discipline-defined", screen)

    assert states(w.draft, w.submitted) == [S.DEFINED, S.DEFINED]
    draft = RiskPoint.objects.get(pk=w.draft.pk)
    assert (draft.likelihood, draft.severity) == (2, 2)


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_discipline_publishes_for_comment(live_world, live_server, page, tmp_path, screen):
    w, base = live_world, live_server.url
    approved = register_of_two(w, S.APPROVED)
    start(page, base, "discipline", screen)
    page.goto(f"{base}{REGISTER}")
    page.fill("#id_days", "7")
    page.check("#id_allow_anonymous")
    check_page(page, tmp_path, "discipline-publish", screen)
    page.click("[data-testid=publish]")
    check_page(page, tmp_path, "discipline-publish-confirm", screen)
    confirm(page, "这 2 个风险点将进入公示")
    expect(page.locator("[data-testid=notice]")).to_be_visible()
    next_steps = page.locator("[data-testid=next-steps]")
    expect(next_steps).to_contain_text("期满后印发台账")
    expect(next_steps).not_to_contain_text("发布公示（0）")  # nothing left to publish: no such button
    check_page(page, tmp_path, "discipline-published", screen)

    assert states(*approved) == [S.IN_NOTICE, S.IN_NOTICE]
    register = Register.objects.get(institution=w.a, year=YEAR)
    assert (register.notice_ends_on - register.notice_starts_on).days == 7
    assert register.allow_anonymous_comments


@pytest.fixture
def comment(live_world):
    """Bureau A's register in notice, with a comment of a member of staff on 审批中吃拿卡要."""
    w = live_world
    register_of_two(w, S.APPROVED)
    register = registers.register_for(institution=w.a, year=YEAR)
    registers.notice_publish(by=w.discipline, register=register, days=7)
    draft = RiskPoint.objects.get(pk=w.draft.pk)
    return registers.notice_comment_add(
        by=w.holder2, register=register, text="建议对窗口受理环节增加视频监控", risk_point=draft
    )


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_discipline_answers_a_comment(live_world, live_server, page, tmp_path, comment, screen):
    base = live_server.url
    start(page, base, "discipline", screen)
    page.goto(f"{base}{REGISTER}")
    expect(page.locator("[data-testid=next-answer]")).to_have_text("答复1条意见")
    item = page.locator("[data-testid=comment]")
    expect(item).to_contain_text("建议对窗口受理环节增加视频监控")
    item.locator("textarea[name=answer]").fill("已采纳，增加窗口视频监控")
    check_page(page, tmp_path, "discipline-answer", screen)
    item.locator("[data-testid=answer]").click()
    expect(page.locator("[data-testid=comment]")).to_contain_text("已采纳，增加窗口视频监控")
    expect(page.locator("[data-testid=next-answer]")).to_have_count(0)
    check_page(page, tmp_path, "discipline-answered", screen)

    answered = NoticeComment.objects.get(pk=comment.pk)
    assert answered.answer == "已采纳，增加窗口视频监控"
    assert answered.answered_by == live_world.discipline and answered.answered_at is not None
    assert RiskPoint.objects.get(pk=comment.risk_point_id).state == S.IN_NOTICE  # answered, not sent back


@pytest.fixture
def import_worker(monkeypatch, tmp_path):
    """A real worker on a queue of the test's own for the import's check and write."""
    queue = own_queue(monkeypatch, tasks.import_job_run.name, "test-browser-personas")
    worker = Worker(queue, tmp_path / "worker.log")
    yield worker
    worker.stop()
    purge_and_delete(queue)


@pytest.mark.integration
@pytest.mark.parametrize("screen", list(WIDTHS))
def test_discipline_imports_points_with_the_template(live_world, live_server, page, tmp_path, import_worker, screen):
    w, base = live_world, live_server.url
    start(page, base, "discipline", screen)
    page.goto(f"{base}/documents/import/bureau-a/")
    expect(page.locator("[data-testid=arrive-as]")).to_contain_text("已自查上报")
    check_page(page, tmp_path, "discipline-import", screen)
    with page.expect_download() as download:
        page.click("[data-testid=template]")
    assert download.value.suggested_filename == "甲局-导入模板.xlsx"
    filled = tmp_path / "甲局风险点.xlsx"
    rows = [
        ("审批科", "审批岗", "受理材料时索要好处", "岗位职责风险"),
        ("财务股", "会计岗", "报销审核走过场", "岗位职责风险"),
    ]
    filled.write_bytes(filled_template(download.value.path().read_bytes(), rows))

    page.set_input_files("#file", str(filled))
    page.fill("#year", str(YEAR))
    page.click("text=检查文件")
    wait_for(lambda: " ready." in import_worker.log(), "ready worker", worker=import_worker)
    expect(page.locator("[data-testid=preview]")).to_contain_text("2个风险点", timeout=30_000)
    expect(page.locator("[data-testid=arrive-as]")).to_contain_text("“已自查上报”")  # the job's page says it too
    check_page(page, tmp_path, "discipline-import-preview", screen)
    before = RiskPoint.objects.count()
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=imported]")).to_contain_text("2", timeout=30_000)
    page.click("[data-testid=imported-list]")
    row = page.locator("[data-testid=risk-point-table] tbody tr", has_text="报销审核走过场")
    expect(row).to_contain_text("已自查上报")
    if screen == "phone":  # the state is read beside the description, not off-screen to the right
        expect(row.locator("[data-testid=row-summary]")).to_have_text("已自查上报 · 财务股 · 会计岗")
        assert row.locator("[data-testid=row-summary]").bounding_box()["x"] < WIDTHS["phone"]
    check_page(page, tmp_path, "discipline-imported-list", screen)

    assert RiskPoint.objects.count() == before + 2
    imported = RiskPoint.objects.filter(description__in=["受理材料时索要好处", "报销审核走过场"])
    assert {(p.position_id, p.state) for p in imported} == {
        (w.position.pk, S.SUBMITTED),
        (w.position3.pk, S.SUBMITTED),
    }


# --- leadership, the principal leader, the superior office ------------------------------------------


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_leadership_records_a_decision_that_passes(live_world, live_server, page, tmp_path, screen):
    w, base = live_world, live_server.url
    defined = register_of_two(w, S.DEFINED)
    start(page, base, "leader", screen)
    page.goto(f"{base}{REGISTER}")
    card = page.locator("[data-testid=approve-card]")
    expect(card.locator("[data-testid=approve-points]")).to_contain_text("审批中吃拿卡要")
    card.locator("input[name=meeting]").fill("2026年第3次局党组会议")
    card.locator("select[name=meeting_kind]").select_option("party_group")
    card.locator("textarea[name=participants]").fill("周局长、孙副局长")
    card.locator("input[name=present]").fill("2")
    card.locator("input[name=votes_for]").fill("2")
    card.locator("input[name=votes_against]").fill("0")
    card.locator("input[name=votes_abstaining]").fill("0")
    card.locator("textarea[name=decision]").fill("审定所列风险点等级")
    check_page(page, tmp_path, "leader-decide", screen)
    page.click("[data-testid=approve]")
    check_page(page, tmp_path, "leader-decide-confirm", screen)
    confirm(page, "这 2 个风险点将被审定")
    expect(page.locator("[data-outcome=passed]")).to_be_visible()
    check_page(page, tmp_path, "leader-decided", screen)

    assert states(*defined) == [S.APPROVED, S.APPROVED]
    decision = Decision.objects.get(register__institution=w.a, register__year=YEAR)
    assert decision.passed and decision.meeting == "2026年第3次局党组会议"
    assert sorted(decision.points.values_list("pk", flat=True)) == [p.pk for p in defined]


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_principal_signs_and_files(live_world, live_server, page, tmp_path, screen):
    w, base = live_world, live_server.url
    register_of_two(w, S.ISSUED)
    start(page, base, "principal", screen)
    page.goto(f"{base}{REGISTER}")
    check_page(page, tmp_path, "principal-register", screen)
    page.click("[data-testid=file]")
    check_page(page, tmp_path, "principal-file-confirm", screen)
    confirm(page, "这 2 个风险点将被签发并报上级备案")
    expect(page.locator("[data-testid=versions]")).to_contain_text("v1")
    check_page(page, tmp_path, "principal-filed", screen)

    version = RegisterVersion.objects.get(register__institution=w.a, register__year=YEAR)
    assert (version.number, version.signed_by, version.filed_with) == (1, w.principal, w.county)
    assert sorted(p["description"] for p in version.snapshot["points"]) == ["审批中吃拿卡要", "违规简化审批程序"]


@pytest.fixture
def filed(live_world):
    """Bureau A's register, issued and filed by its principal leader with the county."""
    w = live_world
    register_of_two(w, S.ISSUED)
    return registers.register_file(by=w.principal, register=Register.objects.get(institution=w.a, year=YEAR))


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_superior_compares_its_institutions_and_opens_a_filing(live_world, live_server, page, tmp_path, filed, screen):
    w, base = live_world, live_server.url
    start(page, base, "superior", screen)
    page.goto(f"{base}/dashboards/oversight/?year={YEAR}")
    rows = page.locator("[data-testid=comparison-row]")
    expect(rows).to_have_count(3)  # the county's own office, 甲局 and 乙局
    check_page(page, tmp_path, "superior-compare", screen)
    # each institution's figure is its count of the year's points the superior may see, as the database has it
    visible = access.risk_points_visible_to(w.superior).filter(year=YEAR)
    for institution in (w.county, w.a, w.b):
        figure = page.locator(f"[data-testid=comparison-row][data-code={institution.code}] [data-testid=figure]")
        expect(figure.first).to_have_text(str(visible.filter(institution=institution).count()))
    assert visible.filter(institution=w.a).count() == 2

    page.goto(f"{base}/filings/")
    expect(page.locator("[data-testid=filings]")).to_contain_text("甲局")
    check_page(page, tmp_path, "superior-filings", screen)
    page.locator("[data-testid=filings] a", has_text=f"v{filed.number}").click()
    expect(page.locator("[data-testid=content-hash]")).to_have_text(filed.content_hash)
    expect(page.locator("[data-testid=version-points]")).to_contain_text("审批中吃拿卡要")
    check_page(page, tmp_path, "superior-filing", screen)
    assert RegisterVersion.objects.get(pk=filed.pk).content_hash == filed.content_hash
