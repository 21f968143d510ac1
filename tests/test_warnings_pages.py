"""The warning pages through the test client: forms, Chinese errors, the notice PDF, query counts."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from integrity_warnings.ladder import DispositionState, Measure
from integrity_warnings.models import Disposition, WarningItem
from risk_registry.organisation.models import AuditAction, AuditEntry
from tests.warnings_helpers import (
    SECRET_FACTS,
    SECRET_SOURCE,
    channel,
    grade,
    inspection_item,
    issue,
    petition_item,
)

pytestmark = pytest.mark.django_db


def _item_form(world, **overrides):
    data = {
        "institution": world.a.pk,
        "channel": channel("petition").pk,
        "received_on": "2026-01-15",
        "grade": grade(world.a, 1).pk,
        "subject_kind": "person",
        "subject_user": world.holder.pk,
        "subject_name": "",
        "source": SECRET_SOURCE,
        "facts": SECRET_FACTS,
    }
    return {**data, **overrides}


def test_the_office_enters_a_confidential_item_through_the_form(world, login):
    client = login(world.discipline)
    response = client.post("/warnings/new/", _item_form(world))
    item = WarningItem.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/warnings/{item.pk}/"
    assert item.confidential and item.source == SECRET_SOURCE and item.subject_user == world.holder


BAD_FORMS = [
    ({"received_on": "2099-01-01"}, "收到日期不能晚于今天"),
    ({"received_on": "昨天"}, "有效的日期"),
    ({"grade": "999999"}, "选择一个有效的选项"),
    ({"facts": ""}, "这个字段是必填项"),
    ({"subject_user": "", "subject_name": ""}, "请填写预警对象的姓名"),
    ({"subject_kind": "department"}, "请选择预警对象所在的科室"),
    ({"institution": "999999"}, "选择一个有效的选项"),
    ({"channel": ""}, "这个字段是必填项"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_FORMS)
def test_bad_item_forms_answer_in_chinese_and_write_nothing(world, login, overrides, message):
    client = login(world.discipline)
    response = client.post("/warnings/new/", _item_form(world, **overrides), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WarningItem.objects.exists()


def test_another_institutions_position_cannot_be_named(world, login):
    client = login(world.outsider)  # bureau B's office: bureau A's positions are not offered
    response = client.post(
        "/warnings/new/",
        _item_form(world, institution=world.b.pk, subject_kind="position", subject_position=world.position.pk),
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert not WarningItem.objects.exists()


def test_issue_form_and_ladder_through_the_pages(world, login):
    item = inspection_item(world)
    client = login(world.discipline)
    page = client.get(f"/warnings/{item.pk}/issue/").content.decode()
    assert "警示提醒" in page and "诫勉谈话" not in page  # only the first rung is offered
    data = {
        "measure": Measure.ADMONITION,
        "recipient_user": world.holder.pk,
        "recipient_name": "张审批",
        "notice_facts": "情况",
        "requirement": "要求",
        "response_days": "5",
        "version": WarningItem.objects.get(pk=item.pk).version,
    }
    response = client.post(f"/warnings/{item.pk}/issue/", data)
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert not Disposition.objects.exists()
    reminder = {**data, "measure": Measure.WARNING_REMINDER}
    response = client.post(f"/warnings/{item.pk}/issue/", {**reminder, "response_days": "0"})
    assert "确保该值大于或等于1" in response.content.decode()
    response = client.post(f"/warnings/{item.pk}/issue/", reminder)
    notice = Disposition.objects.get()
    assert response.status_code == 302 and notice.measure == Measure.WARNING_REMINDER

    holder = login(world.holder)
    assert notice.number in holder.get("/warnings/mine/").content.decode()
    assert notice.number in holder.get("/inbox/").content.decode()  # the one inbox lists the open notice
    response = holder.post(
        f"/warnings/notices/{notice.pk}/respond/", {"version": notice.version, "cause_analysis": "原因"}
    )
    assert "请同时填写风险成因剖析和整改措施" in response.wsgi_request._messages._queued_messages[0].message
    assert Disposition.objects.get().state == DispositionState.ISSUED
    holder.post(
        f"/warnings/notices/{notice.pk}/respond/",
        {"version": notice.version, "cause_analysis": "原因", "measures_taken": "措施"},
    )
    assert Disposition.objects.get().state == DispositionState.ANSWERED
    office = login(world.discipline)
    response = office.post(f"/warnings/notices/{notice.pk}/reject/", {"version": notice.version + 1}, follow=True)
    assert "请说明理由" in response.content.decode()
    assert Disposition.objects.get().state == DispositionState.ANSWERED  # a reason is required
    office.post(f"/warnings/notices/{notice.pk}/reject/", {"version": notice.version + 1, "reason": "措施空泛"})
    assert Disposition.objects.get().state == DispositionState.FAILED
    assert "诫勉谈话" in office.get(f"/warnings/{item.pk}/issue/").content.decode()


def test_unknown_step_is_403_and_bad_version_is_a_conflict(world, login):
    notice = issue(world, inspection_item(world))
    client = login(world.discipline)
    assert client.post(f"/warnings/notices/{notice.pk}/delete/", {"version": 1}).status_code == 403
    assert client.post(f"/warnings/notices/{notice.pk}/accept/", {"version": "x"}).status_code == 302
    assert Disposition.objects.get().state == DispositionState.ISSUED


def test_gets_never_write(world, login):
    item = petition_item(world)
    client = login(world.discipline)
    assert client.get(f"/warnings/{item.pk}/verify/").status_code == 405
    assert client.get(f"/warnings/notices/{issue(world, item).pk}/accept/").status_code == 405


def test_notice_pdf_is_chinese_numbered_and_audited(world, login, tmp_path):
    notice = issue(world, petition_item(world), notice_facts="你在审批工作中存在需要说明的情况。")
    client = login(world.holder)
    assert client.get(f"/warnings/notices/{notice.pk}/pdf/").status_code == 405  # no GET writes
    response = client.post(f"/warnings/notices/{notice.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    compact = text.replace(" ", "").replace("\n", "")
    assert "廉政风险警示提醒书" in compact and "甲局廉预〔2026〕1号" in compact
    assert "2026年3月9日" in compact and "纪检部门" in compact
    assert SECRET_SOURCE not in compact and SECRET_FACTS not in compact
    assert AuditEntry.objects.filter(action=AuditAction.DISPOSITION_NOTICE_EXPORT, target_id=notice.pk).count() == 1
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(response.content)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Serif-CJK-SC" in fonts or "Noto-Sans-CJK-SC" in fonts, fonts


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("persona", ["discipline", "superior", "leader"])
def test_ledger_query_count_does_not_grow_with_rows(world, login, persona):
    client = login(getattr(world, persona))
    inspection_item(world)
    petition_item(world)
    small = _queries(client, "/warnings/?grade=2")
    small_all = _queries(client, "/warnings/")
    for _ in range(20):
        notice = issue(world, inspection_item(world))
        Disposition.objects.filter(pk=notice.pk).update(due_on="2026-01-01")  # overdue rows too
        petition_item(world)
    assert _queries(client, "/warnings/?grade=2") == small
    assert _queries(client, "/warnings/") == small_all


def test_a_risk_point_shows_its_warning_history_to_those_who_see_the_ledger(world, login):
    item = inspection_item(world)  # linked to world.submitted
    secret = petition_item(world, risk_points=[world.submitted])
    url = f"/risks/{world.submitted.pk}/"
    office = login(world.discipline).get(url).content.decode()
    assert item.number in office and secret.number in office and SECRET_FACTS not in office
    leader = login(world.leader).get(url).content.decode()
    assert item.number in leader and f"/warnings/{secret.pk}/" not in leader
    holder = login(world.holder).get(url).content.decode()
    assert f"/warnings/{item.pk}/" not in holder


def test_ledger_statistics_use_the_labels(world, login):
    inspection_item(world)
    notice = issue(world, petition_item(world))
    assert notice.pk
    body = login(world.discipline).get("/warnings/").content.decode()
    stats = body[body.index('data-testid="ledger-stats"') :]
    assert "二级（中）: 1" in stats and "三级（低）: 1" in stats and "处置中: 1" in stats and "已登记: 1" in stats
    assert "信访举报: 1" in stats and "2026-02: 2" in stats


def _county_office(world):
    """A discipline office over the county's three institutions (the county, 甲局, 乙局)."""
    from django.contrib.auth import get_user_model

    from risk_registry.organisation.models import Role
    from risk_registry.organisation.services import membership_grant

    user = get_user_model().objects.create_user(username="county_office", password="x", last_name="县纪委")
    membership_grant(user=user, institution=world.county, role=Role.DISCIPLINE)
    return user


def test_an_office_of_several_institutions_chooses_the_institution_first(world, login):
    client = login(_county_office(world))
    first = client.get("/warnings/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="entry-institutions"' in first and 'data-testid="warning-form"' not in first
    assert all(f"?institution={i.pk}" in first for i in (world.county, world.a, world.b))
    searched = client.get("/warnings/new/?q=甲").content.decode()
    assert f"?institution={world.a.pk}" in searched and f"?institution={world.b.pk}" not in searched
    form = client.get(f"/warnings/new/?institution={world.b.pk}").content.decode()
    # the subject is one of 乙局's posts, departments and people, never 甲局's
    assert "执法岗" in form and "执法股" in form
    assert "审批岗" not in form and "审批科" not in form and "张审批" not in form
    assert 'data-testid="entry-institution"' in form and "乙局" in form


def test_an_institution_outside_the_office_is_404_and_a_bad_one_too(world, login):
    client = login(world.outsider)  # 乙局's office: 甲局 is not its
    for asked in (world.a.pk, "abc", "9" * 40):
        assert client.get(f"/warnings/new/?institution={asked}").status_code == 404, asked
    assert client.get(f"/warnings/new/?institution={world.b.pk}").status_code == 200


def test_the_subject_is_one_of_the_posted_institution(world, login):
    client = login(_county_office(world))
    response = client.post("/warnings/new/", _item_form(world, institution=world.b.pk), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()  # 张审批 is 甲局's
    assert not WarningItem.objects.exists()
    response = client.post("/warnings/new/", _item_form(world))
    item = WarningItem.objects.get()
    assert response.status_code == 302 and item.institution == world.a and item.subject_user == world.holder


def test_the_entry_pages_do_not_grow_with_the_institutions(world, login):
    from risk_registry.organisation.models import Institution
    from risk_registry.organisation.services import institution_create

    client = login(_county_office(world))

    def counted(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    urls = ("/warnings/new/", "/warnings/new/?q=局", f"/warnings/new/?institution={world.a.pk}")
    before = [counted(url) for url in urls]
    for n in range(6):
        institution_create(code=f"more-{n}", name=f"新增{n}局", kind=Institution.Kind.BUREAU, parent=world.county)
    assert [counted(url) for url in urls] == before


def test_a_number_that_is_not_ascii_is_no_id_anywhere_on_the_warning_pages(world, login):
    """'²' and '٣' are digits to ``str.isdigit`` and not to ``int``: read as ids they must be what
    any wrong id is (404 on the entry's link, the form's error, a ledger filter left out)."""
    client = login(world.discipline)
    for odd in ("²", "٣", "1²"):
        assert client.get(f"/warnings/new/?institution={odd}").status_code == 404, odd
        posted = client.post("/warnings/new/", _item_form(world, institution=odd), HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert posted.status_code == 200 and "选择一个有效的选项" in posted.content.decode(), odd
        for name in ("institution", "grade"):
            assert client.get(f"/warnings/?{name}={odd}").status_code == 200, (name, odd)
    assert not WarningItem.objects.exists()
