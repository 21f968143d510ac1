"""The export's data rows are written by ``xlsx._Writer`` (one lxml element per row, issue 15's
speed), not by openpyxl's cell writer: the sheet's XML must be the one openpyxl writes for the same
cells, byte for byte, whatever the values (text with outer spaces, formula-like text, control
characters, empty cells, numbers)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

from risk_registry.documents import xlsx

VALUES = ["第1科", "  lead and trail  ", "=SUM(A1)", "-1", "a\x0bb\u202ec", None, 7, 0, "", "<&>\"'", "多行\n文本"]


def _sheet_xml(write) -> bytes:
    wb = Workbook(write_only=True)
    ws = xlsx._create_sheet(wb, "t")
    styles = xlsx._Styles(ws)
    write(ws, styles)
    out = io.BytesIO()
    wb.save(out)
    return zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")


def _by_cells(ws, styles):
    """openpyxl's own writer: one filled cell per value."""
    for _round in range(3):
        cells = []
        for value in VALUES:
            cell = xlsx._fill(xlsx.WriteOnlyCell(ws), value if value != "" else None, styles.body)
            cells.append(cell)
        ws.append(cells)


def _by_data_rows(ws, styles):
    for _round in range(3):
        row = xlsx._DataRow()
        for value in VALUES:
            value, style = xlsx._checked(value if value != "" else None, styles.body)
            row.append((value, str(ws.parent._cell_styles.add(style))))
        ws.append(row)


def test_data_rows_are_written_as_openpyxl_writes_the_same_cells():
    expected, written = _sheet_xml(_by_cells), _sheet_xml(_by_data_rows)
    assert b'<c r="B1" s="1" t="inlineStr"><is><t xml:space="preserve">  lead and trail  </t>' in written
    assert b"\x0b" not in written and "\u202e".encode() not in written  # printable: never invalid XML
    assert b'<c r="C1" s="2" t="inlineStr">' in written  # formula-like text: quoted, stays text
    assert written == expected


def test_the_register_rows_go_through_the_data_row_writer(world, monkeypatch):
    """The forms' rows take the fast path (else the test above would pin nothing the export uses)."""
    from risk_registry.documents import rendering

    calls = []
    real = xlsx._Writer.write_row

    def counting(writer, xf, row, row_idx):
        calls.append(isinstance(row, xlsx._DataRow))
        return real(writer, xf, row, row_idx)

    monkeypatch.setattr(xlsx._Writer, "write_row", counting)
    document = rendering.document_for_points(
        points=world.a.risk_points.all(), form_code="overview", institution=world.a, year=2026, working=False
    )
    rendering.render(io.BytesIO(), document=document, fmt="xlsx")
    assert calls.count(True) == world.a.risk_points.count() > 0
