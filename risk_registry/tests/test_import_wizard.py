"""The import wizard: the three published layouts imported with nothing lost, level words mapped
by order and never inverted silently, levels decided directly, the mapping remembered."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from controls.models import Control
from positions.models import Position, PowerItem
from risk_registry.documents import pdf, services, wizard
from risk_registry.documents.definitions import LIKELIHOOD, SEVERITY
from risk_registry.documents.importer import read_grid
from risk_registry.documents.models import ImportMapping
from risk_registry.documents.rendering import document_for_points, export_dir
from risk_registry.models import FoundBy, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Department, RiskType
from risk_registry.organisation.services import grading_scheme_adopt_preset
from risk_registry.services import risk_points_copy
from risk_registry.tests import wizard_layouts as layouts
from risk_registry.web.views.import_wizard import WIZARD_SESSION_KEY
from risk_registry.workflow.snapshots import point_row, point_rows
from risk_registry.workflow.transitions import Change, transition_apply

pytestmark = pytest.mark.django_db
KEY = WIZARD_SESSION_KEY


def url(name: str) -> str:
    return reverse(name, kwargs={"code": "bureau-a"})


def upload(client, data: bytes, name: str = "register.xlsx", year: int = 2026):
    return client.post(
        url("documents_wizard_upload"),
        {"file": SimpleUploadedFile(name, data), "year": year},
    )


def mapping(client) -> dict:
    return client.session[KEY]["mapping"]


def post_columns(client, **overrides):
    columns = list(mapping(client)["columns"])
    for index, target in overrides.items():
        columns[int(index.removeprefix("c"))] = target
    data = {"step": "columns"} | {f"column_{i}": t for i, t in enumerate(columns)}
    return client.post(url("documents_wizard_step"), data)


def post_values(client, *, levels=None, state="draft", **extra):
    current = mapping(client)
    data = {"step": "values", "state": state, "default_line": current.get("default_line", "prevention")}
    for i, (word, code) in enumerate(current.get("levels", {}).items()):
        data[f"level_{i}"] = (levels or {}).get(word, code)
    for i, (_word, pk) in enumerate(current.get("risk_types", {}).items()):
        data[f"type_{i}"] = pk
    for i, (_word, code) in enumerate(current.get("found_by", {}).items()):
        data[f"found_{i}"] = code
    for i, (_word, chosen) in enumerate(current.get("departments", {}).items()):
        data[f"department_{i}"] = chosen
    return client.post(url("documents_wizard_step"), data | extra)


def confirm(client):
    return client.post(url("documents_wizard_confirm"), {"token": client.session[KEY]["token"]})


@pytest.fixture
def office(world, login):
    client = login(world.discipline)
    yield client
    for path in export_dir().glob("import-*.xlsx"):
        path.unlink(missing_ok=True)


def a_risk_type():
    return str(RiskType.objects.filter(institution__isnull=True, is_active=True).order_by("id").first().pk)


def assert_nothing_lost(rows, header, *, level_column=None, measure_column=None, level_map=None):
    """Every non-empty source cell is found again in its point, its controls or its notes."""
    points = list(
        RiskPoint.objects.filter(institution__code="bureau-a", import_order__isnull=False)
        .select_related("department", "position", "power_item", "level")
        .prefetch_related("controls")
        .order_by("import_order")
    )
    assert len(points) == len(rows)
    previous: list = [None] * len(header)
    for point, row in zip(points, rows, strict=True):
        text = layouts.texts_of(point)
        for index, value in enumerate(row):
            value = previous[index] if value is None and header[index] in ("单位/科室", "岗位类别") else value
            previous[index] = value
            if value is None or header[index] == "序号":
                continue
            if index == level_column:
                assert point.level.code == level_map[value], (value, point.level)
            elif index == measure_column:
                for word in layouts.measure_words(value):
                    assert any(word in c.measure for c in point.controls.all()), (word, text)
            else:
                assert str(value) in text, (header[index], value, text)


def test_housing_layout_merged_units_levels_graded_directly(world, office):
    response = upload(office, layouts.housing_xlsx(), "住建局.xlsx")
    assert response.status_code == 302
    state = office.session[KEY]
    assert state["mapping"]["header_row"] == 1  # the title row above is not data
    assert state["mapping"]["columns"] == [
        "serial",
        "department",
        "description",
        "manifestation",
        "level",
        "measures",
        "head",
        "leader",
    ]
    page = office.get(url("documents_wizard") + "?step=columns")
    assert "单位/科室" in page.content.decode() and "4" in page.content.decode()
    post_columns(office)
    current = mapping(office)
    assert current["levels"] == {"高": "1", "中": "2", "低": "3"}  # 一级 is the most serious here
    assert current["departments"] == {"领导班子成员": "new"}
    before = (RiskPoint.objects.count(), AuditEntry.objects.count())
    post_values(office, default_risk_type=a_risk_type())
    check = office.get(url("documents_wizard") + "?step=check")
    assert check.context["checked"].ok, check.context["checked"].problems
    assert (RiskPoint.objects.count(), AuditEntry.objects.count()) == before  # the check writes nothing
    assert confirm(office).status_code == 302
    points = RiskPoint.objects.filter(import_order__isnull=False).order_by("import_order")
    assert [p.state for p in points] == [RiskPointState.DRAFT] * 4
    assert all(p.graded_directly and p.likelihood is None and p.severity is None for p in points)
    assert {p.found_by for p in points} == {FoundBy.UNRECORDED}  # never filled in as 自己找
    assert Department.objects.filter(institution=world.a, name="领导班子成员").exists()
    first, second, third, _fourth = points
    assert [c.measure for c in first.controls.all().order_by("id")] == ["严格审查资料", "集体研究决定", "定期公示结果"]
    assert sorted((c.line, c.measure) for c in second.controls.all()) == [
        ("disposition", "倒查追责"),
        ("prevention", "验收清单化"),
    ]
    assert [c.measure for c in third.controls.all().order_by("id")] == ["落实插手工程项目登记制度", "主动报告"]
    assert first.head_in_charge == "王科长" and first.leader_in_charge == "李副局长"
    assert second.head_in_charge == "" and second.department.name == "审批科"  # merged: the unit only
    assert_nothing_lost(
        layouts.HOUSING_ROWS,
        layouts.HOUSING_HEADER,
        level_column=4,
        measure_column=5,
        level_map={"高": "1", "中": "2", "低": "3"},
    )
    assert ImportMapping.objects.filter(institution=world.a).exists()
    assert KEY not in office.session


def test_market_layout_numbered_measures_power_items_and_owners(world, office):
    upload(office, layouts.market_xlsx(), "市场监管局.xlsx")
    assert mapping(office)["header_row"] == 2
    assert mapping(office)["columns"] == ["department", "power_item", "description", "level", "measures", "owner"]
    post_columns(office)
    post_values(office, default_risk_type=a_risk_type(), state="issued")
    check = office.get(url("documents_wizard") + "?step=check")
    result = check.context["checked"].result
    assert not result.problems, result.problems
    assert result.new_power_items == ["行政处罚", "食品经营许可"]
    confirm(office)
    points = list(RiskPoint.objects.filter(import_order__isnull=False).order_by("import_order"))
    assert [p.state for p in points] == [RiskPointState.ISSUED] * 3
    assert [c.measure for c in points[0].controls.order_by("id")] == [
        "严格执行裁量基准",
        "重大案件集体讨论",
        "处罚结果公开",
    ]
    assert [c.measure for c in points[1].controls.order_by("id")] == ["一次性告知", "限时办结", "双人核查"]
    assert {c.owner for c in points[0].controls.all()} == {"张三"}
    assert points[0].power_item == points[2].power_item and points[0].power_item.name == "行政处罚"
    assert PowerItem.objects.filter(institution=world.a, name="食品经营许可").count() == 1
    assert_nothing_lost(
        layouts.MARKET_ROWS,
        layouts.MARKET_HEADER,
        level_column=3,
        measure_column=4,
        level_map={"一级": "1", "二级": "2", "三级": "3"},
    )


def test_company_layout_without_level_is_flagged_for_grading(world, office):
    upload(office, layouts.company_xlsx(), "公司.xlsx")
    assert mapping(office)["columns"] == ["department", "description", "manifestation", "measures", "note"]
    post_columns(office)
    post_values(office, default_risk_type=a_risk_type())
    check = office.get(url("documents_wizard") + "?step=check")
    problems = [str(p) for p in check.context["checked"].problems]
    assert any("level" in p or "等级" in p for p in problems)  # no level invented: the user must choose
    post_values(office, default_risk_type=a_risk_type(), default_level="3")
    assert office.get(url("documents_wizard") + "?step=check").context["checked"].ok
    confirm(office)
    points = list(RiskPoint.objects.filter(import_order__isnull=False).order_by("import_order"))
    assert all(p.needs_regrading and p.graded_directly and p.level.code == "3" for p in points)
    assert points[0].notes == "监测指标：流标率"
    assert points[1].department.name == "采购管理"  # merged down
    assert_nothing_lost(layouts.COMPANY_ROWS, layouts.COMPANY_HEADER, measure_column=3)


def test_level_3_highest_mapping_cannot_be_inverted_silently(world, office):
    grading_scheme_adopt_preset(institution=world.a, preset_code="level-3-highest")
    upload(office, layouts.housing_xlsx())
    post_columns(office)
    assert mapping(office)["levels"] == {"高": "3", "中": "2", "低": "1"}  # 三级 is the most serious
    page = office.get(url("documents_wizard") + "?step=values").content.decode()
    order = page[page.index('data-testid="scheme-order"') :]
    assert order.index("1. ") < order.index("三级") < order.index("二级") < order.index("一级")
    assert page.count('class="level-badge" data-colour="#') >= 6  # the scheme and each mapped word, coloured
    before = (RiskPoint.objects.count(), Control.objects.count(), AuditEntry.objects.count())
    post_values(office, levels={"高": "1", "低": "3"}, default_risk_type=a_risk_type())  # the naive reading
    check = office.get(url("documents_wizard") + "?step=check")
    problems = check.context["checked"].problems
    assert problems and all(p.row is None for p in problems)
    assert any("“高”" in p.message and "“低”" in p.message for p in problems)
    confirm(office)
    assert (RiskPoint.objects.count(), Control.objects.count(), AuditEntry.objects.count()) == before


def test_the_mapping_is_remembered_for_the_second_import(world, office):
    upload(office, layouts.company_xlsx())
    post_columns(office, c2="note", c4="ignore")  # 风险描述 kept as a note; 监测指标 ignored
    post_values(office, default_risk_type=a_risk_type(), default_level="2")
    confirm(office)
    remembered = ImportMapping.objects.get(institution=world.a)
    assert remembered.columns["风险描述"] == "note" and remembered.columns["监测指标"] == "ignore"
    upload(office, layouts.company_xlsx(), year=2027)
    state = office.session[KEY]
    assert state["remembered"] is True
    assert state["mapping"]["columns"] == ["department", "description", "note", "measures", "ignore"]
    assert 'data-testid="remembered"' in office.get(url("documents_wizard") + "?step=columns").content.decode()


def test_get_pages_never_write_and_other_users_are_refused(world, office, client, login):
    upload(office, layouts.market_xlsx())
    before = dict(office.session[KEY])
    for step in ("upload", "columns", "values", "check"):
        assert office.get(url("documents_wizard") + f"?step={step}").status_code == 200
    assert office.session[KEY] == before
    assert login(world.holder).get(url("documents_wizard")).status_code == 403
    assert login(world.outsider).get(url("documents_wizard")).status_code == 404


def test_bad_header_row_is_a_clear_400(world, office):
    upload(office, layouts.market_xlsx())
    response = office.post(url("documents_wizard_step"), {"step": "header", "header_row": "abc"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1.甲；2.乙；3.丙", [("prevention", "甲"), ("prevention", "乙"), ("prevention", "丙")]),
        ("（1）甲（2）乙", [("prevention", "甲"), ("prevention", "乙")]),
        (
            "前期预防：甲\n乙\n中期监控：丙\n后期：丁",
            [("prevention", "甲"), ("prevention", "乙"), ("monitoring", "丙"), ("disposition", "丁")],
        ),
        ("①甲\n②乙", [("monitoring", "甲"), ("monitoring", "乙")]),
        ("一、甲\n二、乙", [("prevention", "甲"), ("prevention", "乙")]),
    ],
)
def test_split_measures(cell, expected):
    default = "monitoring" if cell.startswith("①") else "prevention"
    assert wizard.split_measures(cell, default) == expected


def test_the_command_takes_a_mapping_file(world, tmp_path):
    path = tmp_path / "公司.xlsx"
    path.write_bytes(layouts.company_xlsx())
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_text(
        '{"columns": ["department", "description", "manifestation", "measures", "note"], "create_unknown": true,'
        f' "default_risk_type": "{a_risk_type()}", "default_level": "3", "state": "draft"}}',
        encoding="utf-8",
    )
    call_command("import_register", institution="bureau-a", file=str(path), year=2026, mapping=str(mapping_file))
    assert RiskPoint.objects.filter(import_order__isnull=False).count() == 3
    assert services.import_mapping_of(world.a) is not None


def _graded_directly(world, state=RiskPointState.REVIEWED) -> RiskPoint:
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    point.likelihood = point.severity = None
    point.graded_directly, point.state = True, state
    point.save()
    return point


def test_a_level_decided_directly_needs_no_numbers_and_may_be_assessed_later(world):
    point = _graded_directly(world)
    with pytest.raises(ValidationError):  # one of the two alone would leave the matrix without input
        transition_apply(by=world.discipline, name="define", changes=[Change(point_id=point.pk, likelihood=3)])
    [kept] = transition_apply(by=world.discipline, name="define", changes=[Change(point_id=point.pk)])
    assert kept.graded_directly and kept.likelihood is None and kept.state == RiskPointState.DEFINED
    point = _graded_directly(world)
    [moved] = transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=point.pk, likelihood=3, severity=3, reason="评定后")],
    )
    moved.refresh_from_db()
    assert not moved.graded_directly and (moved.likelihood, moved.severity) == (3, 3) and moved.level.name == "一级"


def test_the_database_refuses_a_point_without_numbers_that_is_not_graded_directly(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskPoint.objects.filter(pk=world.submitted.pk).update(likelihood=None)


def test_forms_print_graded_directly_and_rollover_keeps_it(world):
    point = _graded_directly(world, state=RiskPointState.ISSUED)
    row = point_row(
        RiskPoint.objects.select_related("department", "position", "power_item", "process_step", "risk_type", "level")
        .prefetch_related("controls")
        .get(pk=point.pk)
    )
    assert row["graded_directly"] is True
    assert LIKELIHOOD.value(row) == SEVERITY.value(row) == "直接定级"
    assert "graded_directly" not in point_row(
        RiskPoint.objects.select_related("department", "position", "power_item", "process_step", "risk_type", "level")
        .prefetch_related("controls")
        .get(pk=world.finance_point.pk)
    )  # earlier snapshots and hashes unchanged
    [copy] = risk_points_copy(points=[point], year=2027, state=RiskPointState.DRAFT, carried=True).values()
    assert copy.graded_directly and copy.likelihood is None


def test_an_export_after_import_keeps_the_file_order(world, office):
    upload(office, layouts.housing_xlsx())
    post_columns(office)
    post_values(office, default_risk_type=a_risk_type(), state="submitted")
    confirm(office)
    rows = list(point_rows(RiskPoint.objects.filter(import_order__isnull=False)))
    by_department = [r["description"] for r in rows if r["department"] == "审批科"]
    assert by_department == ["违规审批商品房预售许可", "工程验收走过场"]
    assert [r["description"] for r in rows if r["department"] == "领导班子成员"] == ["干预工程招投标", "公务接待超标准"]
    assert [r["level"]["name"] for r in rows] == ["一级", "二级", "一级", "三级"]  # the institution's own words


def test_the_check_reads_a_fixed_number_of_queries_whatever_the_rows(world):
    def queries(rows: int) -> int:
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(layouts.MARKET_HEADER)
        for i in range(rows):
            sheet.append(["财务股", "行政处罚", f"风险{i}", "一级", "1.甲；2.乙", "张三"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        grid = read_grid(buffer.getvalue())
        mapping = {"columns": wizard.suggest_columns(wizard.headers(grid.cells, 0), {}), "header_row": 0}
        wizard.suggest_values(grid, mapping, wizard.Context.load(world.a), {})
        mapping["default_risk_type"] = a_risk_type()
        with CaptureQueriesContext(connection) as captured:
            result = wizard.plan(grid, mapping, institution=world.a, year=2026)
        assert not result.problems and len(result.points) == rows
        return len(captured)

    queries(1)  # the institution's grading scheme, read once and kept on it
    assert queries(3) == queries(60)


def test_an_exported_overview_with_a_point_graded_directly_imports_back(world, tmp_path):
    """The 一览表 prints 直接定级 for a level decided directly; the 一览表 import reads it back so."""
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    point.likelihood = point.severity = None
    point.graded_directly = True
    point.save()
    out = tmp_path / "overview.xlsx"
    call_command(
        "export_register", institution="bureau-a", year=2026, form="overview", fmt="xlsx", out=str(out), working=True
    )
    result = services.register_import(by=None, institution=world.a, year=2027, data=out.read_bytes())
    assert result.ok, [str(p) for p in result.problems]
    copy = RiskPoint.objects.get(year=2027, description=point.description)
    assert copy.graded_directly and copy.likelihood is None and copy.level_id == point.level_id


def test_the_template_import_says_which_headers_it_recognised(world):
    result = services.register_import_check(by=None, institution=world.a, year=2026, data=layouts.market_xlsx())
    [problem] = result.problems
    assert "风险点、风险等级、防控措施、责任人" in problem.message and "导入向导" in problem.message


def positions_xlsx() -> bytes:
    """A register naming positions: one near an existing title, one the same, one unknown."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["科室", "岗位", "风险点", "风险等级", "防控措施"])
    sheet.append(["审批科", "审批岗位", "违规审批", "高", "集体审批"])
    sheet.append(["审批科", "复核岗", "复核只签字不核对", "中", "交叉复核"])
    sheet.append(["财务股", "出纳岗", "挪用公款", "低", "定期对账"])
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def _positions_to_values(office):
    upload(office, positions_xlsx())
    post_columns(office)
    assert mapping(office)["columns"] == ["department", "position", "description", "level", "measures"]


def test_unknown_positions_are_matched_to_a_near_name_or_created(world, office):
    _positions_to_values(office)
    # only the positions the departments lack are asked about (复核岗 exists in 审批科)
    assert mapping(office)["positions"] == {"审批科|审批岗位": "new", "财务股|出纳岗": "new"}
    page = office.get(url("documents_wizard") + "?step=values")
    offers = {
        label: (near, [name for name, _p in options]) for _i, label, _c, near, options in page.context["position_words"]
    }
    assert offers["审批科·审批岗位"] == ("审批岗", ["审批岗", "复核岗"])  # the department's own positions only
    assert offers["财务股·出纳岗"] == ("", ["会计岗"])
    html = page.content.decode()
    assert "即审批岗（名称相近）" in html
    before = Position.objects.count()
    post_values(office, default_risk_type=a_risk_type(), position_0=str(world.position.pk), position_2="new")
    check = office.get(url("documents_wizard") + "?step=check")
    assert check.context["checked"].ok, check.context["checked"].problems
    assert check.context["checked"].result.new_positions == ["财务股·出纳岗"]
    confirm(office)
    points = list(
        RiskPoint.objects.filter(import_order__isnull=False).select_related("position").order_by("import_order")
    )
    assert [p.position.title for p in points] == ["审批岗", "复核岗", "出纳岗"]
    assert points[0].position == world.position and points[1].position == world.position2
    assert Position.objects.count() == before + 1
    assert not Position.objects.filter(title="审批岗位").exists()


@pytest.mark.parametrize("choice", ["", "other-department"])
def test_a_position_not_created_nor_matched_in_its_department_is_refused(world, office, choice):
    _positions_to_values(office)
    chosen = str(world.position3.pk) if choice else ""  # 会计岗 belongs to 财务股, not 审批科
    before = RiskPoint.objects.count()
    post_values(office, default_risk_type=a_risk_type(), position_0=chosen)
    check = office.get(url("documents_wizard") + "?step=check")
    problems = check.context["checked"].problems
    assert [(p.row, "审批岗位" in p.message) for p in problems] == [(2, True)]
    assert office.post(url("documents_wizard_confirm"), {"token": office.session[KEY]["token"]}).status_code == 302
    assert RiskPoint.objects.count() == before


def test_departments_and_positions_are_matched_by_one_function():
    existing = {"审批科": Department(pk=7, name="审批科")}
    assert wizard.match_name("审批科", "", existing, create=False) == (existing["审批科"], False)
    assert wizard.match_name("审批股", "7", existing, create=False) == (existing["审批科"], False)
    assert wizard.match_name("审批股", "new", existing, create=False) == (None, True)
    assert wizard.match_name("审批股", "", existing, create=True) == (None, True)
    assert wizard.match_name("审批股", "", existing, create=False) == (None, False)
    assert wizard.match_name("审批股", "99", existing, create=True) == (None, False)


def test_the_values_page_shows_each_level_with_its_band(world, office):
    upload(office, layouts.housing_xlsx(), "住建局.xlsx")
    post_columns(office)
    page = office.get(url("documents_wizard") + "?step=values")
    levels = page.context["levels"]
    assert [level.band for level in levels] == ["high", "medium", "low"]
    html = page.content.decode()
    scheme = html[
        html.index('data-testid="scheme-order"') : html.index("</p>", html.index('data-testid="scheme-order"'))
    ]
    for level in levels:
        assert f"{level.rank}. " in scheme and level.name in scheme
        assert f'band-{level.band}" ' in scheme and str(level.get_band_display()) in scheme
    # every option and the level each word goes to now carry the band too
    assert html.count('data-band="high"') == 3  # one option per level word (高/中/低)
    level_map = html[html.index('data-testid="level-map"') :]
    assert level_map.count("band-badge") == 3
    assert f"({levels[0].get_band_display()})" in level_map


def test_the_pdf_prints_graded_directly_once_across_likelihood_and_severity(world):
    """The narrow 发生概率/危害程度 columns would wrap 直接定级 one character a line: one cell spans both."""
    _graded_directly(world, state=RiskPointState.ISSUED)
    points = RiskPoint.objects.filter(institution=world.a, year=2026).order_by("id")
    document = document_for_points(points=points, form_code="overview", institution=world.a, year=2026, working=True)
    html = pdf.render_html(form=document.form, header=document.header, rows=document.rows)
    assert html.count("直接定级") == 1
    assert '<td colspan="2" class="centre">直接定级</td>' in html
    rows = [row for row in html.split('<tr class="point">')[1:]]
    widths = html.count("<col ")
    assert all(row.count("<td") + row.count('colspan="2"') == widths for row in rows)  # every row stays full
