"""Reading a 廉政风险点排查及防控措施一览表 back from Excel: a guarded reader and the row checks.

The reader refuses before it spends: a size limit, then the one streaming reader of
``workbook.py`` (expat in chunks), which counts everything it reads — bytes unpacked, XML
elements, sheets, styles, shared strings and their length, rows (empty ones too), cells, the
characters of a cell — and refuses at the first bound crossed (settings
``RISK_REGISTRY_IMPORT_MAX_*``), so no small file unpacks into minutes of work or gigabytes of
memory. Formulas give their cached values; numbers with a date format come back as dates; merged
cells are filled from their top-left cell (registers often merge the department down a block of
rows).

What the reviewer sees is what is imported: only the visible sheet the user chose (the first
visible one by default) is read, never a hidden or "very hidden" one, and a hidden row or column
that holds data refuses the file, naming them. Text is cleaned as the forms clean it
(``risk_registry.organisation.text``): control characters stripped, bidi controls refused.

A likelihood or severity is its number, its label, or both as the forms print them (``3（较大）``,
the label checked against the number). The values each control has — 责任人, 检查频次, 留存资料,
依据制度 — are one value for all the row's measures, or one line per measure in the order the
measures are printed (``—`` where a control has none), as the exports write them; any other count
of lines is a problem, never guessed.

The measures come from the 一览表's three columns (前期预防、中期监控、后期处置, one measure per
line) or from the 登记表's single 防范措施 column, where each line says its line of defence
(``前期预防：…`` or ``前期：…``) and the lines below one belong to it; a line that says none is a
problem, never dropped.

``check_rows`` resolves every row against the institution (departments, positions, risk types,
levels, power items) with a fixed number of queries and lists every problem, in the words the
preview and the command print: row, column, what is wrong, what was expected.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook as WorkbookWriter
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from controls.models import Control, Rule
from positions.models import Position, PowerItem, ProcessStep
from risk_registry.documents.definitions import FORMS, GRADED_DIRECTLY, NO_VALUE, DocumentHeader
from risk_registry.documents.workbook import (
    DAMAGED_ZIP_ERRORS,
    Bounds,
    ImportRefused,
    Problem,
    SheetInfo,
    Workbook,
    damaged,
)
from risk_registry.documents.xlsx import _cell, _Styles, _write_sheet
from risk_registry.models import FoundBy, RiskPoint
from risk_registry.organisation.models import Department, GradeLevel, GradingScheme, Institution, RiskType
from risk_registry.organisation.selectors import risk_types_for
from risk_registry.organisation.text import bidi_controls_in, strip_controls

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
CONTENT_TYPES_BYTES = 1024 * 1024  # what is read of [Content_Types].xml to find a macro workbook
HEADER_SEARCH_ROWS = 10
CHECK_PROGRESS_ROWS = 500
# An OLE2 compound file: an old .xls (Excel 97–2003), or an .xlsx saved with a password (Excel then
# wraps the encrypted package in a compound file holding the streams named below).
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))

# Header text (normalised: no spaces, no bracketed note) → field.
HEADERS = {
    "序号": "serial",
    "部门": "department",
    "科室": "department",
    "股室": "department",
    "岗位": "position",
    "职权事项": "power_item",
    "权力事项": "power_item",
    "环节": "process_step",
    "风险点描述": "description",
    "风险点": "description",
    "风险表现形式": "manifestation",
    "风险表现": "manifestation",
    "风险类型": "risk_type",
    "查找方式": "found_by",
    "发生概率": "likelihood",
    "危害程度": "severity",
    "风险等级": "level",
    "前期预防": "prevention",
    "中期监控": "monitoring",
    "后期处置": "disposition",
    "防范措施": "measures",  # the 登记表's single column (the 一览表's group header is dropped below)
    "防控措施": "measures",
    "责任人": "owner",
    "检查频次": "frequency",
    "留存资料": "evidence",
    "依据制度": "rule",
}
# The values each control has, read one for all measures or one line per measure.
CONTROL_VALUES = ("owner", "frequency", "evidence", "rule")
LINES = ("prevention", "monitoring", "disposition")
# A line of the single measures column: its line of defence, by full name or short name.
LINE_PREFIX = re.compile(
    r"^\s*(?:(前期预防|中期监控|后期处置)(?:措施)?\s*[：:、.．]?|(前期|中期|后期)(?:措施)?\s*(?:[：:、.．]|$))\s*"
)
LINE_BY_PREFIX = {"前期预防": "prevention", "中期监控": "monitoring", "后期处置": "disposition"}
LINE_BY_PREFIX |= {name[:2]: line for name, line in LINE_BY_PREFIX.items()}
REQUIRED = ("department", "description", "risk_type", "likelihood", "severity")
COLUMN_NAMES = {
    "department": "部门（科室）",
    "position": "岗位",
    "power_item": "职权事项",
    "process_step": "环节",
    "description": "风险点描述",
    "manifestation": "风险表现形式",
    "risk_type": "风险类型",
    "found_by": "查找方式",
    "likelihood": "发生概率",
    "severity": "危害程度",
    "level": "风险等级",
    "prevention": "前期预防",
    "monitoring": "中期监控",
    "disposition": "后期处置",
    "measures": "防范措施",
    "owner": "责任人",
    "frequency": "检查频次",
    "evidence": "留存资料",
    "rule": "依据制度",
}


@dataclass(frozen=True)
class Layout:
    """What a kind of sheet looks like: its headers (normalised text → field), the fields a file
    must have, the columns' names for problems, and the fields whose headers mark the header row."""

    title: str  # the form's name in problems (一览表, 职权目录)
    headers: dict[str, str]
    required: tuple[str, ...]
    column_names: dict[str, str]
    anchor: frozenset[str]


REGISTER = Layout("一览表", HEADERS, REQUIRED, COLUMN_NAMES, frozenset({"description", "department"}))

# The seeds' words for how a point was found (seed 004 篇2, seed 002), besides the codes and labels.
FOUND_BY_WORDS = {
    "自己找": FoundBy.SELF,
    "自查": FoundBy.SELF,
    "个人自查": FoundBy.SELF,
    "群众提": FoundBy.PUBLIC,
    "群众帮": FoundBy.PUBLIC,
    "互相查": FoundBy.PEERS,
    "交叉互查": FoundBy.PEERS,
    "领导点": FoundBy.LEADERS,
    "领导提": FoundBy.LEADERS,
    "组织评": FoundBy.ORGANISATION,
    "组织审": FoundBy.ORGANISATION,
}


@dataclass
class SheetRow:
    number: int  # Excel row number
    values: dict[str, object]  # field → cell value


@dataclass
class ReadRows:
    rows: list[SheetRow]
    columns: dict[str, str]  # field → column letter
    header_row: int
    sheet: str = ""  # the sheet read
    sheets: list[SheetInfo] = field(default_factory=list)  # every sheet of the workbook


@dataclass(frozen=True)
class PlannedControl:
    line: str
    measure: str
    owner: str = ""
    frequency: str = ""
    evidence: str = ""
    rule: Rule | None = None


@dataclass
class PlannedPoint:
    row: int
    department: Department
    position: Position | None
    power_item: PowerItem | None
    process_step: ProcessStep | None
    risk_type: RiskType
    found_by: str
    description: str
    manifestation: str
    likelihood: int | None  # None when graded directly
    severity: int | None
    level: GradeLevel
    graded_directly: bool = False
    controls: list[PlannedControl] = field(default_factory=list)


# --- the guarded reader ---------------------------------------------------------------------


def _listed(values: Iterable[str], limit: int = 20) -> str:
    values = list(values)
    return "、".join(values[:limit]) + ("…" if len(values) > limit else "")


def _refuse_hidden(rows: set[int], columns: set[int]) -> None:
    """What a reviewer cannot see is not imported: hidden rows or columns with data refuse the file."""
    if columns:
        raise ImportRefused(
            _("Hidden columns hold data: %(columns)s.")
            % {"columns": _listed(get_column_letter(c) for c in sorted(columns))},
            _("no hidden row or column with data: unhide them and check what they hold, or delete them"),
        )
    if rows:
        raise ImportRefused(
            _("Hidden rows hold data: %(rows)s.") % {"rows": _listed(str(r) for r in sorted(rows))},
            _("no hidden row or column with data: unhide them and check what they hold, or delete them"),
        )


def _chosen_sheet(sheets: list[SheetInfo], name: str) -> str:
    """The sheet the user named, or the first visible one; never a hidden one."""
    visible = [info.name for info in sheets if info.visible]
    if name:
        info = next((info for info in sheets if info.name == name), None)
        if info is None:
            raise ImportRefused(
                _("The workbook has no sheet “%(name)s”.") % {"name": name}, _listed(visible) or _("a visible sheet")
            )
        if not info.visible:
            raise ImportRefused(
                _("The sheet “%(name)s” is hidden: only a visible sheet is imported.") % {"name": name},
                _listed(visible) or _("a visible sheet"),
            )
        return name
    if not visible:
        raise ImportRefused(_("The workbook has no visible sheet."), _("the register on a visible sheet"))
    return visible[0]


@dataclass
class Grid:
    """The chosen visible sheet as the user sees it in Excel: values within the extent of the data,
    merged ranges filled from their top-left cell."""

    cells: list[list]
    sheet: str
    sheets: list[SheetInfo]


def read_rows(data: bytes, *, sheet: str = "", layout: Layout = REGISTER, progress=None) -> ReadRows:
    """The data rows of the chosen visible sheet (the first visible one when ``sheet`` is empty),
    by the fields of ``layout``; ImportRefused for a file that cannot be read."""
    grid = read_grid(data, sheet=sheet, progress=progress)
    try:
        read = _rows_by_header(grid.cells, layout)
    except ImportRefused as refused:
        refused.sheets = grid.sheets
        raise
    read.sheet, read.sheets = grid.sheet, grid.sheets
    return read


def read_grid(data: bytes, *, sheet: str = "", progress=None) -> Grid:
    """The guarded reader: the chosen visible sheet (the first visible one when ``sheet`` is empty)
    as a grid; ImportRefused for a file that cannot be read or crosses a bound (``workbook.py``).
    The import wizard and the power inventory's import read through it; ``progress(rows)`` is
    called as the sheet's rows are read."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(
            _("The file is %(size)d KB.") % {"size": len(data) // 1024},
            _("at most %(limit)d KB") % {"limit": MAX_FILE_BYTES // 1024},
        )
    _refuse_compound_file(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise ImportRefused(_("The file is not an Excel workbook."), _("an .xlsx file")) from None
    bounds = Bounds.current()
    if len(infos) > MAX_ZIP_ENTRIES or sum(info.file_size for info in infos) > bounds.unpacked:
        raise ImportRefused(_("The workbook unpacks to too much data."), _("an ordinary register"))
    _refuse_macro_workbook(archive)
    workbook = Workbook(archive, bounds)
    try:
        name = _chosen_sheet(workbook.sheets, sheet)
        found = workbook.read_sheet(name, extra_rows=HEADER_SEARCH_ROWS, progress=progress)
        _refuse_hidden(found.hidden_rows_with_data, found.hidden_columns_with_data)
        if not found.last_row:
            raise ImportRefused(
                _("The sheet “%(name)s” is empty.") % {"name": name}, _("the register on a visible sheet")
            )
    except ImportRefused as refused:
        refused.sheets = workbook.sheets
        refused.elements = workbook.elements
        raise
    width = found.last_column
    cells = [
        [values.get(column) for column in range(1, width + 1)]
        for values in (found.cells.get(number, {}) for number in range(1, found.last_row + 1))
    ]
    _fill_merged(cells, found.merged)
    return Grid(cells=cells, sheet=name, sheets=workbook.sheets)


def _refuse_compound_file(data: bytes) -> None:
    """An old .xls or a password-protected workbook, named as such (both are OLE2 compound files,
    not the zip of an .xlsx)."""
    if not data.startswith(OLE2_SIGNATURE):
        return
    if any(stream in data for stream in ENCRYPTED_STREAMS):
        raise ImportRefused(
            _("The workbook is protected by a password to open, so it cannot be read."),
            _("the file saved again without a password to open, as .xlsx"),
        )
    raise ImportRefused(
        _("The file is an old Excel 97–2003 workbook (.xls)."), _("the file saved again from Excel or WPS as .xlsx")
    )


def _refuse_macro_workbook(archive: zipfile.ZipFile) -> None:
    """An .xlsm (or any workbook carrying a macro project) is refused: its macros would never run,
    but it is not the file type the page asks for."""
    try:
        if "[Content_Types].xml" in archive.namelist():
            with archive.open("[Content_Types].xml") as source:
                types = source.read(CONTENT_TYPES_BYTES)
        else:
            types = b""
    except DAMAGED_ZIP_ERRORS:
        raise damaged() from None
    if b"macroEnabled" in types or any(name.lower().endswith("vbaproject.bin") for name in archive.namelist()):
        raise ImportRefused(
            _("The file is a macro-enabled workbook (.xlsm), not the .xlsx this page asks for."),
            _("the file saved again from Excel or WPS as .xlsx (Excel workbook)"),
        )


def _fill_merged(grid: list[list], merged: Iterable[str]) -> None:
    """Give every cell of a merged range its top-left value (ranges clipped to the data read)."""
    height = len(grid)
    for ref in merged:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if min_row > height:
            continue
        value = grid[min_row - 1][min_col - 1] if min_col <= len(grid[min_row - 1]) else None
        for r in range(min_row, min(max_row, height) + 1):
            row = grid[r - 1]
            for c in range(min_col, min(max_col, len(row)) + 1):
                row[c - 1] = value


def _normalise_header(value) -> str:
    text = re.sub(r"\s+", "", str(value or ""))
    return re.sub(r"[（(].*?[）)]", "", text)


def _refuse_missing(columns: dict[str, int], layout: Layout) -> None:
    missing = [layout.column_names[name] for name in layout.required if name not in columns]
    if not missing:
        return
    expected = "、".join(layout.column_names[name] for name in layout.required)
    if layout is REGISTER and "level" in columns and {"likelihood", "severity"} - set(columns):
        expected = _(
            "%(columns)s; a 登记表 records only the 风险等级, which does not say the 发生概率 and "
            "危害程度: add those two columns, or import the 一览表"
        ) % {"columns": expected}
    raise ImportRefused(_("Required columns are missing: %(columns)s") % {"columns": "、".join(missing)}, expected)


def _rows_by_header(grid: list[list], layout: Layout) -> ReadRows:
    headers = layout.headers
    header_index = next(
        (
            index
            for index, row in enumerate(grid[:HEADER_SEARCH_ROWS])
            if layout.anchor <= {headers.get(_normalise_header(v)) for v in row}
        ),
        None,
    )
    if header_index is None:
        known = [
            [str(v).strip() for v in row if headers.get(_normalise_header(v))] for row in grid[:HEADER_SEARCH_ROWS]
        ]
        best = max(known, key=len, default=[])
        message = _("No header row with the columns of the %(form)s in the first %(n)d rows.") % {
            "form": layout.title,
            "n": HEADER_SEARCH_ROWS,
        }
        message += " " + (
            _("Recognised: %(headers)s.") % {"headers": "、".join(best)} if best else _("No header was recognised.")
        )
        if layout is REGISTER:
            message += " " + _("A register in its own layout can be brought in with the import wizard.")
        raise ImportRefused(message, "、".join(layout.column_names[name] for name in layout.required))
    columns: dict[str, int] = {}
    first_data = header_index + 1
    for candidate in (header_index, header_index + 1):  # a group header row, then the sub-headers
        if candidate >= len(grid):
            break
        found = False
        for index, value in enumerate(grid[candidate]):
            name = headers.get(_normalise_header(value))
            if name and (candidate == header_index or name not in columns or columns[name] == index):
                columns[name] = index
                found = found or candidate > header_index
        if candidate > header_index and found:
            first_data = candidate + 1
    if "measures" in columns and columns["measures"] in {columns.get(line) for line in LINES}:
        del columns["measures"]  # the 一览表's 防控措施 group header above its three columns
    _refuse_missing(columns, layout)
    rows = []
    bounds = Bounds.current()
    data_fields = [name for name in columns if name != "serial"]
    for offset, values in enumerate(grid[first_data:], start=first_data + 1):
        row = {name: values[index] if index < len(values) else None for name, index in columns.items()}
        if all(_text(row.get(name)) == "" for name in data_fields):
            continue  # empty rows, and the signature block's lines (only the first column is used)
        rows.append(SheetRow(number=offset, values=row))
        if len(rows) > bounds.rows:
            raise ImportRefused(
                _("The sheet has more than %(rows)d rows.") % {"rows": bounds.rows},
                _("at most %(rows)d rows") % {"rows": bounds.rows},
            )
    return ReadRows(
        rows=rows,
        columns={name: get_column_letter(index + 1) for name, index in columns.items()},
        header_row=header_index + 1,
    )


def _text(value) -> str:
    """A cell as text; a date (a number with a date format) as Excel shows it, YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- checking rows against the institution ----------------------------------------------------


LABELLED = re.compile(r"^(\d+)\s*[（(](.*)[）)]$", re.DOTALL)  # 3（较大）, as the forms print a scale


def _scale_value(value, labels: list[str]) -> int | None:
    """A likelihood or severity: its number (1 = lowest), its label in the scheme, or both as the
    forms print them (``3（较大）``: the label must be the number's)."""
    if isinstance(value, bool) or isinstance(value, datetime.date):
        return None
    if isinstance(value, int | float):
        number = value if isinstance(value, int) else (int(value) if value.is_integer() else None)
    else:
        text = _text(value)
        if text in labels:
            return labels.index(text) + 1
        labelled = LABELLED.match(text)
        if labelled:
            number = int(labelled.group(1))
            if not (1 <= number <= len(labels) and labels[number - 1] == labelled.group(2).strip()):
                return None
        else:
            number = int(text) if text.isdigit() else None
    return number if number is not None and 1 <= number <= len(labels) else None


def _choices(names: Iterable[str], limit: int = 12) -> str:
    names = [name for name in names if name]
    text = "、".join(names[:limit])
    return text + ("…" if len(names) > limit else "")


class _Lookups:
    """Everything a row may name, loaded once (a fixed number of queries per file)."""

    def __init__(self, institution: Institution, year: int) -> None:

        self.departments = {d.name: d for d in Department.objects.filter(institution=institution)}
        self.positions = {
            (p.department_id, p.title): p for p in Position.objects.filter(institution=institution).order_by("id")
        }
        types = list(risk_types_for(institution))
        self.risk_types = {t.name: t for t in types} | {t.code: t for t in types}
        self.risk_type_names = [t.name for t in types]
        scheme = institution.grading_scheme
        self.scheme = scheme
        levels = list(GradeLevel.objects.filter(scheme=scheme)) if scheme else []
        self.levels_by_code = {level.code: level for level in levels}
        self.levels = {level.name: level for level in levels} | self.levels_by_code
        self.level_names = [level.name for level in levels]
        powers = list(PowerItem.objects.filter(institution=institution).prefetch_related("positions"))
        self.power_items = {p.name: p for p in powers}
        self.power_positions = {p.pk: {pos.pk for pos in p.positions.all()} for p in powers}
        self.steps = {(s.power_item_id, s.name): s for s in ProcessStep.objects.filter(power_item__in=powers)}
        self.existing = set(
            RiskPoint.objects.filter(institution=institution, year=year).values_list(
                "department_id", "position_id", "description"
            )
        )
        self.control_values = ControlValues(institution)
        self.found_by: dict[str, str] = dict(FOUND_BY_WORDS)
        for value, label in FoundBy.choices:
            self.found_by[value] = value
            self.found_by[str(label)] = value


class ControlValues:
    """The values each control has — 责任人, 检查频次, 留存资料, 依据制度 — read from a row for its
    measures, as the forms print them: one value for all the measures, or one line per measure in
    the order they are printed (``—``: none). The 一览表 import and the wizard read them alike."""

    LIMITS = {"owner": 120, "evidence": 200}

    def __init__(self, institution: Institution) -> None:
        self.rules = {rule.title: rule for rule in Rule.objects.filter(institution=institution).order_by("id")}
        self.frequencies = {value: value for value in Control.Frequency.values}
        for language in ("zh-hans", translation.get_language()):  # the forms print them in Chinese
            with translation.override(language):
                self.frequencies |= {str(label): value for value, label in Control.Frequency.choices}

    def read(self, texts: dict[str, str], measures: list[tuple[str, str]], problem) -> list[PlannedControl]:
        """``texts``: field → the row's cell (empty when the file has no such column); ``problem``
        (field, message, expected) records what cannot be read, never guessed or dropped."""
        values = {name: self._spread(name, texts.get(name, ""), len(measures), problem) for name in CONTROL_VALUES}
        for name, limit in self.LIMITS.items():
            if any(len(text) > limit for text in values[name]):
                problem(name, _("A value is longer than %(n)d characters.") % {"n": limit}, _("shorter values"))
        frequencies = [self._frequency(text, problem) for text in values["frequency"]]
        rules = [self._rule(text, problem) for text in values["rule"]]
        return [
            PlannedControl(line, measure, values["owner"][i], frequencies[i], values["evidence"][i], rules[i])
            for i, (line, measure) in enumerate(measures)
        ]

    @staticmethod
    def _spread(name: str, text: str, count: int, problem) -> list[str]:
        if not text:
            return [""] * count
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not count:
            problem(name, _("The row has a value here but no measure to give it to."), _("a measure, or no value"))
        elif len(lines) == 1:
            return [lines[0]] * count
        elif len(lines) != count:
            problem(
                name,
                _("%(lines)d lines for %(count)d measures.") % {"lines": len(lines), "count": count},
                _("one value for all the measures, or one line per measure in the order they are printed"),
            )
        else:
            return ["" if line == NO_VALUE else line for line in lines]
        return [""] * count

    def _frequency(self, text: str, problem) -> str:
        value = self.frequencies.get(text) if text else ""
        if value is None:
            problem(
                "frequency",
                _("Unknown frequency “%(name)s”.") % {"name": text},
                _choices(str(label) for _value, label in Control.Frequency.choices),
            )
        return value or ""

    def _rule(self, text: str, problem) -> Rule | None:
        rule = self.rules.get(text) if text else None
        if text and rule is None:
            problem(
                "rule",
                _("Unknown rule “%(name)s”.") % {"name": text},
                _choices(self.rules) or _("a rule of the institution's rule catalogue"),
            )
        return rule


class _RowCheck:
    """One row resolved against the lookups, part by part, in the order of the columns.

    Each ``check_*`` method reads its cells, records its problems on the shared list and returns
    what it resolved (None when it could not); ``planned`` builds the point when the row had none.
    """

    def __init__(self, lookups: _Lookups, row: SheetRow, problems: list[Problem]) -> None:
        self.lookups = lookups
        self.values = row.values
        self.number = row.number
        self.problems = problems
        self.before = len(problems)

    def problem(self, name: str, message: str, expected: str = "") -> None:
        self.problems.append(Problem(self.number, COLUMN_NAMES.get(name, name), message, expected))

    def text(self, name: str) -> str:
        return strip_controls(_text(self.values.get(name)))

    @property
    def clean(self) -> bool:
        return len(self.problems) == self.before

    def check_department(self) -> Department | None:
        name = self.text("department")
        department = self.lookups.departments.get(name)
        if not name:
            self.problem("department", _("The department is empty."), _choices(self.lookups.departments))
        elif department is None:
            self.problem(
                "department",
                _("Unknown department “%(name)s”.") % {"name": name},
                _choices(self.lookups.departments),
            )
        return department

    def check_position(self, department: Department | None) -> Position | None:
        title = self.text("position")
        if not title or department is None:
            return None
        position = self.lookups.positions.get((department.pk, title))
        if position is None:
            self.problem(
                "position",
                _("Unknown position “%(name)s” in %(department)s.") % {"name": title, "department": department.name},
                _choices(other for (dept, other) in self.lookups.positions if dept == department.pk)
                or _("a position of that department, or empty for a department-level point"),
            )
        return position

    def check_description(self) -> str:
        description = self.text("description")
        if not description:
            self.problem("description", _("The risk description is empty."), _("what could go wrong, in words"))
        return description

    def check_risk_type(self) -> RiskType | None:
        name = self.text("risk_type")
        risk_type = self.lookups.risk_types.get(name)
        if risk_type is None:
            message = _("The risk type is empty.") if not name else _("Unknown risk type “%(name)s”.") % {"name": name}
            self.problem("risk_type", message, _choices(self.lookups.risk_type_names))
        return risk_type

    def check_scale(self, name: str, labels: list[str], message: str) -> int | None:
        """Likelihood or severity; ``message`` is the translated "Bad … “%(value)s”." of the column."""
        value = _scale_value(self.values.get(name), labels)
        if value is None:
            self.problem(
                name,
                message % {"value": self.text(name)},
                _("a number from 1 to %(n)d, or one of: %(labels)s") % {"n": len(labels), "labels": "、".join(labels)},
            )
        return value

    def check_level(self, scheme: GradingScheme, likelihood: int | None, severity: int | None) -> GradeLevel | None:
        """The level the scheme gives; a level typed in the row must be that one (or empty)."""
        level = None
        if likelihood is not None and severity is not None:
            level = self.lookups.levels_by_code.get(scheme.matrix[likelihood - 1][severity - 1])
        text = self.text("level")
        if not text:
            return level
        stated = self.lookups.levels.get(text)
        if stated is None:
            self.problem("level", _("Unknown level “%(name)s”.") % {"name": text}, _choices(self.lookups.level_names))
        elif level is not None and stated.pk != level.pk:
            self.problem(
                "level",
                _("The level “%(name)s” does not match the likelihood and severity.") % {"name": text},
                _("%(level)s (the grading scheme's level for them), or empty") % {"level": level.name},
            )
        return level

    def check_found_by(self) -> str | None:
        text = self.text("found_by")
        found_by = self.lookups.found_by.get(text, FoundBy.SELF if not text else None)
        if found_by is None:
            self.problem(
                "found_by",
                _("Unknown way of finding “%(name)s”.") % {"name": text},
                _choices([*FOUND_BY_WORDS, *(str(label) for _value, label in FoundBy.choices)]),
            )
        return found_by

    def check_power_item(self, department: Department | None, position: Position | None) -> PowerItem | None:
        """A power item of the institution, exercised by the row's position or department."""
        name = self.text("power_item")
        if not name:
            return None
        power_item = self.lookups.power_items.get(name)
        if power_item is None:
            self.problem(
                "power_item", _("Unknown power item “%(name)s”.") % {"name": name}, _choices(self.lookups.power_items)
            )
        elif department is not None:
            exercised = position is not None and position.pk in self.lookups.power_positions.get(power_item.pk, set())
            if not (exercised or power_item.department_id == department.pk):
                self.problem(
                    "power_item",
                    _("The power item “%(name)s” is not exercised by this position or department.") % {"name": name},
                    _("a power item of that position or department"),
                )
        return power_item

    def check_step(self, power_item: PowerItem | None) -> ProcessStep | None:
        name = self.text("process_step")
        if not name:
            return None
        step = self.lookups.steps.get((power_item.pk, name)) if power_item else None
        if step is None:
            self.problem(
                "process_step",
                _("Unknown process step “%(name)s”.") % {"name": name},
                _("a step of the row's power item"),
            )
        return step

    def check_new(self, key: tuple, *, seen: dict[tuple, int], year: int) -> None:
        """Once per file, and not already in the year's register."""
        if key in seen:
            self.problem("description", _("Duplicate of row %(row)d.") % {"row": seen[key]}, _("each risk point once"))
        elif key in self.lookups.existing:
            self.problem(
                "description",
                _("This risk point is already in the %(year)d register.") % {"year": year},
                _("only points not yet in the register"),
            )
        else:
            seen[key] = self.number

    def check_characters(self) -> None:
        """Bidirectional controls reorder what is printed: refused, as the forms refuse them."""
        for name, value in self.values.items():
            if isinstance(value, str) and (found := bidi_controls_in(value)):
                self.problem(
                    name,
                    _("The text holds invisible direction-control characters (%(chars)s).")
                    % {"chars": "、".join(found)},
                    _("the same text without them"),
                )

    def check_controls(self) -> list[PlannedControl]:
        """One measure per line of each line-of-defence column, then those of a single column;
        each with its values (责任人, 检查频次, 留存资料, 依据制度)."""
        measures = [
            (line, measure.strip()) for line in LINES for measure in self.text(line).splitlines() if measure.strip()
        ]
        measures += self.single_column_controls()
        if any(len(measure) > 2000 for _line, measure in measures):
            self.problem("prevention", _("A measure is longer than 2,000 characters."), _("shorter measures"))
        texts = {name: self.text(name) for name in CONTROL_VALUES}
        return self.lookups.control_values.read(texts, measures, self.problem)

    def single_column_controls(self) -> list[tuple[str, str]]:
        """The 登记表's 防范措施: each line says its line of defence (``前期预防：…``, ``前期：…``) or
        belongs to the one named above it; a line before any is a problem, never dropped."""
        controls: list[tuple[str, str]] = []
        line = ""
        for number, text in enumerate(self.text("measures").splitlines(), start=1):
            if not text.strip():
                continue
            prefix = LINE_PREFIX.match(text)
            if prefix:
                line = LINE_BY_PREFIX[prefix.group(1) or prefix.group(2)]
                text = text[prefix.end() :]
            elif not line:
                self.problem(
                    "measures",
                    _("Line %(line)d of the measures does not say its line of defence: “%(text)s”.")
                    % {"line": number, "text": text.strip()[:40]},
                    _("each line beginning with 前期预防：, 中期监控： or 后期处置： (lines below belong to it)"),
                )
                continue
            if text.strip():
                controls.append((line, text.strip()))
        return controls


def _check_row(check: _RowCheck, scheme: GradingScheme, *, seen: dict[tuple, int], year: int) -> PlannedPoint | None:
    """Every column of one row, all problems recorded; the planned point when there were none."""
    check.check_characters()
    department = check.check_department()
    position = check.check_position(department)
    description = check.check_description()
    risk_type = check.check_risk_type()
    directly = check.text("likelihood") == check.text("severity") == GRADED_DIRECTLY and bool(check.text("level"))
    if directly:  # an exported 一览表 of a point graded directly comes back as it went out
        likelihood = severity = None
        level = check.lookups.levels.get(check.text("level"))
        if level is None:
            check.check_level(scheme, None, None)  # the unknown level, as a problem
    else:
        likelihood = check.check_scale("likelihood", list(scheme.likelihood_labels), _("Bad likelihood “%(value)s”."))
        severity = check.check_scale("severity", list(scheme.severity_labels), _("Bad severity “%(value)s”."))
        level = check.check_level(scheme, likelihood, severity)
    found_by = check.check_found_by()
    power_item = check.check_power_item(department, position)
    step = check.check_step(power_item)
    if department is not None and description:
        check.check_new((department.pk, position.pk if position else None, description), seen=seen, year=year)
    controls = check.check_controls()
    if not check.clean:
        return None
    # A clean row resolved every required column (each None above recorded a problem).
    assert department is not None and risk_type is not None and found_by is not None
    assert level is not None and (directly or (likelihood is not None and severity is not None))
    return PlannedPoint(
        row=check.number,
        department=department,
        position=position,
        power_item=power_item,
        process_step=step,
        risk_type=risk_type,
        found_by=found_by,
        description=description,
        manifestation=check.text("manifestation"),
        likelihood=likelihood,
        severity=severity,
        graded_directly=directly,
        level=level,
        controls=controls,
    )


def check_rows(
    read: ReadRows, *, institution: Institution, year: int, progress=None
) -> tuple[list[PlannedPoint], list[Problem]]:
    """Resolve every row; return the planned points and every problem found (all rows, all columns).
    ``progress(done, total)`` every CHECK_PROGRESS_ROWS rows."""
    lookups = _Lookups(institution, year)
    problems: list[Problem] = []
    if lookups.scheme is None:
        problems.append(
            Problem(None, "", _("%(institution)s has no grading scheme yet.") % {"institution": institution.name})
        )
        return [], problems
    planned: list[PlannedPoint] = []
    seen: dict[tuple, int] = {}
    total = len(read.rows)
    for done, row in enumerate(read.rows, start=1):
        point = _check_row(_RowCheck(lookups, row, problems), lookups.scheme, seen=seen, year=year)
        if point is not None:
            planned.append(point)
        if progress is not None and (done % CHECK_PROGRESS_ROWS == 0 or done == total):
            progress(done, total)
    if not read.rows:
        problems.append(Problem(None, "", _("The file has no risk points below its header."), _("one row per point")))
    return planned, problems


# --- the template ---------------------------------------------------------------------------


TEMPLATE_ROWS = 1000  # data rows of the template that carry the dropdowns
OPTIONS_SHEET = "选项"


def _template_options(lookups: _Lookups) -> dict[str, list[str]]:
    """What each listed column accepts, one name per item: the 选项 sheet's columns, in order."""
    scheme = lookups.scheme
    found_by: dict[str, str] = {}  # the seeds' first word for each way of finding
    for word, value in FOUND_BY_WORDS.items():
        found_by.setdefault(value, word)
    return {
        "部门（科室）": list(lookups.departments),
        "岗位": sorted({title for (_d, title) in lookups.positions}),
        "风险类型": list(lookups.risk_type_names),
        "查找方式": list(found_by.values()),
        "发生概率": list(scheme.likelihood_labels) if scheme else [],
        "危害程度": list(scheme.severity_labels) if scheme else [],
        "风险等级": list(lookups.level_names),
    }


def _template_validations(options: dict[str, list[str]], *, form, first_row: int) -> list[DataValidation]:
    """A dropdown on every data cell of each listed column, its list read from the 选项 sheet. The
    likelihood, severity and level also take a number or a code, so a value off the list warns."""
    letters = {column.header: get_column_letter(index) for index, column in enumerate(form.columns, start=1)}
    validations = []
    for index, (header, values) in enumerate(options.items(), start=1):
        if not values or header not in letters:
            continue
        source = get_column_letter(index)
        strict = header not in ("发生概率", "危害程度", "风险等级")
        validation = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${source}$2:${source}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if strict else "warning",
            errorTitle=header,
            error=f"请从下拉列表中选择（见「{OPTIONS_SHEET}」表）" + ("" if strict else "，或填写数字"),
        )
        validation.add(f"{letters[header]}{first_row}:{letters[header]}{first_row + TEMPLATE_ROWS - 1}")
        validations.append(validation)
    return validations


def write_template(out, *, institution: Institution) -> None:
    """The 一览表 with no rows and dropdowns on its listed columns, a 填写说明 sheet saying what each
    column accepts, and the visible 选项 sheet the dropdowns read (one name per cell)."""

    lookups = _Lookups(institution, 0)
    form = FORMS["overview"]
    options = _template_options(lookups)
    workbook = WorkbookWriter(write_only=True)
    overview = workbook.create_sheet("一览表")
    _write_sheet(
        overview,
        form=form,
        header=DocumentHeader(institution=institution.name, year=None),
        label="",
        rows=[],
        start=0,
    )
    first_row = 3 + (2 if form.has_groups else 1)
    for validation in _template_validations(options, form=form, first_row=first_row):
        overview.data_validations.append(validation)
    sheet = workbook.create_sheet("填写说明")
    styles = _Styles(sheet)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 90
    scheme = lookups.scheme
    listed = f"从下拉列表选择；可选值见「{OPTIONS_SHEET}」表，每格一个"
    notes = [
        ("列", "可填写的值"),
        ("部门（科室）", f"{listed}：" + "、".join(lookups.departments)),
        ("岗位", f"{listed}（每行一个岗位；部门级风险点留空）"),
        ("风险类型", f"{listed}：" + "、".join(lookups.risk_type_names)),
        (
            "发生概率",
            f"1–{len(scheme.likelihood_labels)} 或：{'、'.join(scheme.likelihood_labels)}" if scheme else "",
        ),
        (
            "危害程度",
            f"1–{len(scheme.severity_labels)} 或：{'、'.join(scheme.severity_labels)}" if scheme else "",
        ),
        ("风险等级", "可留空，由发生概率和危害程度按分级办法得出：" + "、".join(lookups.level_names)),
        ("查找方式", "、".join(FOUND_BY_WORDS)),
        ("防控措施", "前期预防、中期监控、后期处置各列每行一条措施"),
        ("责任人", "各条措施相同时填一个；不同时每条措施一行，按前期预防、中期监控、后期处置的顺序，无则填“—”"),
        ("导入后", "导入的风险点状态为“已自查上报”，进入审核"),
    ]
    for index, (name, text) in enumerate(notes):
        style = styles.header if index == 0 else styles.body
        sheet.append([_cell(sheet, name, style), _cell(sheet, text, style)])
    lists = workbook.create_sheet(OPTIONS_SHEET)
    list_styles = _Styles(lists)
    for index in range(1, len(options) + 1):
        lists.column_dimensions[get_column_letter(index)].width = 24
    columns = list(options.values())
    height = max((len(values) for values in columns), default=0)
    lists.append([_cell(lists, header, list_styles.header) for header in options])
    for row in range(height):
        lists.append([values[row] if row < len(values) else None for values in columns])
    workbook.save(out)
