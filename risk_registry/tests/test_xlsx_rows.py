"""The data rows of a workbook are serialised by ``xlsx._RowWriter`` (issue 15: openpyxl's per-cell
writer was a quarter of an export's CPU time); what it writes must be, byte for byte, what openpyxl's
own writer writes for the same cells, so cell values, types and styles cannot differ."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import WorksheetWriter

from controls.models import Control
from risk_registry.documents import rendering, selectors, xlsx
from risk_registry.documents.definitions import FORMS, SERIAL, Column, DocumentHeader, FormSpec
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Department, GradeLevel
from risk_registry.tests.documents_helpers import enrich_register

EXT_B = "\U00021484\U0002a6a5"  # 𡒄 𪚥: outside the Basic Multilingual Plane


class _OpenpyxlWriter(WorksheetWriter):
    """openpyxl's writer for every row, the data rows' cells placed first as the sheet used to."""

    def write_row(self, xf, row, row_idx):
        return super().write_row(xf, xlsx._RowWriter._placed(row, row_idx), row_idx)


def _with_openpyxls_writer(monkeypatch) -> None:
    def get_writer(sheet):
        if sheet._writer is None:
            sheet._writer = _OpenpyxlWriter(sheet)
            sheet._writer.write_top()

    monkeypatch.setattr(xlsx._Sheet, "_get_writer", get_writer)


def _parts(data: bytes) -> dict[str, bytes]:
    """The workbook's parts, without the creation time openpyxl stamps on every file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def _varied(world) -> None:
    """Every kind of cell a register's rows hold: each level of the scheme, a point graded
    directly, measures on several lines of one line of defence, owners differing per control,
    Ext-B characters, blanks at either end of a text (xml:space), a formula-like text, a control
    character stored before the forms refused them, empty fields."""
    enrich_register(world)
    levels = list(GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id).order_by("rank"))
    points = list(RiskPoint.objects.filter(institution=world.a, year=2026).order_by("id"))
    for point, level in zip(points, levels * len(points), strict=False):
        RiskPoint.objects.filter(pk=point.pk).update(level=level)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(
        description=f"审批人{EXT_B}违规审批\x0b第二行", manifestation="  前后有空格 "
    )
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(likelihood=None, severity=None, graded_directly=True)
    Control.objects.create(
        risk_point=world.submitted,
        line="prevention",
        measure="第一步\n第二步\n第三步",
        owner=f"{EXT_B}科长",
        frequency="monthly",
        evidence="记录",
    )
    Department.objects.filter(pk=world.dept.pk).update(name=f"审批{EXT_B}科")


def _render(world, form: str, *, spanning: bool = False, working: bool = False) -> bytes:
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    document = rendering.document_for_points(
        points=points, form_code=form, institution=None if spanning else world.a, year=2026, working=working
    )
    out = io.BytesIO()
    rendering.render(out, document=document, fmt="xlsx")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "spanning", "working"),
    [(form, False, False) for form in FORMS] + [("overview", True, False), ("unit-register", False, True)],
)
def test_the_row_writer_writes_the_bytes_openpyxl_writes(world, monkeypatch, form, spanning, working):
    _varied(world)
    written = []  # what the row writer made of each data cell (None: left to openpyxl)
    element_of = xlsx._RowWriter._element

    def element(writer, cell, row_idx):
        written.append(element_of(writer, cell, row_idx))
        return written[-1]

    monkeypatch.setattr(xlsx._RowWriter, "_element", element)
    ours = _render(world, form, spanning=spanning, working=working)
    _with_openpyxls_writer(monkeypatch)
    theirs = _render(world, form, spanning=spanning, working=working)

    assert written and all(element is not None for element in written)  # the data rows went our way
    assert _parts(ours) == _parts(theirs)
    sheets = b"".join(data for name, data in _parts(ours).items() if name.startswith("xl/worksheets/"))
    values = [
        value
        for sheet in load_workbook(io.BytesIO(ours)).worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
    ]
    assert any(isinstance(value, str) and EXT_B in value for value in values)
    assert f"审批人{EXT_B}违规审批\n第二行" in values  # the control character made a line break
    if any(column.key == "manifestation" for column in FORMS[form].columns):
        assert b'xml:space="preserve"' in sheets and "  前后有空格 " in values


def test_a_value_of_another_kind_goes_openpyxls_way(monkeypatch):
    """A date or a boolean in a data row (no form has one today) is written by openpyxl itself."""
    form = FormSpec(
        "test",
        "测试表",
        "test",
        (
            SERIAL,
            Column("day", "日期", 12, lambda row: row["day"]),
            Column("flag", "标记", 8, lambda row: row["flag"]),
            Column("ratio", "比例", 8, lambda row: row["ratio"]),
            Column("text", "说明", 20, lambda row: row["text"]),
        ),
    )
    rows = [
        {"day": datetime.date(2026, 12, 7), "flag": True, "ratio": 0.25, "text": " 说明 "},
        {"day": None, "flag": False, "ratio": 3, "text": ""},
    ]

    def write() -> bytes:
        out = io.BytesIO()
        header = DocumentHeader(institution="甲局", year=2026)
        xlsx.write_workbook(out, form=form, header=header, rows=[dict(row) for row in rows])
        return out.getvalue()

    ours = write()
    _with_openpyxls_writer(monkeypatch)
    assert _parts(ours) == _parts(write())
    sheet = load_workbook(io.BytesIO(ours)).worksheets[0]
    # the date as openpyxl writes it without a number format: Excel's serial day 46363 (2026-12-07)
    assert [cell.value for cell in sheet[4]] == [1, 46363, True, 0.25, " 说明 "]
    assert [cell.value for cell in sheet[5]] == [2, None, False, 3, None]
