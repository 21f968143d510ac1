"""Warning grades are the county's own scale (issue 13, item 1): two institutions grading with
different scales sort by seriousness, filter by band, export with their own labels, bands and a
legend, and count by band; the scale page edits a scale with its checks; the migration keeps grades."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from integrity_warnings.grades import LevelRow, scale_of, warning_grades_save
from integrity_warnings.models import WarningGrade, WarningItem
from risk_registry.organisation.models import AuditAction, AuditEntry, Role
from risk_registry.organisation.services import membership_grant
from tests.warnings_helpers import grade, inspection_item

pytestmark = pytest.mark.django_db

# bureau B's own scale: four levels, the 4th below 黄 in the same band
TRAFFIC = [("红", 1, "high"), ("橙", 2, "medium"), ("黄", 3, "low"), ("蓝", 4, "low")]


def _traffic_scale(world):
    rows = [LevelRow(pk=None, label=label, rank=rank, band=band) for label, rank, band in TRAFFIC]
    return warning_grades_save(by=world.county_office, institution=world.b, rows=rows)


@pytest.fixture
def county(world):
    """The county's office (discipline of the county) and two bureaus grading differently, with items."""
    world.county_office = world.superior  # reuse a person: the county's discipline office
    membership_grant(user=world.county_office, institution=world.county, role=Role.DISCIPLINE)
    _traffic_scale(world)
    day = datetime.date(2026, 2, 1)

    def item(institution, rank, days):
        subject = world.holder if institution == world.a else world.outsider_holder
        return inspection_item(
            world,
            by=world.county_office,
            institution=institution,
            grade=rank,
            received_on=day + datetime.timedelta(days=days),
            subject_user=subject,
            risk_points=[],
        )

    world.items = {
        "a3": item(world.a, 3, 1),  # 三级 低
        "b1": item(world.b, 1, 2),  # 红 高
        "a1": item(world.a, 1, 3),  # 一级 高
        "b2": item(world.b, 2, 4),  # 橙 中
        "b4": item(world.b, 4, 5),  # 蓝 低 (the 4th level)
        "a2": item(world.a, 2, 6),  # 二级 中
    }
    return world


def _numbers(body: str) -> list[str]:
    table = body[body.index('data-testid="ledger"') : body.index("</table>")]
    return re.findall(r'/warnings/(\d+)/">', table)


def _ids(world, *keys) -> list[str]:
    return [str(world.items[key].pk) for key in keys]


def test_the_ledger_sorts_by_seriousness_across_scales(county, login):
    body = login(county.county_office).get("/warnings/?order=serious").content.decode()
    # band, then rank, then newest first: 三级 (rank 3, 低) before 蓝 (rank 4, 低)
    assert _numbers(body) == _ids(county, "a1", "b1", "a2", "b2", "a3", "b4")
    assert "红" in body and "蓝" in body and 'data-testid="grade-legend"' in body


def test_the_band_filter_returns_the_items_of_that_band(county, login):
    client = login(county.county_office)
    assert sorted(_numbers(client.get("/warnings/?band=high").content.decode())) == sorted(_ids(county, "a1", "b1"))
    assert sorted(_numbers(client.get("/warnings/?band=low").content.decode())) == sorted(_ids(county, "a3", "b4"))
    orange = grade(county.b, 2).pk
    assert _numbers(client.get(f"/warnings/?grade={orange}").content.decode()) == _ids(county, "b2")


def test_an_invalid_filter_keeps_the_valid_ones_and_says_why(county, login):
    client = login(county.county_office)
    with translation.override("zh-hans"):
        body = client.get("/warnings/?band=high&month=2026-13&grade=abc", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = body.content.decode()
    assert body.status_code == 200
    assert sorted(_numbers(text)) == sorted(_ids(county, "a1", "b1"))  # band=high still applies
    assert "年-月" in text and "选择一个有效的选项" in text


def test_the_export_has_labels_bands_institutions_and_the_legend(county, login):
    response = login(county.county_office).post("/warnings/export.xlsx", {"order": "serious"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header = rows[2]
    assert "单位" in header and "等级" in header and "全县分档" in header
    unit, label, band = header.index("单位"), header.index("等级"), header.index("全县分档")
    body = [row for row in rows[3:] if row[0] and str(row[0]).isdigit()]
    assert [(row[unit], row[label], row[band]) for row in body] == [
        ("甲局", "一级", "高"),
        ("乙局", "红", "高"),
        ("甲局", "二级", "中"),
        ("乙局", "橙", "中"),
        ("甲局", "三级", "低"),
        ("乙局", "蓝", "低"),
    ]
    legend = " ".join(str(row[0]) for row in rows if row and row[0] and "=" in str(row[0]))
    assert "一级=高、二级=中、三级=低" in legend and "红=高、橙=中、黄=低、蓝=低" in legend
    assert "乙局" in legend and "甲局" in legend


def test_the_statistics_count_by_band(county, login):
    body = login(county.county_office).get("/warnings/statistics/").content.decode()
    block = body[body.index('data-testid="stats-band"') :]
    assert "高: 2" in block and "中: 2" in block and "低: 2" in block
    # 二级 of the default scale and 橙 of bureau B are different rows of the grade figure
    grades = body[body.index('data-testid="stats-grade"') :]
    assert "二级（中）: 1" in grades and "橙（中）: 1" in grades


def test_the_item_form_offers_the_institutions_own_scale_only(county):
    with pytest.raises(Exception, match="本单位"), translation.override("zh-hans"):
        inspection_item(county, by=county.county_office, institution=county.a, grade=grade(county.b, 1))
    assert WarningItem.objects.filter(institution=county.a).count() == 3


# the scale page ------------------------------------------------------------------------------


def _post(levels):
    data = {
        "levels-TOTAL_FORMS": str(len(levels)),
        "levels-INITIAL_FORMS": str(sum(1 for level in levels if level.get("pk"))),  # as the page renders
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "30",
    }
    for n, level in enumerate(levels):
        for key, value in level.items():
            data[f"levels-{n}-{key}"] = value
    return data


def test_the_office_copies_then_renames_reorders_and_adds(world, login):
    item = inspection_item(world, grade=1)  # 一级 of the default scale
    default_first = item.grade
    client = login(world.discipline)  # bureau A's office
    page = client.get("/warnings/grades/bureau-a/")
    assert page.status_code == 200 and "一级" in page.content.decode()
    levels = [
        {"pk": g.pk, "label": {1: "特别严重", 2: "较重", 3: "一般"}[g.rank], "rank": g.rank, "band": g.band}
        for g in scale_of(world.a)
    ]
    levels.append({"label": "轻微", "rank": "4", "band": "low"})
    response = client.post("/warnings/grades/bureau-a/", _post(levels))
    assert response.status_code == 302
    own = scale_of(world.a)
    assert [(g.label, g.rank, g.band, g.institution_id) for g in own] == [
        ("特别严重", 1, "high", world.a.pk),
        ("较重", 2, "medium", world.a.pk),
        ("一般", 3, "low", world.a.pk),
        ("轻微", 4, "low", world.a.pk),
    ]
    item.refresh_from_db()
    assert item.grade == own[0]  # moved to the copy, same level
    default_first.refresh_from_db()
    assert default_first.label == "一级" and scale_of(world.b)[0].label == "一级"  # others untouched
    entry = AuditEntry.objects.get(action=AuditAction.WARNING_GRADES_UPDATE)
    assert entry.institution_id == world.a.pk and entry.changes["after"][3]["label"] == "轻微"
    # reorder: swap ranks 3 and 4 in one save (the unique rank is checked at commit)
    swap = [{"pk": g.pk, "label": g.label, "rank": {3: 4, 4: 3}.get(g.rank, g.rank), "band": g.band} for g in own]
    swapped = client.post("/warnings/grades/bureau-a/", _post(swap))
    assert swapped.status_code == 302, re.findall(r"alert[^>]*>([^<]*)", swapped.content.decode())
    assert [g.label for g in scale_of(world.a)] == ["特别严重", "较重", "轻微", "一般"]


BAD_SCALES = [
    ([("一级", 1, "high"), ("二级", 1, "medium")], "序位相同"),
    ([("一级", 1, "high"), ("一级", 2, "medium")], "名称相同"),
]


@pytest.mark.parametrize(("levels", "words"), BAD_SCALES)
def test_bad_scales_are_refused_in_chinese_and_change_nothing(world, login, levels, words):
    client = login(world.discipline)
    data = _post([{"label": label, "rank": rank, "band": band} for label, rank, band in levels])
    body = client.post("/warnings/grades/bureau-a/", data, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert words in body.content.decode()
    assert not WarningGrade.objects.filter(institution=world.a).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.WARNING_GRADES_UPDATE).exists()


def test_a_level_needs_a_label_and_the_scale_a_level(world, login):
    client = login(world.discipline)
    shown = scale_of(world.a)
    blank_label = [{"pk": g.pk, "label": "" if g.rank == 1 else g.label, "rank": g.rank, "band": g.band} for g in shown]
    body = client.post("/warnings/grades/bureau-a/", _post(blank_label), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "每个等级都需要名称" in body.content.decode()
    all_gone = [{"pk": g.pk, "label": g.label, "rank": g.rank, "band": g.band, "delete": "on"} for g in shown]
    body = client.post("/warnings/grades/bureau-a/", _post(all_gone), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "至少需要一个等级" in body.content.decode()
    assert not WarningGrade.objects.filter(institution=world.a).exists()


def test_a_level_in_use_cannot_be_deleted(world, login):
    inspection_item(world, grade=3)
    client = login(world.discipline)
    shown = scale_of(world.a)
    data = [
        {"pk": g.pk, "label": g.label, "rank": g.rank, "band": g.band, "delete": "on" if g.rank == 3 else ""}
        for g in shown
    ]
    body = client.post("/warnings/grades/bureau-a/", _post(data), follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "三级" in body.content.decode() and "不能删除" in body.content.decode()
    assert not WarningGrade.objects.filter(institution=world.a).exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("outsider", 404), ("holder", 403), ("leader", 403), ("superior", 403)]
)
def test_only_the_office_edits_the_scale(world, login, persona, status):
    client = login(getattr(world, persona))
    shown = scale_of(world.a)
    data = _post([{"pk": g.pk, "label": "改", "rank": g.rank, "band": g.band} for g in shown[:1]])
    assert client.get("/warnings/grades/bureau-a/").status_code == status
    assert client.post("/warnings/grades/bureau-a/", data).status_code == status
    assert not WarningGrade.objects.filter(institution=world.a).exists()


# the migration ---------------------------------------------------------------------------------

BEFORE = [("integrity_warnings", "0003_report_attachments")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_integer_grade_to_the_default_scale():
    executor = MigrationExecutor(connection)
    after = [("integrity_warnings", executor.loader.graph.leaf_nodes("integrity_warnings")[0][1])]
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        user = old.get_model("auth", "User").objects.create(username="migration-test")
        institution = old.get_model("organisation", "Institution").objects.create(
            code="migration-test", name="迁移测试局", kind="bureau", path="/0/"
        )
        old.get_model("organisation", "Institution").objects.filter(pk=institution.pk).update(
            path=f"/{institution.pk}/"
        )
        channel = old.get_model("integrity_warnings", "WarningChannel").objects.get(code="audit", institution=None)
        item = old.get_model("integrity_warnings", "WarningItem")
        for rank in (1, 2, 3, 2):
            item.objects.create(
                institution_id=institution.pk,
                number=f"2026-{item.objects.count() + 1:03d}",
                channel=channel,
                received_on=datetime.date(2026, 1, 5),
                facts="审计发现",
                subject_kind="institution",
                grade=rank,
                created_by=user,
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(after)
    graded = WarningItem.objects.filter(institution__code="migration-test").order_by("number")
    assert [(i.grade.label, i.grade.rank, i.grade.band, i.grade.institution_id) for i in graded] == [
        ("一级", 1, "high", None),
        ("二级", 2, "medium", None),
        ("三级", 3, "low", None),
        ("二级", 2, "medium", None),
    ]


def test_the_pdf_ledger_has_the_bands_and_the_legend(county, login):
    response = login(county.county_office).post("/warnings/export.pdf", {"band": "high"})
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).replace(" ", "")
    assert "全县分档" in text and "单位" in text and "红" in text and "一级" in text
    assert "橙" not in text.split("等级说明")[0]  # the band filter applies to the rows
    assert "红=高、橙=中、黄=低、蓝=低" in text.replace("\n", "")
