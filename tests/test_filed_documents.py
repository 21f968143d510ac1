"""Filed documents and official forms (issue 9, defects 2 and 6; controls in their lines' order).

- A filed version is reproduced from its frozen snapshot alone: a later change of the grading
  scheme or of the institution's name changes neither the filed PDF's text, nor the xlsx's cells,
  nor the hash; the filing's number, time and signatory are inside the hashed snapshot.
- A level raised after approval does not change the point in place: it goes through the register
  path again and shows in the next version's diff.
- A form titled as the register holds the official points only, identical for every exporter;
  any other export is a working copy (工作稿) with a 状态 column and no signature block.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from controls.models import LINE_ORDER, Control
from risk_registry.documents import rendering, services
from risk_registry.models import Decision, LevelProposal, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import GradeLevel, GradingScheme, Institution
from risk_registry.tests.documents_helpers import pdf_reader, pdf_text, xlsx_text
from risk_registry.workflow import registers
from risk_registry.workflow.snapshots import content_hash, register_snapshot
from risk_registry.workflow.transitions import Change, transition_apply
from tests.exports import as_export_post

pytestmark = pytest.mark.django_db


def _advance(world, points, *, to: str):
    """Walk points through the real register path up to ``to`` (approved, in_notice, issued)."""
    ids = [p.pk for p in points]
    RiskPoint.objects.filter(pk__in=ids).update(state=S.SUBMITTED)
    transition_apply(by=world.discipline, name="review", changes=[Change(point_id=i) for i in ids])
    transition_apply(by=world.discipline, name="define", changes=[Change(point_id=i) for i in ids])
    register = registers.register_for(institution=world.a, year=2026)
    registers.register_decide(
        by=world.leader,
        register=register,
        kind=Decision.Kind.APPROVAL,
        meeting="局党组会议",
        held_on=timezone.localdate(),
        participants="周局长、孙副局长",
        decision="同意",
        vote=registers.Vote(present=2, votes_for=2, against=0, abstaining=0),
        point_ids=ids,
    )
    if to == S.APPROVED:
        return register
    registers.notice_publish(by=world.discipline, register=register, days=5)
    register.refresh_from_db()
    if to == S.IN_NOTICE:
        return register
    registers.register_issue(
        by=world.discipline, register=register, today=timezone.localdate() + datetime.timedelta(days=6)
    )
    return register


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _a_points(world):
    return [world.draft, world.submitted, world.draft2, world.finance_point, world.dept_draft]


def _render_version(version: RegisterVersion, fmt: str) -> bytes:
    buffer = io.BytesIO()
    rendering.render(buffer, document=rendering.document_for_version(version=version), fmt=fmt)
    return buffer.getvalue()


def _cells(data: bytes) -> list[list[tuple]]:
    workbook = load_workbook(io.BytesIO(data))
    return [[tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets]


def _filed(world) -> RegisterVersion:
    register = _advance(world, _a_points(world), to=S.ISSUED)
    return registers.register_file(by=world.principal, register=register)


# --- defect 2: the filed version is its snapshot ---------------------------------------------


def test_filed_documents_and_hash_survive_a_scheme_change_and_a_renamed_institution(world):
    version = _filed(world)
    pdf_before, xlsx_before = _render_version(version, "pdf"), _render_version(version, "xlsx")
    text_before = pdf_text(pdf_before)
    supervision = dict(GradeLevel.objects.filter(scheme=world.a.grading_scheme).values_list("name", "supervision"))
    assert supervision["二级"] and supervision["二级"] in squash(text_before)  # 监控责任 as filed
    assert "周局长" in text_before  # the signatory, from the snapshot

    scheme = GradingScheme.objects.get(pk=world.a.grading_scheme_id)
    scheme.name = "今天改过的方案"
    scheme.save()
    GradeLevel.objects.filter(scheme=scheme).update(supervision="今天改过的监控责任", colour="#123456", name="改名")
    Institution.objects.filter(pk=world.a.pk).update(name="改名后的甲局")
    world.principal.last_name, world.principal.first_name = "改", "名字"
    world.principal.save()

    version = RegisterVersion.objects.select_related("register__institution", "signed_by").get(pk=version.pk)
    pdf_after, xlsx_after = _render_version(version, "pdf"), _render_version(version, "xlsx")
    assert pdf_text(pdf_after) == text_before
    assert _cells(xlsx_after) == _cells(xlsx_before)
    for text in (pdf_text(pdf_after), xlsx_text(xlsx_after)):
        assert "今天改过" not in text and "改名" not in text and "改名字" not in text
        assert "甲局2026年度单位廉政风险点和防范措施登记表" in text
    assert content_hash(version.snapshot) == version.content_hash


def test_the_filing_number_time_and_signatory_are_inside_the_hashed_snapshot(world):
    version = _filed(world)
    snapshot = version.snapshot
    assert snapshot["format"] == 3
    filing = snapshot["filing"]
    assert filing["number"] == version.number == 1
    assert filing["signatory"] == "周局长" and filing["filed_with"] == "某县纪委监委"
    assert datetime.datetime.fromisoformat(filing["filed_at"]) == version.signed_at
    assert snapshot["scheme"]["name"] and all("supervision" in level for level in snapshot["scheme"]["levels"])
    assert all("supervision" in point["level"] for point in snapshot["points"])
    assert content_hash(snapshot) == version.content_hash
    tampered = {**snapshot, "filing": {**filing, "number": 2}}
    assert content_hash(tampered) != version.content_hash


def test_a_format_1_snapshot_prints_not_recorded_never_todays_scheme(world):
    register = registers.register_for(institution=world.a, year=2026)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.ISSUED)
    snapshot = register_snapshot(institution=world.a, year=2026, points=RiskPoint.objects.filter(pk=world.submitted.pk))
    snapshot["format"] = 1  # what filings before format 2 stored: no supervision, no filing block
    del snapshot["filing"]
    for level in (*snapshot["scheme"]["levels"], *(p["level"] for p in snapshot["points"])):
        del level["supervision"]
    version = RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=timezone.now(),
        filed_with=world.county,
    )
    today = dict(GradeLevel.objects.filter(scheme=world.a.grading_scheme).values_list("name", "supervision"))
    for fmt, read in (("pdf", pdf_text), ("xlsx", xlsx_text)):
        text = read(_render_version(version, fmt))
        assert "未记录" in text
        assert today["二级"] not in text
        assert "周局长" not in text  # the signatory was not recorded in the snapshot


# --- defect 2b: a raised level goes through the register path again --------------------------


def test_a_level_raised_after_filing_is_refused_in_place_then_goes_through_the_path(world):
    v1 = _filed(world)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    assert point.level.name == "二级"
    proposal = registers.level_proposal_create(
        by=world.discipline, risk_point=point, likelihood=3, severity=3, reason="多次被举报"
    )
    with pytest.raises(ValidationError, match=r"register path|登记程序"):
        registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True)
    point.refresh_from_db()
    proposal.refresh_from_db()
    assert point.level.name == "二级" and point.state == S.ISSUED  # unchanged
    assert proposal.status == LevelProposal.Status.PENDING

    # The way forward: reopen, accept the raise, walk the path, file v2.
    transition_apply(by=world.discipline, name="revise", changes=[Change(point_id=point.pk)], reason="提高等级")
    registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True)
    register = _advance(world, [point], to=S.ISSUED)
    v2 = registers.register_file(by=world.principal, register=register)
    assert v2.number == 2
    diff = registers.version_diff(v1.snapshot, v2.snapshot)
    changed = {item["id"]: item["fields"] for item in diff["changed"]}
    assert changed[point.pk]["level"] == ["二级", "一级"]
    v1 = RegisterVersion.objects.get(pk=v1.pk)
    assert "一级" not in [p["level"]["name"] for p in v1.snapshot["points"] if p["id"] == point.pk]


def test_accepting_a_raise_on_an_approved_point_is_refused_too(world):
    _advance(world, _a_points(world), to=S.APPROVED)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    proposal = registers.level_proposal_create(
        by=world.discipline, risk_point=point, likelihood=3, severity=3, reason="x"
    )
    with pytest.raises(ValidationError):
        registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True)
    point.refresh_from_db()
    assert point.level.name == "二级"
    registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=False, note="不同意")
    proposal.refresh_from_db()
    assert proposal.status == LevelProposal.Status.REJECTED  # rejecting changes nothing and is allowed


# --- defect 6: official forms are the same for everyone; the rest are working copies ----------


def _export(user, form: str, fmt: str, **params) -> bytes:
    query = {"institution": ["bureau-a"], "year": ["2026"], **{k: [v] for k, v in params.items()}}
    outcome = services.export_start(user=user, kind="list", form_code=form, fmt=fmt, params=query)
    return outcome.file.getvalue()


def _cli(tmp_path, form: str, fmt: str) -> bytes:
    out = tmp_path / f"cli.{fmt}"
    call_command("export_register", institution="bureau-a", year=2026, form=form, fmt=fmt, out=str(out))
    return out.read_bytes()


@pytest.mark.parametrize("form", ["unit-register", "department-register", "overview"])
def test_four_exporters_get_the_same_official_register_during_notice(world, tmp_path, form):
    published = [world.submitted, world.finance_point, world.dept_draft]
    _advance(world, published, to=S.IN_NOTICE)
    RiskPoint.objects.filter(pk=world.draft2.pk).update(state=S.REVIEWED)  # on its way, not official
    exporters = (world.holder, world.discipline, world.principal)
    xlsx = [_cells(_export(user, form, "xlsx")) for user in exporters] + [_cells(_cli(tmp_path, form, "xlsx"))]
    pdfs = [pdf_text(_export(user, form, "pdf")) for user in exporters] + [pdf_text(_cli(tmp_path, form, "pdf"))]
    assert all(cells == xlsx[0] for cells in xlsx)
    assert all(text == pdfs[0] for text in pdfs)
    text = squash(pdfs[0])
    for point in published:
        assert point.description in text
    for other in (world.draft, world.draft2, world.point_b):
        assert other.description not in text
    signed = "部门负责人签字" if form == "department-register" else "主要领导签字"
    assert signed in text and "工作稿" not in text and "状态" not in text


def test_before_notice_the_official_register_is_the_approved_points_and_staff_get_a_working_copy(world, tmp_path):
    _advance(world, [world.submitted, world.finance_point], to=S.APPROVED)
    RiskPoint.objects.filter(pk=world.draft2.pk).update(state=S.SUBMITTED)
    official = [_cells(_export(user, "unit-register", "xlsx")) for user in (world.discipline, world.principal)]
    official.append(_cells(_cli(tmp_path, "unit-register", "xlsx")))
    assert all(cells == official[0] for cells in official)
    text = "\n".join(str(v) for sheet in official[0] for row in sheet for v in row if v)
    assert world.submitted.description in text and world.finance_point.description in text
    assert world.draft2.description not in text and "工作稿" not in text
    # A holder may not read the unpublished register: what they get is marked as a working copy.
    holder = xlsx_text(_export(world.holder, "unit-register", "xlsx"))
    assert "（工作稿）" in holder and "状态" in holder and "主要领导签字" not in holder


def test_a_filtered_export_is_a_working_copy_marked_on_every_page(world):
    _advance(world, [world.submitted, world.finance_point], to=S.APPROVED)
    for point in RiskPoint.objects.filter(pk=world.submitted.pk):
        for n in range(40):
            point.pk, point.description = None, f"批量风险点{n}：" + "审批环节可能存在的廉政风险" * 3
            point.state = S.SUBMITTED
            point.save()
    data = _export(world.discipline, "overview", "pdf", department=str(world.dept.pk))
    reader = pdf_reader(data)
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert "工作稿" in page.extract_text()
    text = squash(pdf_text(data))
    assert "状态" in text and "已自查上报" in text
    assert "主要领导签字" not in text and "单位盖章" not in text

    workbook = load_workbook(io.BytesIO(_export(world.discipline, "overview", "xlsx", department=str(world.dept.pk))))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value.endswith("（工作稿）")
    assert sheet["A2"].value.startswith("工作稿")
    assert "工作稿" in sheet.oddHeader.center.text
    assert "状态" in [c.value for c in sheet[3]]
    values = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "主要领导签字：" not in values


def test_a_working_copy_can_be_asked_for_a_whole_register(world, login):
    _advance(world, [world.submitted], to=S.APPROVED)
    response = login(world.discipline).post(
        reverse("documents_export"),
        as_export_post(
            {"form": "overview", "format": "xlsx", "institution": "bureau-a", "year": "2026", "copy": "working"}
        ),
    )
    assert response.status_code == 200
    assert (
        "工作稿" in response["Content-Disposition"] or "%E5%B7%A5%E4%BD%9C%E7%A8%BF" in response["Content-Disposition"]
    )
    text = xlsx_text(b"".join(response.streaming_content))
    assert "（工作稿）" in text and world.finance_point.description in text  # submitted, visible to the office
    page = login(world.discipline).get(reverse("documents_home"), {"institution": "bureau-a", "year": 2026})
    assert 'data-testid="export-working-xlsx"' in page.content.decode()


# --- controls in their lines' order ------------------------------------------------------------


def _controls_out_of_order(point):
    Control.objects.filter(risk_point=point).delete()
    for line, measure in (("disposition", "丙处置措施"), ("monitoring", "乙监控措施"), ("prevention", "甲预防措施")):
        Control.objects.create(risk_point=point, line=line, measure=measure, owner="科长")


def _in_order(text: str) -> bool:
    text = squash(text)
    positions = [text.find(measure) for measure in ("甲预防措施", "乙监控措施", "丙处置措施")]
    return -1 not in positions and positions == sorted(positions)


def test_controls_are_listed_prevention_monitoring_disposition_everywhere(world, login, tmp_path):
    point = world.submitted
    _controls_out_of_order(point)
    assert [c.line for c in Control.objects.filter(risk_point=point).in_line_order()] == list(LINE_ORDER)
    assert [c.line for c in point.controls.all()] == list(LINE_ORDER)  # the default order too

    detail = login(world.holder).get(reverse("risk_point_detail", args=[point.pk])).content.decode()
    assert _in_order(detail)

    version = _filed(world)
    row = next(p for p in version.snapshot["points"] if p["id"] == point.pk)
    assert [c["line"] for c in row["controls"]] == list(LINE_ORDER)
    page = login(world.discipline).get(reverse("version_detail", args=[version.pk])).content.decode()
    assert _in_order(page)
    for form in ("unit-register", "department-control", "overview"):
        assert _in_order(pdf_text(_cli(tmp_path, form, "pdf"))), form
        assert _in_order(xlsx_text(_cli(tmp_path, form, "xlsx"))), form


def test_an_old_snapshot_with_controls_by_code_is_shown_in_line_order(world, login):
    point = world.submitted
    _controls_out_of_order(point)
    RiskPoint.objects.filter(pk=point.pk).update(state=S.ISSUED)
    snapshot = register_snapshot(institution=world.a, year=2026, points=RiskPoint.objects.filter(pk=point.pk))
    snapshot["points"][0]["controls"].sort(key=lambda c: c["line"])  # format 1 sorted by code
    version = RegisterVersion.objects.create(
        register=registers.register_for(institution=world.a, year=2026),
        number=1,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=timezone.now(),
    )
    assert _in_order(login(world.discipline).get(reverse("version_detail", args=[version.pk])).content.decode())
    assert _in_order(pdf_text(_render_version(version, "pdf")))


def test_the_diff_does_not_count_a_new_control_order_as_a_change():
    controls = [{"line": line, "measure": line} for line in LINE_ORDER]
    point = {"id": 1, "description": "d", "level": {"name": "一级"}}
    older = {"points": [{**point, "controls": sorted(controls, key=lambda c: c["line"])}]}
    newer = {"points": [{**point, "controls": controls}]}
    assert registers.version_diff(older, newer)["changed"] == []
