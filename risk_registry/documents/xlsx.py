"""Excel (openpyxl, write-only) in the official forms: title, merged headers, A4 landscape print set-up.

Always write-only: one code path whatever the size, and memory stays flat for 100,000 points.
Styles are built once per workbook and shared by reference (``_style``), since building a style
per cell costs more than writing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import copy
from typing import IO

from lxml.etree import Element, SubElement
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell._writer import write_cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import XML_NS

from risk_registry.documents.definitions import (
    PERSON_MARK,
    WORKING_MARK,
    DocumentHeader,
    FormSpec,
    filed_line,
    section_signature,
    supervision,
)
from risk_registry.organisation.colours import argb
from risk_registry.organisation.text import printable

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FONT_NAME = "宋体"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHEET_TITLE_MAX = 31


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


class _Styles:
    """Style arrays built once per worksheet and shared by every cell that uses them."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.title = self._make(Font(name=FONT_NAME, size=16, bold=True), Alignment(horizontal="center"))
        self.subtitle = self._make(Font(name=FONT_NAME, size=10), Alignment(horizontal="left"))
        self.header = self._make(
            Font(name=FONT_NAME, size=10, bold=True),
            Alignment(horizontal="center", vertical="center", wrap_text=True),
            BORDER,
            PatternFill("solid", fgColor="D9D9D9"),
        )
        self.body = self._make(Font(name=FONT_NAME, size=10), Alignment(vertical="top", wrap_text=True), BORDER)
        self.centre = self._make(
            Font(name=FONT_NAME, size=10), Alignment(horizontal="center", vertical="top", wrap_text=True), BORDER
        )
        self.signature = self._make(Font(name=FONT_NAME, size=11), Alignment(vertical="center"))
        self._levels: dict[str, object] = {}

    def _make(self, font, alignment, border=None, fill=None):
        cell = WriteOnlyCell(self.ws)
        cell.font, cell.alignment = font, alignment
        if border is not None:
            cell.border = border
        if fill is not None:
            cell.fill = fill
        return copy(cell._style)

    def level(self, colour: str):
        """The level's colour as the fill (white bold text on it), one style per colour."""
        style = self._levels.get(colour)
        if style is None:
            rgb = argb(colour)  # never raises: an unreadable stored colour prints grey
            style = self._make(
                Font(name=FONT_NAME, size=10, bold=True, color="FFFFFF"),
                Alignment(horizontal="center", vertical="top", wrap_text=True),
                BORDER,
                PatternFill("solid", fgColor=rgb),
            )
            self._levels[colour] = style
        return style


def _cell(ws, value, style):
    """A new cell holding ``value`` in ``style`` (see ``_fill``)."""
    return _fill(WriteOnlyCell(ws), value, style)


def _fill(cell, value, style):
    """Put ``value`` in ``cell``; its text never runs as a formula: strings are stored as strings
    (type ``s``, with Excel's quote prefix so that editing the cell keeps it text), whatever they
    begin with.

    Setting ``_value`` skips openpyxl's check for characters XML forbids, so the text is made
    ``printable`` here: a control character stored before the forms refused them (one ``\x0b``
    made the whole workbook unreadable) or a bidi override never reaches the file."""
    if isinstance(value, str):
        value = printable(value)
        cell._value = value
        cell.data_type = "s"
        cell._style = _quoted(style) if value.startswith(FORMULA_PREFIXES) else style
        return cell
    if value is None or type(value) is int:  # what openpyxl's setter does for these, without its type probe
        cell._value, cell.data_type = value, "n"
    else:
        cell.value = value
    cell._style = style
    return cell


_QUOTED: dict[tuple, object] = {}


def _quoted(style):
    """``style`` with Excel's quote prefix, one copy per style."""
    key = tuple(style)
    quoted = _QUOTED.get(key)
    if quoted is None:
        quoted = _QUOTED[key] = copy(style)
        quoted.quotePrefix = 1
    return quoted


class _Sheet(WriteOnlyWorksheet):
    """A write-only sheet whose rows are cells already filled by ``_fill``: each is placed and
    written as it is. openpyxl's own ``append`` first tries every cell as a value (an exception
    per cell) and makes a new cell after every styled one; for the 1.6 million cells of 100,000
    points that was a third of the export's time (issue 15). Rows of anything else go the usual way."""

    def _values_to_row(self, values, row_idx):
        if _is_data_row(values):  # its cells know their column; the writer takes the row's index
            return values
        if not all(isinstance(value, Cell) for value in values):
            return super()._values_to_row(values, row_idx)
        return self._placed(values, row_idx)

    _writer: _RowWriter | None = None

    def _get_writer(self):
        if self._writer is None:
            self._writer = _RowWriter(self)
            self._writer.write_top()

    @staticmethod
    def _placed(cells, row_idx):
        for col_idx, cell in enumerate(cells, 1):
            cell.column, cell.row = col_idx, row_idx
            yield cell


class _RowCell(Cell):
    """A cell of the data rows, whose style's index is set with its style (``_write_rows``)
    rather than looked up in the workbook's styles for every cell written; it always has one."""

    __slots__ = ("has_style", "style_id")

    def __init__(self, worksheet, column: int) -> None:
        super().__init__(worksheet, column=column)
        self.has_style = True


def _is_data_row(values) -> bool:
    """A row of ``_write_rows``: a list of its ``_RowCell``s, one per column, the column set once."""
    return type(values) is list and bool(values) and type(values[0]) is _RowCell


_SPACE = f"{{{XML_NS}}}space"


class _RowWriter(WorksheetWriter):
    """openpyxl's sheet writer, with the data rows' cells (``_RowCell``) serialised from one
    element per column and kind of value, made once and filled again for every row, instead of
    three nested elements built for every cell (a quarter of the export's CPU time on 20,000
    points, issue 15). The XML is byte for byte openpyxl's own (``test_xlsx_rows.py`` compares
    whole sheets); a row of other cells, or a value of another kind (a date, a boolean), goes
    openpyxl's way."""

    def __init__(self, ws) -> None:
        super().__init__(ws)
        self._elements: dict[tuple[int, str], tuple] = {}

    def write_row(self, xf, row, row_idx):
        if not _is_data_row(row) or row_idx in self.ws.row_dimensions:
            return super().write_row(xf, self._placed(row, row_idx), row_idx)
        with xf.element("row", {"r": f"{row_idx}"}):
            for cell in row:
                element = self._element(cell, row_idx)
                if element is None:
                    cell.row = row_idx
                    write_cell(xf, self.ws, cell, True)
                else:
                    xf.write(element)
        return None

    @staticmethod
    def _placed(row, row_idx):
        if _is_data_row(row):
            for cell in row:
                cell.row = row_idx
        return row

    def _element(self, cell: _RowCell, row_idx: int):
        """The cell as ``<c>``, or None when its value is of a kind openpyxl writes itself."""
        value, data_type = cell._value, cell.data_type
        if value is None or value == "":
            kind = "empty" if data_type in ("n", "s") else ""
        elif data_type == "s" and type(value) is str:
            kind = "text"
        elif data_type == "n" and type(value) in (int, float):
            kind = "number"
        else:
            kind = ""
        if not kind:
            return None
        made = self._elements.get((cell.column, kind + data_type))
        if made is None:
            made = self._elements[(cell.column, kind + data_type)] = _template(cell, kind)
        element, text, letter = made
        element.set("r", f"{letter}{row_idx}")
        element.set("s", f"{cell.style_id}")
        if kind == "text":
            text.text = value
            if value != value.strip():  # as openpyxl: leading or trailing blanks are kept
                text.set(_SPACE, "preserve")
            elif _SPACE in text.attrib:
                del text.attrib[_SPACE]
        elif kind == "number":
            text.text = safe_string(value)
        return element


def _template(cell: _RowCell, kind: str) -> tuple:
    """(``<c>``, the element holding its text, the column's letter) for one column and kind of value,
    with openpyxl's attributes in openpyxl's order."""
    element = Element("c", {"r": "", "s": "", "t": "inlineStr" if cell.data_type == "s" else cell.data_type})
    if kind == "text":
        text = SubElement(SubElement(element, "is"), "t")
    elif kind == "number":
        text = SubElement(element, "v")
    else:
        text, element.text = None, ""  # written <c …></c>, as openpyxl writes an empty cell
    return element, text, get_column_letter(cell.column)


def _create_sheet(wb: Workbook, title: str) -> _Sheet:
    sheet = _Sheet(parent=wb, title=title)
    wb._add_sheet(sheet)
    return sheet


def _sheet_title(label: str, used: set[str]) -> str:
    label = printable(label.split(PERSON_MARK)[0])  # department and position names come from the admin, uncleaned
    base = (label.split("岗位：")[-1] if "岗位：" in label else label.replace("部门：", "")) or "登记表"
    for bad in "[]:*?/\\":
        base = base.replace(bad, "_")
    title, n = base[:SHEET_TITLE_MAX], 2
    while title in used:
        suffix = f"({n})"
        title, n = base[: SHEET_TITLE_MAX - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def write_workbook(
    out: IO[bytes] | str,
    *,
    form: FormSpec,
    header: DocumentHeader,
    rows: Iterable[dict],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``rows`` in ``form`` to ``out``; one sheet per section. Returns the number of rows."""
    wb = Workbook(write_only=True)
    used: set[str] = set()
    written = 0
    for label, section_rows in form.sections(rows):
        ws = _create_sheet(wb, _sheet_title(label, used) if label else form.title[:SHEET_TITLE_MAX])
        written += _write_sheet(
            ws, form=form, header=header, label=label, rows=section_rows, start=written, progress=progress
        )
    if not wb.worksheets:  # an empty register still gets its empty form
        _write_sheet(
            _create_sheet(wb, form.title[:SHEET_TITLE_MAX]), form=form, header=header, label="", rows=[], start=0
        )
    wb.save(out)
    return written


def _write_sheet(ws, *, form: FormSpec, header: DocumentHeader, label: str, rows, start: int, progress=None) -> int:
    """One sheet of the form: page set-up, title, header, the rows, the signature block."""
    styles = _Styles(ws)
    header_rows = 2 if form.has_groups else 1
    _page_setup(ws, form=form, header=header, header_rows=header_rows)
    _write_title(ws, styles, form=form, header=header, label=label)
    _write_header(ws, styles, form=form, header_rows=header_rows)
    supervisions: list[str] = []
    count = _write_rows(ws, styles, form=form, rows=rows, start=start, progress=progress, seen=supervisions)
    _write_legend(ws, styles, form=form, header=header)
    _write_signature(ws, styles, form=form, header=header, supervisions=supervisions)
    return count


def _page_setup(ws, *, form: FormSpec, header: DocumentHeader, header_rows: int) -> None:
    """Column widths, frozen header, A4 landscape fitted to the width, page numbers in the footer."""
    first_data_row = 3 + header_rows
    for index, column in enumerate(form.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = f"A{first_data_row}"
    ws.print_title_rows = f"{first_data_row - header_rows}:{first_data_row - 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.evenFooter.center.text = "第 &P 页 共 &N 页"
    if header.version:
        ws.oddFooter.left.text = f"备案版本 v{header.version}　SHA-256 {header.content_hash}"
    if header.working:  # printed at the top of every page
        for page_header in (ws.oddHeader, ws.evenHeader):
            page_header.center.text = f"{WORKING_MARK}（非正式登记表，不作备案）"
            page_header.center.size = 14
            page_header.center.color = "C00000"


def _write_title(ws, styles: _Styles, *, form: FormSpec, header: DocumentHeader, label: str) -> None:
    """Title and subtitle, merged across the table."""
    last = get_column_letter(len(form.columns))
    ws.append([_cell(ws, header.title(form), styles.title)])
    ws.merged_cells.add(CellRange(f"A1:{last}1"))
    subtitle = f"单位：{header.institution}　　{header.period_text}"
    if header.working:
        subtitle = f"{WORKING_MARK}（非正式登记表，不作备案）　　" + subtitle
    if label:
        subtitle += f"　　{label}"
    if header.version:
        subtitle += f"　　分级方案：{header.scheme}　　备案版本：v{header.version}　　SHA-256：{header.content_hash}"
    ws.append([_cell(ws, subtitle, styles.subtitle)])
    ws.merged_cells.add(CellRange(f"A2:{last}2"))


def _write_header(ws, styles: _Styles, *, form: FormSpec, header_rows: int) -> None:
    """Grouped columns get a merged group cell above them; the others span both header rows."""
    top, bottom = [], []
    for index, column in enumerate(form.columns, start=1):
        letter = get_column_letter(index)
        if header_rows == 1:
            top.append(_cell(ws, column.header, styles.header))
        elif column.group:
            top.append(_cell(ws, column.group, styles.header))
            bottom.append(_cell(ws, column.header, styles.header))
        else:
            top.append(_cell(ws, column.header, styles.header))
            bottom.append(_cell(ws, None, styles.header))
            ws.merged_cells.add(CellRange(f"{letter}3:{letter}4"))
    for _name, first, last_index in form.groups:
        ws.merged_cells.add(CellRange(f"{get_column_letter(first + 1)}3:{get_column_letter(last_index + 1)}3"))
    ws.append(top)
    if bottom:
        ws.append(bottom)


def _write_rows(ws, styles: _Styles, *, form: FormSpec, rows, start: int, progress=None, seen=None) -> int:
    """The data rows, numbered; ``progress`` is told every 1,000 rows of the whole workbook;
    ``seen`` collects the rows' 监控责任 for a section's signature block.

    One cell per column is filled again for every row: the write-only sheet writes a row out when
    it is appended, so the cells are free again, and a new cell per value cost more than writing it."""
    plain = [None if column.level else (styles.centre if column.numeric else styles.body) for column in form.columns]
    values = [column.value for column in form.columns]
    cells = [_RowCell(ws, column) for column in range(1, len(form.columns) + 1)]
    style_ids: dict[int, int] = {}  # id() of a style (all alive while the rows are written) → its index
    count = 0
    for count, row in enumerate(rows, start=1):
        row["_serial"] = count
        if seen is not None and form.signature == "personal":
            seen.append(supervision(row))
        for cell, value_of, style in zip(cells, values, plain, strict=True):
            value = value_of(row)
            _fill(cell, value if value != "" else None, style or styles.level(row["level"].get("colour", "")))
            style_id = style_ids.get(id(cell._style))
            if style_id is None:
                style_id = style_ids[id(cell._style)] = ws.parent._cell_styles.add(cell._style)
            cell.style_id = style_id
        ws.append(cells)
        if progress is not None and (start + count) % 1000 == 0:
            progress(start + count)
    return count


def _write_legend(ws, styles: _Styles, *, form: FormSpec, header: DocumentHeader) -> None:
    """Under the table of a document over several institutions: what each scheme's labels mean."""
    if not header.legend:
        return
    ws.append([])
    for line in header.legend:
        ws.append([_cell(ws, line, styles.subtitle)])


def _write_signature(ws, styles: _Styles, *, form: FormSpec, header: DocumentHeader, supervisions=()) -> None:
    """The signature block under the table: the unit's (主要领导签字、单位盖章、日期), or the
    section's (``definitions.section_signature``, the same lines as the PDF); a filed version's
    签署 line as the PDF prints it (a format-1 or -2 snapshot: as the workbook printed it then)."""
    if header.working:  # a working copy is never signed
        return
    ws.append([])
    if form.signed_per_section:
        for line in section_signature(form, supervisions):
            ws.append([_cell(ws, line or None, styles.signature)])
    else:
        ws.append([_cell(ws, "主要领导签字：", styles.signature)])
        ws.append([_cell(ws, f"单位盖章：{header.institution}（盖章）", styles.signature)])
        ws.append([_cell(ws, "日期：　　　年　　月　　日", styles.signature)])
    if header.version:
        line = f"备案版本 v{header.version}；签署：{header.signed}" if form.legacy else filed_line(header)
        ws.append([_cell(ws, line, styles.signature)])
