"""Excel import: the template, a good file imported exactly, every bad file refused with its
problems and the database unchanged, the guarded reader (bombs, merged cells, formulas, dates)."""

from __future__ import annotations

import datetime
import io
import re
import time
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from controls.models import Control
from controls.services import control_quality_refresh
from risk_registry.documents import import_jobs, services
from risk_registry.documents.models import ExportJob
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.documents_helpers import enrich_register

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "部门（科室）",
    "岗位",
    "职权事项",
    "环节",
    "风险点描述",
    "风险表现形式",
    "风险类型",
    "查找方式",
    "发生概率",
    "危害程度",
    "风险等级",
    "前期预防",
    "中期监控",
    "后期处置",
    "责任人",
]


def good_rows():
    return [
        [
            1,
            "审批科",
            "审批岗",
            "企业登记审批",
            "审查",
            "受理材料时索要好处",
            "暗示申请人",
            "岗位职责风险",
            "自己找",
            3,
            3,
            "一级",
            "双人受理\n公开流程",
            "每月抽查",
            "约谈提醒",
            "科长",
        ],
        [
            2,
            "财务股",
            "会计岗",
            "",
            "",
            "报销把关不严",
            "",
            "岗位职责风险",
            "互相查",
            "有一定可能",
            2,
            "",
            "票据审核",
            "",
            "",
            "股长",
        ],
        [3, "审批科", "", "", "", "科室集体决策不规范", "", "岗位职责风险", "", 1, 1, "三级", "", "季度检查", "", ""],
    ]


def workbook_bytes(rows, header=HEADER, *, before=None, edit=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["甲局2026年度廉政风险点排查及防控措施一览表"])
    sheet.append(["单位：甲局"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if edit:
        edit(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def snapshot_db():
    return (RiskPoint.objects.count(), Control.objects.count(), AuditEntry.objects.count())


def problems_of(world, data) -> list[str]:
    with translation.override("en"):
        result = services.register_import_check(by=world.discipline, institution=world.a, year=2026, data=data)
        return [str(problem) for problem in result.problems]


def test_good_file_imports_exactly(world):
    before = RiskPoint.objects.count()
    result = services.register_import(
        by=world.discipline, institution=world.a, year=2026, data=workbook_bytes(good_rows()), filename="good.xlsx"
    )
    assert result.ok and result.created == 3
    assert RiskPoint.objects.count() == before + 3
    first = RiskPoint.objects.get(description="受理材料时索要好处")
    assert first.department == world.dept and first.position == world.position
    assert first.power_item == world.power and first.process_step.name == "审查"
    assert (first.likelihood, first.severity, first.level.name) == (3, 3, "一级")
    assert first.state == RiskPointState.SUBMITTED and first.manifestation == "暗示申请人"
    assert first.found_by == "self" and first.created_by == world.discipline
    assert sorted(first.controls.values_list("line", "measure", "owner")) == [
        ("disposition", "约谈提醒", "科长"),
        ("monitoring", "每月抽查", "科长"),
        ("prevention", "公开流程", "科长"),
        ("prevention", "双人受理", "科长"),
    ]
    second = RiskPoint.objects.get(description="报销把关不严")
    assert (second.position, second.likelihood, second.severity, second.level.name) == (world.position3, 2, 2, "二级")
    assert second.found_by == "peers"
    third = RiskPoint.objects.get(description="科室集体决策不规范")
    assert third.position is None and third.level.name == "三级"
    entry = AuditEntry.objects.get(action="document.import")
    assert entry.changes["points"] == 3 and entry.actor == world.discipline


def test_imported_points_are_stored_as_the_services_store_one(world):
    """The import writes by COPY, behind the ORM: the database still fills the point's scope path
    (its trigger) and search column (generated), and the control quality is stored right, so that
    ``reconcile_stored`` finds nothing stale."""
    result = services.register_import(
        by=world.discipline, institution=world.a, year=2026, data=workbook_bytes(good_rows()), filename="good.xlsx"
    )
    assert result.ok and result.created == 3
    first = RiskPoint.objects.get(description="受理材料时索要好处")
    assert first.institution_path == world.a.path != ""
    assert "索要" in first.search_bigrams
    assert (first.controls_count, first.vague_controls) == (4, 4)  # no frequency, no evidence
    third = RiskPoint.objects.get(description="科室集体决策不规范")
    assert (third.controls_count, third.vague_controls) == (1, 1)
    assert control_quality_refresh(RiskPoint.objects.all()) == 0  # what reconcile_stored would rewrite
    assert first.created_at == first.updated_at and first.version == 0


BAD_FILES = {
    "unknown department": (
        lambda rows: rows[0].__setitem__(1, "不存在科"),
        ["Row 4, column 部门（科室）: Unknown department “不存在科”. (expected: 审批科、财务股)"],
    ),
    "unknown position": (
        lambda rows: rows[0].__setitem__(2, "司机岗"),
        ["Row 4, column 岗位: Unknown position “司机岗” in 审批科. (expected: 审批岗、复核岗)"],
    ),
    "unknown risk type": (
        lambda rows: rows[1].__setitem__(7, "天气风险"),
        ["Row 5, column 风险类型: Unknown risk type “天气风险”."],
    ),
    "unknown level": (
        lambda rows: rows[0].__setitem__(11, "特级"),
        ["Row 4, column 风险等级: Unknown level “特级”. (expected: 一级、二级、三级)"],
    ),
    "level contradicting the matrix": (
        lambda rows: rows[2].__setitem__(11, "一级"),
        ["Row 6, column 风险等级: The level “一级” does not match the likelihood and severity. (expected: 三级"],
    ),
    "empty description": (
        lambda rows: rows[1].__setitem__(5, None),
        ["Row 5, column 风险点描述: The risk description is empty."],
    ),
    "bad likelihood": (
        lambda rows: rows[0].__setitem__(9, 7),
        ["Row 4, column 发生概率: Bad likelihood “7”. (expected: a number from 1 to 3, or one of: 可能性较小"],
    ),
    "bad severity": (
        lambda rows: rows[1].__setitem__(10, "很严重"),
        ["Row 5, column 危害程度: Bad severity “很严重”."],
    ),
    "duplicate rows": (
        lambda rows: rows.append(list(rows[0])),
        ["Row 7, column 风险点描述: Duplicate of row 4."],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_refused_with_its_message_and_nothing_written(world, kind):
    change, expected = BAD_FILES[kind]
    rows = good_rows()
    change(rows)
    data = workbook_bytes(rows)
    problems = problems_of(world, data)
    for message in expected:
        assert any(problem.startswith(message) for problem in problems), problems
    assert len(problems) == len(expected), problems  # the other rows are fine
    before = snapshot_db()
    with translation.override("en"):
        result = services.register_import(by=world.discipline, institution=world.a, year=2026, data=data)
    assert not result.ok and result.created == 0
    assert snapshot_db() == before


def test_every_problem_of_a_file_is_listed_at_once(world):
    rows = good_rows()
    rows[0][1] = "不存在科"
    rows[1][9] = "x"
    rows[1][10] = 0
    rows[2][7] = ""
    problems = problems_of(world, workbook_bytes(rows))
    assert len(problems) == 4
    assert [re.match(r"Row (\d+)", p).group(1) for p in problems] == ["4", "5", "5", "6"]


def test_point_already_in_the_register_is_a_duplicate(world):
    rows = good_rows()
    rows[0][5] = world.submitted.description
    rows[0][3] = rows[0][4] = ""
    problems = problems_of(world, workbook_bytes(rows))
    assert problems == [
        "Row 4, column 风险点描述: This risk point is already in the 2026 register. "
        "(expected: only points not yet in the register)"
    ]


def test_missing_required_column_is_refused(world):
    header = [h for h in HEADER if h != "风险类型"]
    rows = [[c for i, c in enumerate(r) if HEADER[i] != "风险类型"] for r in good_rows()]
    problems = problems_of(world, workbook_bytes(rows, header))
    assert problems == [
        "File: Required columns are missing: 风险类型 "
        "(expected: 部门（科室）、风险点描述、风险类型、发生概率、危害程度)"
    ]


def test_not_an_excel_file_is_refused(world):
    assert problems_of(world, b"PK\x03\x04 not really")[0].startswith("File: The file is not an Excel workbook.")
    assert problems_of(world, "序号,部门\n".encode())[0].startswith("File: The file is not an Excel workbook.")


def test_merged_department_cells_formulas_and_dates(world):
    rows = good_rows()
    rows[2][1] = None  # merged with the cell above (审批科 … spans rows 4-6)
    rows[1][1] = None
    rows[1][2] = ""

    def edit(sheet):
        sheet.merge_cells("B4:B6")
        sheet["G5"] = datetime.datetime(2026, 3, 1)  # a date where text is expected: kept as Excel shows it
        sheet["G5"].number_format = "yyyy-mm-dd"
        sheet["J6"] = "=1*1"  # a formula: its cached value is read (injected below)

    data = workbook_bytes(rows, edit=edit)
    # openpyxl writes formulas without a cached value; add one as Excel would.
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r'(<c r="J6"[^>]*>)<f>1\*1</f><v\s*/?>(</v>)?', r"\1<f>1*1</f><v>1</v>", xml)
    assert "<v>1</v>" in xml
    entries["xl/worksheets/sheet1.xml"] = xml.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, content in entries.items():
            target.writestr(name, content)
    result = services.register_import(by=world.discipline, institution=world.a, year=2026, data=buffer.getvalue())
    assert result.ok, [str(p) for p in result.problems]
    second = RiskPoint.objects.get(description="报销把关不严")
    assert second.department == world.dept and second.position is None  # department filled from the merge
    assert second.manifestation == "2026-03-01"
    third = RiskPoint.objects.get(description="科室集体决策不规范")
    assert third.department == world.dept and third.likelihood == 1


def dimension_bomb() -> bytes:
    """A tiny workbook whose sheet claims A1:XFD1048576 and has a value in the last cell."""
    data = workbook_bytes(good_rows())
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', xml)
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>')
    entries["xl/worksheets/sheet1.xml"] = xml.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in entries.items():
            target.writestr(name, content)
    return buffer.getvalue()


def test_dimension_bomb_is_refused_fast(world):
    data = dimension_bomb()
    before = snapshot_db()
    started = time.perf_counter()
    problems = problems_of(world, data)
    elapsed = time.perf_counter() - started
    print(
        f"dimension bomb ({len(data)} bytes, claims 16,384 columns × 1,048,576 rows) refused in {elapsed * 1000:.1f} ms"
    )
    assert problems[0].startswith("File: The sheet claims 1048576 rows × 16384 columns.")
    assert snapshot_db() == before


def test_cells_beyond_the_limits_are_refused_even_when_the_dimension_lies(world):
    def edit(sheet):
        sheet.cell(row=5, column=django_settings.RISK_REGISTRY_IMPORT_MAX_COLUMNS + 5, value="x")

    data = workbook_bytes(good_rows(), edit=edit)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        entries = {name: source.read(name) for name in source.namelist()}
    xml = re.sub(
        r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:B2"/>', entries["xl/worksheets/sheet1.xml"].decode()
    )
    entries["xl/worksheets/sheet1.xml"] = xml.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name, content in entries.items():
            target.writestr(name, content)
    assert problems_of(world, buffer.getvalue())[0].startswith("File: The sheet has more than")


def test_oversized_file_is_refused(world, monkeypatch):
    from risk_registry.documents import importer

    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 1000)
    assert problems_of(world, workbook_bytes(good_rows()))[0].startswith("File: The file is ")


def test_exported_overview_imports_back(world, tmp_path):
    """The 一览表 written by the export reads back as the same points (another year, no duplicates)."""
    points = enrich_register(world)
    out = tmp_path / "overview.xlsx"
    call_command("export_register", institution="bureau-a", year=2026, form="overview", fmt="xlsx", out=str(out))
    result = services.register_import(by=None, institution=world.a, year=2027, data=out.read_bytes())
    assert result.ok, [str(p) for p in result.problems]
    imported = RiskPoint.objects.filter(year=2027).order_by("description")
    assert sorted(p.description for p in points) == [p.description for p in imported]
    for original in points:
        copy = imported.get(description=original.description)
        assert (copy.level_id, copy.position_id, copy.likelihood) == (
            original.level_id,
            original.position_id,
            original.likelihood,
        )
        assert sorted(copy.controls.values_list("line", "measure")) == sorted(
            original.controls.values_list("line", "measure")
        )


def test_template_has_the_overview_columns_and_imports_as_empty(world, login):
    response = login(world.discipline).get(reverse("documents_import_template", args=["bureau-a"]))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in workbook.worksheets[0][3]]
    assert header[:12] == [*HEADER[:9], "风险评估", None, None]
    assert [c.value for c in workbook.worksheets[0][4]][9:15] == [
        "发生概率",
        "危害程度",
        "风险等级",
        "前期预防",
        "中期监控",
        "后期处置",
    ]
    assert "审批科" in str([c.value for c in workbook.worksheets[1]["B"]])
    problems = problems_of(world, response.content)
    assert problems == ["File: The file has no risk points below its header. (expected: one row per point)"]


def run_import_jobs() -> list[ExportJob]:
    """What a worker does: run every waiting import job (the suite's transaction never commits, so
    the messages sent on commit are not sent)."""
    pending = ExportJob.objects.filter(kind__in=ExportJob.IMPORT_KINDS, state=ExportJob.State.PENDING)
    for pk in list(pending.order_by("id").values_list("pk", flat=True)):
        import_jobs.import_job_run(pk)
    return list(ExportJob.objects.filter(kind__in=ExportJob.IMPORT_KINDS).order_by("id"))


def upload_and_check(client, data: bytes, *, name: str = "good.xlsx", **fields) -> tuple[str, str]:
    """Upload a file, run its check as a worker would; the job page (with the preview) and the job's token."""
    upload = io.BytesIO(data)
    upload.name = name
    response = client.post(reverse("documents_import", args=["bureau-a"]), {"file": upload, "year": "2026", **fields})
    assert response.status_code == 302
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    run_import_jobs()
    return client.get(response["Location"]).content.decode(), token


def confirm(client, token: str):
    """Confirm a checked import and run its write as a worker would."""
    response = client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token})
    run_import_jobs()
    return response


def test_import_in_the_browser_preview_then_confirm(world, login):
    client = login(world.discipline)
    url = reverse("documents_import", args=["bureau-a"])
    assert client.get(url).status_code == 200
    bad = good_rows()
    bad[0][1] = "不存在科"
    before = snapshot_db()
    page, _token = upload_and_check(client, workbook_bytes(bad), name="bad.xlsx")
    assert 'data-testid="problems"' in page and "不存在科" in page and 'data-testid="confirm"' not in page
    page, token = upload_and_check(client, workbook_bytes(good_rows()))
    assert 'data-testid="preview"' in page and "受理材料时索要好处" in page
    assert snapshot_db() == before  # nothing written by the preview
    assert f'name="job" value="{token}"' in page
    response = confirm(client, token)
    assert response.status_code == 302
    assert RiskPoint.objects.count() == before[0] + 3
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="imported"' in page
    again = confirm(client, token)
    assert again.status_code == 302 and RiskPoint.objects.count() == before[0] + 3  # a check is confirmed once


def test_import_command_dry_run_and_problems_exit_non_zero(world, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook_bytes(good_rows()))
    before = snapshot_db()
    call_command("import_register", institution="bureau-a", file=str(good), year=2026, dry_run=True)
    assert "将导入 3 个风险点" in capsys.readouterr().out  # the command speaks Chinese (issue 15, defect 8)
    assert snapshot_db() == before
    bad_rows = good_rows()
    bad_rows[1][5] = ""
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook_bytes(bad_rows))
    with pytest.raises(CommandError, match="发现 1 个问题"):
        call_command("import_register", institution="bureau-a", file=str(bad), year=2026)
    err = capsys.readouterr().err
    assert "风险点描述" in err and "5" in err  # the problem, printed (in Chinese once translated)
    assert snapshot_db() == before
    call_command("import_register", institution="bureau-a", file=str(good), year=2026)
    assert RiskPoint.objects.count() == before[0] + 3


def test_import_command_exit_status_in_a_subprocess(world, tmp_path):
    """`manage.py import_register` exits non-zero when the file has problems (checked with
    call_command's CommandError above; this asserts the exit code path of BaseCommand)."""
    bad = tmp_path / "bad.xlsx"
    rows = good_rows()
    rows[0][1] = "不存在科"
    bad.write_bytes(workbook_bytes(rows))
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(
            ["manage.py", "import_register", "--institution", "bureau-a", "--file", str(bad), "--year", "2026"]
        ).execute()
    assert exit_info.value.code == 1


# --- issue 15: what the reviewer sees is what is imported (defect 3) -----------------------------


def _with_sheets(*sheets: tuple[str, str, list]) -> bytes:
    """A workbook of (title, state, rows) sheets, each with the 一览表's title lines and header."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, state, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.sheet_state = state
        sheet.append(["甲局2026年度廉政风险点排查及防控措施一览表"])
        sheet.append(["单位：甲局"])
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_first_sheet_is_never_imported(world, state):
    decoy = good_rows()[:1]
    decoy[0][5] = "隐藏工作表里的风险点"
    data = _with_sheets(("隐藏", state, decoy), ("一览表", "visible", good_rows()))
    result = services.register_import_check(by=world.discipline, institution=world.a, year=2026, data=data)
    assert result.ok and result.sheet == "一览表"
    assert [p.description for p in result.planned] == [row[5] for row in good_rows()]
    assert [(s.name, s.visible) for s in result.sheets] == [("隐藏", False), ("一览表", True)]
    before = snapshot_db()
    with translation.override("en"):
        refused = services.register_import(by=world.discipline, institution=world.a, year=2026, data=data, sheet="隐藏")
        missing = services.register_import_check(
            by=world.discipline, institution=world.a, year=2026, data=data, sheet="没有"
        )
        assert str(refused.problems[0]) == (
            "File: The sheet “隐藏” is hidden: only a visible sheet is imported. (expected: 一览表)"
        )
        assert str(missing.problems[0]) == "File: The workbook has no sheet “没有”. (expected: 一览表)"
    assert snapshot_db() == before


def test_the_chosen_visible_sheet_is_imported(world):
    other = good_rows()[:1]
    other[0][5] = "第二张表的风险点"
    data = _with_sheets(("一览表", "visible", good_rows()), ("第二张", "visible", other))
    result = services.register_import(by=world.discipline, institution=world.a, year=2026, data=data, sheet="第二张")
    assert result.ok and result.created == 1
    assert RiskPoint.objects.filter(description="第二张表的风险点").exists()
    assert not RiskPoint.objects.filter(description="受理材料时索要好处").exists()
    entry = AuditEntry.objects.filter(action="document.import").latest("id")
    assert entry.changes["sheet"] == "第二张"


def test_hidden_rows_and_columns_holding_data_are_refused_by_name(world):
    def hide_rows(sheet):
        sheet.row_dimensions[5].hidden = True
        sheet.row_dimensions[6].hidden = True

    def hide_column(sheet):
        sheet.column_dimensions["G"].hidden = True

    before = snapshot_db()
    with translation.override("en"):
        rows = problems_of(world, workbook_bytes(good_rows(), edit=hide_rows))
        column = problems_of(world, workbook_bytes(good_rows(), edit=hide_column))
    assert rows == [
        "File: Hidden rows hold data: 5、6. (expected: no hidden row or column with data: unhide them and check "
        "what they hold, or delete them)"
    ]
    assert column[0].startswith("File: Hidden columns hold data: G.")
    assert snapshot_db() == before


def test_hidden_rows_and_columns_without_data_are_harmless(world):
    def hide_empty(sheet):
        sheet.row_dimensions[20].hidden = True
        sheet.column_dimensions["T"].hidden = True

    assert problems_of(world, workbook_bytes(good_rows(), edit=hide_empty)) == []


def test_the_import_page_lists_the_sheets_and_confirms_the_chosen_one(world, login):
    client = login(world.discipline)
    other = good_rows()[:1]
    other[0][5] = "第二张表的风险点"
    upload = io.BytesIO(_with_sheets(("隐藏", "hidden", good_rows()), ("第二张", "visible", other)))
    upload.name = "two.xlsx"
    page, token = upload_and_check(client, upload.getvalue(), name="two.xlsx", sheet="第二张")
    assert 'data-testid="sheets"' in page and "隐藏" in page and "第二张表的风险点" in page
    confirm(client, token)
    assert list(RiskPoint.objects.filter(year=2026, description__in=[r[5] for r in good_rows()])) == []
    assert RiskPoint.objects.filter(description="第二张表的风险点").count() == 1


# --- issue 15: a single 防范措施 column (defect 4), text cleaned (defect 1) -------------------------

SINGLE = [*HEADER[:12], "防范措施", "责任人"]


def _single(rows_measures: list[str]) -> list[list]:
    return [[*row[:12], measures, row[15]] for row, measures in zip(good_rows(), rows_measures, strict=False)]


def test_a_single_measures_column_is_parsed_line_by_line(world):
    data = workbook_bytes(
        _single(["前期预防：双人受理\n公开流程\n中期：每月抽查\n后期处置约谈提醒", "前期：票据审核", ""]),
        header=SINGLE,
    )
    result = services.register_import(by=world.discipline, institution=world.a, year=2026, data=data)
    assert result.ok, [str(p) for p in result.problems]
    point = RiskPoint.objects.get(year=2026, description="受理材料时索要好处")
    assert sorted(point.controls.values_list("line", "measure")) == [
        ("disposition", "约谈提醒"),
        ("monitoring", "每月抽查"),
        ("prevention", "公开流程"),
        ("prevention", "双人受理"),
    ]
    assert list(RiskPoint.objects.get(description="报销把关不严").controls.values_list("line", "measure")) == [
        ("prevention", "票据审核")
    ]


def test_a_measure_line_that_names_no_line_of_defence_is_refused_not_dropped(world):
    data = workbook_bytes(_single(["建立台账\n前期预防：双人受理"]), header=SINGLE)
    before = snapshot_db()
    with translation.override("en"):
        problems = problems_of(world, data)
    assert problems == [
        "Row 4, column 防范措施: Line 1 of the measures does not say its line of defence: “建立台账”. "
        "(expected: each line beginning with 前期预防：, 中期监控： or 后期处置： (lines below belong to it))"
    ]
    assert snapshot_db() == before


def test_a_bidi_override_in_a_cell_is_refused(world):
    rows = good_rows()
    rows[0][5] = "受理材料时\u202e索要好处"
    with translation.override("en"):
        problems = problems_of(world, workbook_bytes(rows))
    assert problems == [
        "Row 4, column 风险点描述: The text holds invisible direction-control characters (U+202E). "
        "(expected: the same text without them)"
    ]


def _export(form: str, tmp_path) -> bytes:
    out = tmp_path / f"{form}.xlsx"
    call_command("export_register", institution="bureau-a", year=2026, form=form, fmt="xlsx", out=str(out))
    return out.read_bytes()


def test_exported_unit_register_says_what_it_lacks(world, tmp_path):
    enrich_register(world)
    with translation.override("en"):
        problems = problems_of(world, _export("unit-register", tmp_path))
    assert problems[0].startswith("File: Required columns are missing: 发生概率、危害程度")
    assert "import the 一览表" in problems[0]


def test_exported_unit_register_imports_back_with_every_control(world, tmp_path):
    """The 登记表 records the level, not the likelihood and severity: with those two columns added
    (as the refusal asks), every measure of its single 防范措施 column comes back on its line."""
    points = {p.description: p for p in enrich_register(world)}
    workbook = load_workbook(io.BytesIO(_export("unit-register", tmp_path)))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[3]]
    description, last = header.index("风险点描述") + 1, sheet.max_column
    sheet.cell(3, last + 1, "发生概率")
    sheet.cell(3, last + 2, "危害程度")
    for row in range(4, sheet.max_row + 1):
        point = points.get(sheet.cell(row, description).value)
        if point is not None:
            sheet.cell(row, last + 1, point.likelihood)
            sheet.cell(row, last + 2, point.severity)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = services.register_import(by=None, institution=world.a, year=2027, data=buffer.getvalue())
    assert result.ok, [str(p) for p in result.problems]
    imported = {p.description: p for p in RiskPoint.objects.filter(year=2027)}
    assert sorted(imported) == sorted(points)
    for text, original in points.items():
        assert sorted(imported[text].controls.values_list("line", "measure")) == sorted(
            original.controls.values_list("line", "measure")
        ), text
        assert imported[text].level_id == original.level_id
