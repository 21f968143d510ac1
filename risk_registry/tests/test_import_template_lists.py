"""The import template offers dropdowns (data validation) for the columns that take a fixed list:
department, position, risk type, found-by, likelihood, severity and level of the institution's own
scheme; the lists sit one name per cell on a visible 选项 sheet (no separator, so a name may hold
"、"), and a template filled from those lists imports back, as submitted points (issue 16)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from positions.models import Position
from risk_registry.documents import services
from risk_registry.documents.importer import FOUND_BY_WORDS
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Department

pytestmark = pytest.mark.django_db

FIRST_DATA_ROW = 5


def _template(world) -> bytes:
    return services.import_template(institution=world.a)


def _options(workbook) -> dict[str, list[str]]:
    sheet = workbook["选项"]
    columns: dict[str, list[str]] = {}
    for column in sheet.iter_cols(values_only=True):
        columns[column[0]] = [value for value in column[1:] if value not in (None, "")]
    return columns


def _validations(sheet) -> dict[str, str]:
    """Column header → the list formula of the validation on that column's data cells."""
    headers = {}
    for row in (3, 4):
        for cell in sheet[row]:
            if cell.value:
                headers[cell.column_letter] = cell.value
    found = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        for cell_range in validation.sqref.ranges:
            assert cell_range.min_row == FIRST_DATA_ROW and cell_range.max_row >= 500
            found[headers[cell_range.coord.split(":")[0].rstrip("0123456789")]] = validation.formula1
    return found


def test_the_template_has_a_dropdown_for_every_listed_column(world):
    Position.objects.create(institution=world.a, department=world.dept, title="审核、复核岗")
    workbook = load_workbook(io.BytesIO(_template(world)))
    assert workbook["选项"].sheet_state == "visible"
    options = _options(workbook)
    departments = Department.objects.filter(institution=world.a).values_list("name", flat=True)
    assert set(options["部门（科室）"]) == set(departments)
    assert "审核、复核岗" in options["岗位"]  # one name per cell: "、" inside a name is no separator
    assert set(options["岗位"]) == set(Position.objects.filter(institution=world.a).values_list("title", flat=True))
    scheme = world.a.grading_scheme
    assert options["发生概率"] == list(scheme.likelihood_labels)
    assert options["危害程度"] == list(scheme.severity_labels)
    assert set(options["查找方式"]) <= set(FOUND_BY_WORDS) and len(options["查找方式"]) == 5
    assert "岗位职责风险" in options["风险类型"]
    validations = _validations(workbook["一览表"])
    assert set(validations) == {"部门（科室）", "岗位", "风险类型", "查找方式", "发生概率", "危害程度", "风险等级"}
    for header, formula in validations.items():
        column = "ABCDEFG"[list(options).index(header)]
        assert formula == f"'选项'!${column}$2:${column}${len(options[header]) + 1}"
    notes = str([c.value for c in workbook["填写说明"]["B"]])
    assert "选项" in notes and "已自查上报" in notes


def filled_template(template: bytes, rows: list[tuple[str, str, str, str]]) -> bytes:
    """The template filled as an office would, each listed value from its dropdown's list: one row
    per (department, position, description, risk type); the highest likelihood, the lowest severity."""
    workbook = load_workbook(io.BytesIO(template))
    options = _options(workbook)
    sheet = workbook["一览表"]
    for offset, (department, position, description, risk_type) in enumerate(rows):
        found_by = options["查找方式"][offset % len(options["查找方式"])]
        values = [offset + 1, department, position, "", "", description, "暗示申请人", risk_type, found_by]
        values += [options["发生概率"][-1], options["危害程度"][0], "", "核对清单", "每月抽查", "追责"]
        for column, value in enumerate(values, start=1):
            sheet.cell(row=FIRST_DATA_ROW + offset, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_template_filled_from_its_lists_imports_as_submitted_points(world):
    data = filled_template(
        _template(world),
        [("审批科", "审批岗", "受理材料时索要好处", "岗位职责风险"), ("审批科", "", "审批超时限", "工作效率风险")],
    )
    before = RiskPoint.objects.count()
    result = services.register_import(
        by=world.discipline, institution=world.a, year=2026, data=data, filename="模板.xlsx"
    )
    assert result.ok, [str(problem) for problem in result.problems]
    assert RiskPoint.objects.count() == before + 2
    point = RiskPoint.objects.get(description="受理材料时索要好处")
    assert point.state == RiskPointState.SUBMITTED and point.position == world.position
    assert point.likelihood == len(world.a.grading_scheme.likelihood_labels) and point.severity == 1


def test_the_import_page_says_points_arrive_submitted(world, login):
    page = login(world.discipline).get(reverse("documents_import", args=["bureau-a"])).content.decode()
    assert "已自查上报" in page
