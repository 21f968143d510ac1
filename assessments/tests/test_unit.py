"""Unit assessment: the arithmetic against hand-worked tables, the two stages and who may act,
scoping, the figures the product fills in, evidence files, outcomes (the rectification's deadline
through the scan, exactly once) and the results as Excel and PDF."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from assessments import access as cycle_access
from assessments import unit
from assessments.models import (
    Checklist,
    ChecklistItem,
    Task,
    UnitAssessment,
    UnitEvidenceFile,
    UnitItem,
    UnitOutcome,
)
from assessments.scan import deadline_scan
from assessments.tests.conftest import at, told
from assessments.unit_models import default_grade_bands
from assessments.unit_presets import PIAN5_ITEMS, install_checklist_presets
from controls.models import Control, ControlRun
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Institution
from risk_registry.organisation.services import institution_create

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = datetime.date(2026, 12, 10)

# The hand-worked table: the nine items of 篇5 with the preset's weights.
#   item                 weight  self  assessed  weight × assessed
#   组织领导机构是否健全     10     95      90          900
#   责任分工是否明确         10     90      85          850
#   风险查找是否深入         15     85      80         1200
#   防控措施是否得力         15     80      70         1050
#   预警机制是否健全         10     90      95          950
#   制度执行是否有效         10     70      60          600
#   监督检查是否到位         10     80      75          750
#   考核办法是否科学          5    100     100          500
#   防控效果是否明显         15     90      88         1320
#   Σ                      100                       8120  → 8120 / 100 = 81.2 → 良好
#   self: 950+900+1275+1200+900+700+800+500+1350 = 8575 → 85.75 → 85.8 (half up)
SELF = [95, 90, 85, 80, 90, 70, 80, 100, 90]
FINAL = [90, 85, 80, 70, 95, 60, 75, 100, 88]


@pytest.fixture
def presets():
    install_checklist_presets(Checklist, ChecklistItem)  # a transactional test may have flushed them
    return Checklist.objects.get(institution=None, key="pian5-nine")


@pytest.fixture
def evidence_dir(settings, tmp_path):
    settings.RISK_REGISTRY_EVIDENCE_DIR = tmp_path / "evidence"
    return settings.RISK_REGISTRY_EVIDENCE_DIR


def test_the_preset_is_the_nine_items_with_weights_summing_to_100(presets):
    items = list(presets.items.order_by("order"))
    assert [i.title for i in items] == [title for title, *_rest in PIAN5_ITEMS]
    assert sum(i.weight for i in items) == 100
    assert "篇5" in presets.source
    assert Checklist.objects.get(institution=None, key="jiuquan-six").items.count() == 6


@pytest.mark.parametrize(
    ("pairs", "total"),
    [
        (list(zip([10, 10, 15, 15, 10, 10, 10, 5, 15], FINAL, strict=True)), D("81.2")),
        (list(zip([10, 10, 15, 15, 10, 10, 10, 5, 15], SELF, strict=True)), D("85.8")),  # 85.75 half up
        ([(3, D("85.5")), (2, 90), (2, 77)], D("84.4")),  # 590.5 / 7 = 84.357…
        ([(1, D("80.5")), (1, 80)], D("80.3")),  # 80.25: half up, not half even
        ([(1, 100), (1, 0)], D("50.0")),
        ([(1, 80), (1, None)], None),  # an unscored item: no total yet
    ],
)
def test_weighted_total_against_hand_worked_tables(pairs, total):
    assert unit.weighted_total((D(w), None if s is None else D(s)) for w, s in pairs) == total


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (D("100"), "优秀"),
        (D("90.0"), "优秀"),
        (D("89.9"), "良好"),
        (D("80"), "良好"),
        (D("60"), "合格"),
        (D("59.9"), "不合格"),
        (D(0), "不合格"),
    ],
)
def test_grade_bands(total, grade):
    assert unit.grade_for(total, default_grade_bands()) == grade


def test_grade_bands_are_checked():
    with pytest.raises(ValidationError):
        unit.grade_bands_check([{"name": "好", "min": 90}, {"name": "差", "min": 10}])  # nothing from 0
    with pytest.raises(ValidationError):
        unit.grade_bands_check([{"name": "好", "min": 90}, {"name": "好", "min": 0}])
    with pytest.raises(ValidationError):
        unit.grade_bands_check([{"name": "好", "min": 120}, {"name": "差", "min": 0}])
    assert unit.grade_bands_check([{"name": "差", "min": 0}, {"name": "好", "min": D("75.5")}]) == [
        {"name": "好", "min": 75.5},
        {"name": "差", "min": 0},
    ]


def open_unit(world, cycle, checklist, by=None) -> UnitAssessment:
    return unit.unit_open(by=by or world.principal, cycle=cycle, institution=world.a, checklist=checklist)


def self_scores(assessment, scores):
    items = list(assessment.items.order_by("order"))
    return [unit.SelfScore(i.pk, D(s), f"说明{i.order}", ("register",)) for i, s in zip(items, scores, strict=True)]


def assessed_scores(assessment, scores):
    items = list(assessment.items.order_by("order"))
    return [unit.AssessedScore(i.pk, D(s), f"意见{i.order}") for i, s in zip(items, scores, strict=True)]


def assessed(world, cycle, presets) -> UnitAssessment:
    assessment = open_unit(world, cycle, presets)
    unit.unit_self_score(
        by=world.principal, assessment=assessment, scores=self_scores(assessment, SELF), submit=True, today=TODAY
    )
    return unit.unit_assess(
        by=world.superior,
        assessment=assessment,
        scores=assessed_scores(assessment, FINAL),
        conclusion="总体较好",
        finish=True,
    )


def test_self_scoring_then_the_office_above_assesses(world, cycle, presets):
    assessment = open_unit(world, cycle, presets)
    assert assessment.items.count() == 9 and assessment.grade_bands == presets.grade_bands
    # A save keeps the state; the office above cannot assess before the submission.
    unit.unit_self_score(
        by=world.principal, assessment=assessment, scores=self_scores(assessment, SELF)[:3], submit=False, today=TODAY
    )
    assessment.refresh_from_db()
    assert assessment.state == UnitAssessment.State.SELF and assessment.self_total is None
    with pytest.raises(ValidationError):
        unit.unit_assess(by=world.superior, assessment=assessment, scores=[], conclusion="", finish=True)
    with pytest.raises(ValidationError):  # six items unscored
        unit.unit_self_score(by=world.principal, assessment=assessment, scores=[], submit=True, today=TODAY)

    unit.unit_self_score(
        by=world.principal, assessment=assessment, scores=self_scores(assessment, SELF), submit=True, today=TODAY
    )
    assessment.refresh_from_db()
    assert assessment.state == UnitAssessment.State.SUBMITTED and assessment.self_total == D("85.8")
    with pytest.raises(ValidationError):  # frozen once submitted
        unit.unit_self_score(by=world.principal, assessment=assessment, scores=[], submit=False, today=TODAY)

    # The unit's own discipline office is not the office above it.
    with pytest.raises(PermissionDenied):
        unit.unit_assess(by=world.discipline, assessment=assessment, scores=[], conclusion="", finish=False)
    unit.unit_assess(
        by=world.superior,
        assessment=assessment,
        scores=assessed_scores(assessment, FINAL),
        conclusion="总体较好",
        finish=True,
    )
    assessment.refresh_from_db()
    assert (assessment.final_total, assessment.grade, assessment.state) == (D("81.2"), "良好", "assessed")
    actions = list(
        AuditEntry.objects.filter(target_type="assessments.unitassessment", target_id=assessment.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "unit_assessment.open",
        "unit_assessment.self_score",
        "unit_assessment.self_submit",
        "unit_assessment.assess",
    ]


def test_a_checklist_edited_later_does_not_change_an_opened_assessment(world, cycle, presets):
    own = unit.checklist_adopt(by=world.superior, checklist=presets, institution=world.county)
    assessment = open_unit(world, cycle, own)
    unit.checklist_update(
        by=world.superior,
        checklist=own,
        name="调整后",
        items=[unit.ItemSpec("只有一项", D(1))],
        grade_bands=[{"name": "通过", "min": 0}],
    )
    assert assessment.items.count() == 9 and own.items.count() == 1
    with pytest.raises(PermissionDenied):  # a preset is never edited in place
        unit.checklist_update(by=world.superior, checklist=presets, name="x", items=[], grade_bands=[])
    with pytest.raises(PermissionDenied):  # bureau A's office keeps no checklist of the county
        unit.checklist_update(by=world.discipline, checklist=own, name="x", items=[], grade_bands=[])


def test_who_may_open_score_and_assess(world, cycle, presets):
    assert cycle_access.can_assess_unit(world.superior, world.a)
    assert not cycle_access.can_assess_unit(world.discipline, world.a)
    assert not cycle_access.can_assess_unit(world.outsider, world.a)
    assert not cycle_access.can_assess_unit(world.superior, world.county)  # nobody above it here
    with pytest.raises(PermissionDenied):
        open_unit(world, cycle, presets, by=world.head)
    with pytest.raises(PermissionDenied):
        open_unit(world, cycle, presets, by=world.outsider)
    assessment = open_unit(world, cycle, presets, by=world.superior)
    with pytest.raises(PermissionDenied):  # the office above assesses, it does not score for the unit
        unit.unit_self_score(by=world.superior, assessment=assessment, scores=[], submit=False, today=TODAY)


def test_scoping(world, cycle, presets):
    a = open_unit(world, cycle, presets)
    b = UnitAssessment.objects.create(
        cycle=cycle,
        institution=world.b,
        checklist=presets,
        checklist_name=presets.name,
        grade_bands=[],
        opened_by=world.outsider,
    )
    seen = {
        name: set(cycle_access.unit_assessments_visible_to(getattr(world, name)))
        for name in ("superior", "discipline", "leader", "principal", "head", "holder", "outsider", "nobody")
    }
    assert seen["superior"] == {a, b}  # bureau B is not in bureau A's cycle, but the superior oversees it
    assert seen["discipline"] == seen["leader"] == seen["principal"] == {a}
    assert seen["head"] == seen["holder"] == seen["nobody"] == set()
    assert seen["outsider"] == set()  # bureau B's office does not see bureau A's cycle
    comparison = unit.unit_comparison(user=world.leader, cycle=cycle)
    assert [row["assessment"] for group in comparison for row in group.rows] == [a]


def test_figures_the_product_holds_are_filled_in_and_frozen_on_submission(world, cycle, presets):
    # Posts of bureau A with points out of draft: 审批岗 and 会计岗 of 3.
    # Controls of the approved register: the submitted point's, approved, ran once this year; 会计岗's did not.
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk]).update(state=RiskPointState.APPROVED)
    control = Control.objects.get(risk_point=world.submitted)
    ControlRun.objects.create(
        control=control, ran_on=datetime.date(2026, 10, 9), description="抽查", recorded_by=world.head
    )
    ControlRun.objects.create(
        control=Control.objects.get(risk_point=world.finance_point),
        ran_on=datetime.date(2025, 10, 9),  # last year's run does not count
        description="抽查",
        recorded_by=world.head,
    )
    figures = unit.unit_figures(world.a, 2026, TODAY, ["posts_with_points", "controls_with_runs"])
    assert figures["posts_with_points"] == unit.Figure(2, 3)
    assert figures["controls_with_runs"] == unit.Figure(1, 2)
    assert figures["posts_with_points"].share == D("66.7")

    assessment = open_unit(world, cycle, presets)
    unit.unit_self_score(
        by=world.principal, assessment=assessment, scores=self_scores(assessment, SELF), submit=True, today=TODAY
    )
    finding = assessment.items.get(title="风险查找是否深入")
    assert finding.figure == {"done": 2, "total": 3, "share": "66.7"}
    assert unit.figure_text(finding.evidence, finding.figure).endswith("(66.7%)")
    ControlRun.objects.create(
        control=Control.objects.get(risk_point=world.finance_point),
        ran_on=TODAY,
        description="补",
        recorded_by=world.head,
    )
    assert assessment.items.get(title="制度执行是否有效").figure["done"] == 1  # frozen


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def test_evidence_files_are_sniffed_and_limited(world, cycle, presets, evidence_dir, settings):
    assessment = open_unit(world, cycle, presets)
    item = assessment.items.get(order=1)
    record = unit.evidence_upload(
        by=world.principal, item=item, upload=SimpleUploadedFile("领导小组文件.PDF", PDF, content_type="text/html")
    )
    assert (record.content_type, record.name, record.size) == ("application/pdf", "领导小组文件.pdf", len(PDF))
    assert (evidence_dir / record.stored_as).read_bytes() == PDF

    with pytest.raises(ValidationError):  # a script named .pdf
        unit.evidence_upload(
            by=world.principal, item=item, upload=SimpleUploadedFile("x.pdf", b"<script>alert(1)</script>")
        )
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("evil.exe", b"MZ")
    with pytest.raises(ValidationError):  # a zip that is no Office document
        unit.evidence_upload(by=world.principal, item=item, upload=SimpleUploadedFile("x.docx", zipped.getvalue()))
    settings.RISK_REGISTRY_EVIDENCE_MAX_BYTES = 10
    with pytest.raises(ValidationError):
        unit.evidence_upload(by=world.principal, item=item, upload=SimpleUploadedFile("big.pdf", PDF))
    with pytest.raises(PermissionDenied):
        unit.evidence_upload(by=world.head, item=item, upload=SimpleUploadedFile("a.pdf", PDF))
    assert UnitEvidenceFile.objects.count() == 1
    assert sorted(p.name for p in evidence_dir.iterdir()) == [record.stored_as]  # refused files are removed


def test_evidence_file_is_served_only_to_the_readers(world, cycle, presets, evidence_dir, client):
    assessment = open_unit(world, cycle, presets)
    record = unit.evidence_upload(
        by=world.principal, item=assessment.items.get(order=1), upload=SimpleUploadedFile("a.pdf", PDF)
    )
    url = f"/cycles/{cycle.pk}/units/bureau-a/files/{record.pk}/"
    for persona, status in (("superior", 200), ("leader", 200), ("head", 404), ("holder", 404), ("outsider", 404)):
        client.force_login(getattr(world, persona))
        response = client.get(url)
        assert response.status_code == status, persona
        if status == 200:
            assert b"".join(response.streaming_content) == PDF
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"].startswith("attachment")


def test_rectification_deadline_is_reminded_exactly_once_through_the_scan(world, cycle, presets):
    assessment = assessed(world, cycle, presets)
    deadline = datetime.date(2026, 12, 20)
    outcome = unit.outcome_record(
        by=world.superior,
        assessment=assessment,
        kind=UnitOutcome.Kind.RECTIFY,
        text="完善预警台账",
        deadline=deadline,
        today=TODAY,
    )
    task = outcome.task
    assert (task.kind, task.due_on, task.owner, task.institution) == (
        Task.Kind.RECTIFICATION,
        deadline,
        world.principal,
        world.a,
    )

    def notices():
        return [(who, stage) for _kind, who, stage in told(task=task)]

    deadline_scan(now=at("2026-12-12"))  # 8 days before: nothing yet
    assert notices() == []
    deadline_scan(now=at("2026-12-13"))
    deadline_scan(now=at("2026-12-13", 15))  # again the same day: nothing new
    deadline_scan(now=at("2026-12-15"))
    assert notices() == [("principal", "remind-7")]

    unit.outcome_rectified(by=world.principal, outcome=outcome, note="已补齐台账")
    deadline_scan(now=at("2026-12-19"))
    deadline_scan(now=at("2026-12-23"))  # past the deadline: done, so no reminder and no escalation
    assert notices() == [("principal", "remind-7")]


def test_an_unanswered_rectification_escalates(world, cycle, presets):
    assessment = assessed(world, cycle, presets)
    outcome = unit.outcome_record(
        by=world.superior,
        assessment=assessment,
        kind=UnitOutcome.Kind.RECTIFY,
        text="完善制度",
        deadline=datetime.date(2026, 12, 20),
        today=TODAY,
    )
    deadline_scan(now=at("2026-12-21"))
    deadline_scan(now=at("2026-12-21", 16))
    stages = [(who, stage) for _kind, who, stage in told(task=outcome.task)]
    assert stages == [("leader", "supervise"), ("principal", "supervise")]


def test_outcomes_are_checked(world, cycle, presets):
    assessment = open_unit(world, cycle, presets)
    with pytest.raises(ValidationError):  # not finished yet
        unit.outcome_record(by=world.superior, assessment=assessment, kind="commend", text="表彰", today=TODAY)
    UnitAssessment.objects.all().delete()
    assessment = assessed(world, cycle, presets)
    with pytest.raises(ValidationError):
        unit.outcome_record(by=world.superior, assessment=assessment, kind="rectify", text="整改", today=TODAY)
    with pytest.raises(ValidationError):
        unit.outcome_record(
            by=world.superior,
            assessment=assessment,
            kind="rectify",
            text="整改",
            deadline=TODAY - datetime.timedelta(days=1),
            today=TODAY,
        )
    with pytest.raises(PermissionDenied):
        unit.outcome_record(by=world.principal, assessment=assessment, kind="commend", text="自我表彰", today=TODAY)
    commend = unit.outcome_record(
        by=world.superior, assessment=assessment, kind="commend", text="评为先进单位", today=TODAY
    )
    assert commend.task is None
    with pytest.raises(ValidationError):  # 问责 needs a ledger number that exists
        unit.outcome_record(
            by=world.superior, assessment=assessment, kind="accountability", text="问责", warning_number="", today=TODAY
        )
    assert apps.get_model("integrity_warnings", "WarningItem").objects.count() == 0
    with pytest.raises(ValidationError):
        unit.outcome_record(
            by=world.superior,
            assessment=assessment,
            kind="accountability",
            text="问责",
            warning_number="YJ-2026-999",
            today=TODAY,
        )


def test_results_as_excel_and_pdf(world, cycle, presets, client):
    assessed(world, cycle, presets)
    client.force_login(world.superior)
    response = client.post(f"/cycles/{cycle.pk}/units/export.xlsx")
    assert response.status_code == 200
    assert unquote(response["Content-Disposition"]).endswith("甲局2026年度单位考核评估结果.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    flat = [str(cell) for row in values for cell in row if cell is not None]
    assert "组织领导机构是否健全" in flat and "合计（等级：良好）" in flat and "81.2" in flat
    assert "10.5" in flat  # 防控措施是否得力: 15 × 70 / 100 of the total
    assert AuditEntry.objects.filter(action="unit_assessment.export", actor=world.superior).count() == 1

    response = client.post(f"/cycles/{cycle.pk}/units/export.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client.get(f"/cycles/{cycle.pk}/units/export.pdf").status_code == 405  # no GET writes
    assert client.post(f"/cycles/{cycle.pk}/units/export.doc").status_code == 404


def test_comparison_page_shows_the_units_side_by_side(world, cycle, presets, client):
    assessed(world, cycle, presets)
    client.force_login(world.superior)
    page = client.get(f"/cycles/{cycle.pk}/units/").content.decode()
    assert "81.2" in page and "良好" in page and "组织领导机构是否健全" in page
    client.force_login(world.head)
    page = client.get(f"/cycles/{cycle.pk}/units/").content.decode()
    assert "81.2" not in page


def test_bad_scores_get_a_clear_error(world, cycle, presets, client):
    assessment = open_unit(world, cycle, presets)
    item = assessment.items.get(order=1)
    client.force_login(world.principal)
    response = client.post(f"/cycles/{cycle.pk}/units/bureau-a/self/", {f"score_{item.pk}": "120", "action": "save"})
    assert response.status_code == 200
    assert "100" in response.content.decode()
    item.refresh_from_db()
    assert item.self_score is None
    response = client.post(f"/cycles/{cycle.pk}/units/bureau-a/self/", {f"score_{item.pk}": "abc"})
    assert response.status_code == 200
    assert UnitItem.objects.filter(self_score__isnull=False).count() == 0


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_pages_cost_a_fixed_number_of_queries(world, cycle, presets, client, evidence_dir):
    assessment = assessed(world, cycle, presets)
    client.force_login(world.superior)
    compare, page = f"/cycles/{cycle.pk}/units/", f"/cycles/{cycle.pk}/units/bureau-a/"
    before = (_count(client, compare), _count(client, page))
    for n in range(3):  # more units, assessed, and files on the items
        child = institution_create(code=f"sub-{n}", name=f"下属单位{n}", kind=Institution.Kind.BUREAU, parent=world.a)
        other = unit.unit_open(by=world.superior, cycle=cycle, institution=child, checklist=presets)
        UnitItem.objects.filter(assessment=other).update(self_score=70, final_score=70)
        UnitEvidenceFile.objects.bulk_create(
            UnitEvidenceFile(
                item=item,
                name="a.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0",
                stored_as=f"x{n}-{item.pk}",
                uploaded_by=world.principal,
            )
            for item in assessment.items.all()
        )
    assert (_count(client, compare), _count(client, page)) == before
