"""The one streaming reader of an uploaded .xlsx: every part parsed by expat in chunks, every
element counted while it is read, and the file refused at the first bound it crosses.

openpyxl used to read the workbook after a pre-scan of the sheet, and it materialised what the
pre-scan did not bound: 5.5 million shared strings (2 minutes, 908 MB), 17 million empty
``<row/>`` (3.5 minutes, 1.56 GB), styles without end. Here nothing is read that is not counted:

- the bytes unpacked from the zip (counted as they are inflated, whatever the zip's table of
  contents claims) and the XML elements of every part;
- the workbook's sheets, the style entries, the shared strings and their total length;
- the sheet's rows (empty ``<row/>`` too), cells (empty ``<c/>`` too), columns, and the length
  of every cell's text (Excel's own limit, 32,767 characters);
- a single tag or attribute that runs on past ``MAX_TOKEN_BYTES`` without an event (expat would
  keep it in memory whole) is refused too.

The bounds are settings (``RISK_REGISTRY_IMPORT_*``, defaults in ``config/settings/base.py``),
read when a file is read; ``Bounds.current()`` gives them. A refusal says, in the user's language,
what was too large and the bound; ``ImportRefused.elements`` says how many elements were parsed
before it (the tests' proof that reading stopped at the first crossing).

What is returned is the chosen visible sheet as the user sees it (values within the extent of the
data, the merged ranges filled, dates as dates when their number format says so), the list of the
sheets with their visibility, and the hidden rows and columns that hold data. No DTD is accepted
(the defence defusedxml gave: no entity can expand).
"""

from __future__ import annotations

import datetime
import posixpath
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

CHUNK = 64 * 1024
STYLE_ENTRIES = frozenset({"xf", "numFmt", "font", "fill", "border", "dxf", "cellStyle"})
# Errors of a damaged zip (a bad CRC-32, a truncated member): never shown as they are (English).
DAMAGED_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)


@dataclass(frozen=True)
class Bounds:
    """What a workbook may hold (docs/documents.md, "Bounds of the import")."""

    rows: int  # data rows; the sheet may have HEADER_SEARCH_ROWS more above them
    columns: int
    cells: int
    shared_strings: int
    shared_text: int  # characters of all the shared strings together
    styles: int
    sheets: int
    cell_text: int
    unpacked: int  # bytes inflated from the zip, all parts together
    elements: int  # XML elements of all parts together
    token: int  # bytes expat may take in without an event (one tag or attribute)

    @classmethod
    def current(cls) -> Bounds:
        def value(name: str) -> int:
            return int(getattr(settings, f"RISK_REGISTRY_IMPORT_MAX_{name}"))

        return cls(
            rows=value("ROWS"),
            columns=value("COLUMNS"),
            cells=value("CELLS"),
            shared_strings=value("SHARED_STRINGS"),
            shared_text=value("SHARED_TEXT"),
            styles=value("STYLES"),
            sheets=value("SHEETS"),
            cell_text=value("CELL_TEXT"),
            unpacked=value("UNPACKED_BYTES"),
            elements=value("ELEMENTS"),
            token=value("TOKEN_BYTES"),
        )


@dataclass(frozen=True)
class Problem:
    row: int | None  # the Excel row number; None for the file as a whole
    column: str  # the column's header (or letter)
    message: str
    expected: str = ""

    def __str__(self) -> str:
        where = (
            _("Row %(row)d, column %(column)s") % {"row": self.row, "column": self.column} if self.row else _("File")
        )
        text = f"{where}: {self.message}"
        if self.expected:
            text += " " + _("(expected: %(expected)s)") % {"expected": self.expected}
        return text


class ImportRefused(Exception):
    """The file as a whole cannot be read (too big, not xlsx, a bomb, no header)."""

    def __init__(self, message: str, expected: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(None, "", message, expected)
        self.sheets: list[SheetInfo] = []  # the workbook's sheets, when it was read that far
        self.elements = 0  # XML elements parsed before the refusal


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # "visible", "hidden" or "veryHidden"

    @property
    def visible(self) -> bool:
        return self.state == "visible"

    @property
    def state_label(self) -> str:
        return _("visible") if self.visible else _("hidden")


def damaged() -> ImportRefused:
    return ImportRefused(
        _("The workbook is damaged (its compressed data does not check out) and cannot be read."),
        _("the file saved again from Excel or WPS as .xlsx"),
    )


def too_large(message: str, limit: int) -> ImportRefused:
    """``message``: the translated sentence naming what was counted, with ``%(limit)s``."""
    return ImportRefused(
        message % {"limit": f"{limit:,}"},
        _("at most %(limit)s; an ordinary register is far below this") % {"limit": f"{limit:,}"},
    )


class _Parts:
    """Reads the zip's parts through expat, counting bytes inflated and elements parsed."""

    def __init__(self, archive: zipfile.ZipFile, bounds: Bounds) -> None:
        self.archive = archive
        self.bounds = bounds
        self.names = set(archive.namelist())
        self.unpacked = 0
        self.elements = 0

    def parse(
        self,
        name: str,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None] | None = None,
        text: Callable[[str], None] | None = None,
    ) -> None:
        """Stream the part ``name`` into the handlers (tags without namespace: ``{ns}tag`` → tag,
        as every part of a workbook uses one namespace per element kind)."""
        parser, marks, counted = self._parser(start, end, text)
        fed = 0
        try:
            with self.archive.open(name) as source:
                while chunk := source.read(CHUNK):
                    self.unpacked += len(chunk)
                    if self.unpacked > self.bounds.unpacked:
                        raise too_large(_("The workbook unpacks to more than %(limit)s bytes."), self.bounds.unpacked)
                    parser.Parse(chunk, False)
                    fed += len(chunk)
                    if fed - max(marks[0], 0) > self.bounds.token:
                        raise too_large(
                            _("The workbook holds a single tag of more than %(limit)s bytes."), self.bounds.token
                        )
                parser.Parse(b"", True)
        except (expat.ExpatError, *DAMAGED_ZIP_ERRORS):
            raise damaged() from None
        finally:
            self.elements = counted[0]  # the count of all parts, kept here between them

    def _parser(self, start, end, text) -> tuple[Any, list[int], list[int]]:
        """An expat parser that counts elements, marks where its last event was (a tag that runs on
        without one is refused by ``parse``) and accepts no DTD (so no entity can expand)."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = CHUNK
        marks = [0]

        def forbid(*_args: Any) -> None:
            raise ImportRefused(_("The workbook holds a document type declaration."), _("an ordinary .xlsx file"))

        names: dict[str, str] = {}  # "{namespace} tag" → tag: split once per kind of element
        bound = self.bounds.elements
        counted = [self.elements]  # a local cell: read and written on every element

        def local(tag: str) -> str:
            name = names[tag] = tag.rpartition(" ")[2]
            return name

        def on_start(tag: str, attributes: dict[str, str]) -> None:
            counted[0] += 1
            if counted[0] > bound:
                raise too_large(_("The workbook holds more than %(limit)s data elements."), bound)
            marks[0] = parser.CurrentByteIndex
            try:
                name = names[tag]
            except KeyError:
                name = local(tag)
            start(name, attributes)

        def on_end(tag: str) -> None:  # an end tag is short: the start before it set the mark
            try:
                name = names[tag]
            except KeyError:
                name = local(tag)
            end(name)

        def on_text(data: str) -> None:
            marks[0] = parser.CurrentByteIndex
            if text is not None:
                text(data)

        parser.StartElementHandler = on_start
        if end is not None:
            parser.EndElementHandler = on_end
        parser.CharacterDataHandler = on_text
        parser.StartDoctypeDeclHandler = forbid
        parser.EntityDeclHandler = forbid
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        return parser, marks, counted

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """The relationships of ``part``: id → (type's last word, target part name)."""
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{base}.rels")
        found: dict[str, tuple[str, str]] = {}
        if rels not in self.names:
            return found

        def start(tag: str, attributes: dict[str, str]) -> None:
            if tag == "Relationship" and attributes.get("TargetMode") != "External":
                target = attributes.get("Target", "")
                joined = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                path = posixpath.normpath(joined)
                found[attributes.get("Id", "")] = (attributes.get("Type", "").rpartition("/")[2], path)

        self.parse(rels, start)
        return found


class _Styles:
    """Which cell styles show a number as a date (or a duration), from styles.xml's cellXfs."""

    def __init__(self) -> None:
        self.formats: dict[int, str] = dict(BUILTIN_FORMATS)
        self.cell_formats: list[int] = []
        self.entries = 0
        self.in_cell_xfs = False

    def start(self, tag: str, attributes: dict[str, str], bound: int) -> None:
        if tag in STYLE_ENTRIES:
            self.entries += 1
            if self.entries > bound:
                raise too_large(_("The workbook has more than %(limit)s cell styles."), bound)
        if tag == "numFmt":
            self.formats[_int(attributes.get("numFmtId"))] = attributes.get("formatCode", "")
        elif tag == "cellXfs":
            self.in_cell_xfs = True
        elif tag == "xf" and self.in_cell_xfs:
            self.cell_formats.append(_int(attributes.get("numFmtId")))

    def end(self, tag: str) -> None:
        if tag == "cellXfs":
            self.in_cell_xfs = False

    def kinds(self) -> list[str]:
        """Per cell style: "date", "duration" or ""."""
        kinds = []
        for number in self.cell_formats:
            code = self.formats.get(number, "")
            kinds.append("duration" if is_timedelta_format(code) else "date" if is_date_format(code) else "")
        return kinds


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


_COLUMNS: dict[str, int] = {}  # column letters → number, filled as met (at most the bound's few)


def _reference(ref: str) -> tuple[int, int]:
    """A cell reference (``AB12``) as column and row numbers; a damaged file for anything else."""
    split = len(ref.rstrip("0123456789"))
    letters, digits = ref[:split], ref[split:]
    column = _COLUMNS.get(letters)
    if column is None:
        try:
            column = column_index_from_string(letters)
        except ValueError:
            raise damaged() from None
        if len(_COLUMNS) < 1000:
            _COLUMNS[letters] = column
    if not digits:
        raise damaged()
    return column, int(digits)


def _hidden(attributes: dict[str, str]) -> bool:
    return attributes.get("hidden") in ("1", "true")


class _SharedStrings:
    """sharedStrings.xml: each ``<si>`` one string (its runs joined, phonetic runs left out)."""

    def __init__(self, shared: list[str], bounds: Bounds) -> None:
        self.shared = shared
        self.bounds = bounds
        self.runs: list[str] | None = None
        self.text: list[str] | None = None
        self.total = 0
        self.phonetic = False

    def start(self, tag: str, _attributes: dict[str, str]) -> None:
        if tag == "si":
            if len(self.shared) >= self.bounds.shared_strings:
                raise too_large(_("The workbook has more than %(limit)s shared strings."), self.bounds.shared_strings)
            self.runs = []
        elif tag == "t" and not self.phonetic:
            self.text = []
        elif tag == "rPh":
            self.phonetic = True

    def characters(self, data: str) -> None:
        if self.text is None:
            return
        self.total += len(data)
        if self.total > self.bounds.shared_text:
            raise too_large(
                _("The shared strings of the workbook hold more than %(limit)s characters in all."),
                self.bounds.shared_text,
            )
        self.text.append(data)

    def end(self, tag: str) -> None:
        if tag == "t" and self.text is not None:
            if self.runs is not None:
                self.runs.append("".join(self.text))
            self.text = None
        elif tag == "rPh":
            self.phonetic = False
        elif tag == "si" and self.runs is not None:
            text = "".join(self.runs)
            if len(text) > self.bounds.cell_text:
                raise too_large(_("A cell holds more than %(limit)s characters."), self.bounds.cell_text)
            self.shared.append(text)
            self.runs = None


@dataclass
class Sheet:
    """What the streaming read of one sheet found."""

    cells: dict[int, dict[int, Any]] = field(default_factory=dict)  # row → column → value
    last_row: int = 0
    last_column: int = 0
    merged: list[str] = field(default_factory=list)
    hidden_rows_with_data: set[int] = field(default_factory=set)
    hidden_columns_with_data: set[int] = field(default_factory=set)


class _SheetReader:
    """The sheet's events: rows, cells and their values, hidden rows and columns, merged ranges."""

    def __init__(self, workbook: Workbook, bounds: Bounds, extra_rows: int, progress) -> None:
        self.workbook = workbook
        self.bounds = bounds
        self.max_rows = bounds.rows + extra_rows
        self.progress = progress
        self.sheet = Sheet()
        self.hidden_columns: set[int] = set()
        self.rows = self.cells = 0
        self.row_number = 0
        self.row_hidden = False
        self.column = 0
        self.cell_type = ""
        self.cell_style = 0
        self.text: list[str] | None = None  # collecting the text of <v> or <t>
        self.text_length = 0
        self.value: Any = None
        self.has_value = False
        self.in_phonetic = False

    def refuse_extent(self, rows: int, columns: int, *, claimed: bool) -> None:
        if rows > self.max_rows or columns > self.bounds.columns:
            message = (
                _("The sheet claims %(rows)d rows × %(columns)d columns.")
                if claimed
                else _("The sheet has more than %(rows)d rows or %(columns)d columns.")
            )
            raise ImportRefused(
                message % {"rows": rows, "columns": columns},
                _("at most %(rows)d rows and %(columns)d columns")
                % {"rows": self.bounds.rows, "columns": self.bounds.columns},
            )

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "c":
            self.start_cell(attributes)
        elif tag in ("v", "t") and not self.in_phonetic:
            self.text, self.text_length = [], 0
        elif tag == "row":
            self.start_row(attributes)
        elif tag == "rPh":
            self.in_phonetic = True
        elif tag == "col" and _hidden(attributes):
            first, last = _int(attributes.get("min"), 1), _int(attributes.get("max"), 1)
            self.hidden_columns.update(range(max(first, 1), min(last, self.bounds.columns) + 1))
        elif tag == "mergeCell":
            self.sheet.merged.append(attributes.get("ref", ""))
        elif tag == "dimension":
            ref = attributes.get("ref", "A1")
            try:
                _c, _r, max_col, max_row = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
            except (ValueError, TypeError):
                return
            self.refuse_extent(max_row or 1, max_col or 1, claimed=True)

    def start_row(self, attributes: dict[str, str]) -> None:
        self.rows += 1
        if self.rows > self.max_rows:
            raise too_large(_("The sheet has more than %(limit)s rows."), self.max_rows)
        self.row_number = _int(attributes.get("r"), self.row_number + 1)
        self.refuse_extent(self.row_number, 1, claimed=False)
        self.row_hidden = _hidden(attributes)
        self.column = 0
        if self.progress is not None and self.rows % 1000 == 0:
            self.progress(self.rows)

    def start_cell(self, attributes: dict[str, str]) -> None:
        self.cells += 1
        if self.cells > self.bounds.cells:
            raise too_large(_("The sheet has more than %(limit)s cells (empty ones counted)."), self.bounds.cells)
        ref = attributes.get("r")
        if ref:
            self.column, number = _reference(ref)
            if number != self.row_number:  # a cell outside its row: count it where it says it is
                self.row_number = number
        else:
            self.column += 1
        if self.column > self.bounds.columns or self.row_number > self.max_rows:
            self.refuse_extent(self.row_number, self.column, claimed=False)
        self.cell_type = attributes.get("t", "n")
        self.cell_style = _int(attributes.get("s"))
        self.value, self.has_value = None, False

    def characters(self, data: str) -> None:
        if self.text is None:
            return
        self.text_length += len(data)
        if self.text_length > self.bounds.cell_text:
            raise too_large(_("A cell holds more than %(limit)s characters."), self.bounds.cell_text)
        self.text.append(data)

    def end(self, tag: str) -> None:
        if tag in ("v", "t") and self.text is not None:
            joined = "".join(self.text)
            if tag == "v":
                self.value, self.has_value = joined, True
            else:  # inline string runs
                self.value = (self.value or "") + joined
                self.has_value = True
            self.text = None
        elif tag == "rPh":
            self.in_phonetic = False
        elif tag == "c":
            self.end_cell()

    def end_cell(self) -> None:
        if not self.has_value:
            return
        value = self.workbook.cell_value(self.cell_type, self.value, self.cell_style)
        if value is None:
            return
        number, column, sheet = self.row_number, self.column, self.sheet
        sheet.cells.setdefault(number, {})[column] = value
        sheet.last_row, sheet.last_column = max(sheet.last_row, number), max(sheet.last_column, column)
        if self.row_hidden:
            sheet.hidden_rows_with_data.add(number)
        if column in self.hidden_columns:
            sheet.hidden_columns_with_data.add(column)


class Workbook:
    """An opened workbook: its sheets (with visibility), shared strings and date styles; nothing
    of a sheet is read until ``read_sheet``."""

    def __init__(self, archive: zipfile.ZipFile, bounds: Bounds | None = None) -> None:
        self.bounds = bounds or Bounds.current()
        self.parts = _Parts(archive, self.bounds)
        self.sheets: list[SheetInfo] = []
        self.sheet_paths: dict[str, str] = {}
        self.date1904 = False
        self.shared: list[str] = []
        self.style_kinds: list[str] = []
        try:
            self._read_workbook()
        except ImportRefused as refused:
            refused.elements = self.parts.elements
            raise

    @property
    def elements(self) -> int:
        return self.parts.elements

    def _main_part(self) -> str:
        for kind, target in self.parts.relationships("").values():
            if kind == "officeDocument":
                return target
        return "xl/workbook.xml"

    def _read_workbook(self) -> None:
        main = self._main_part()
        if main not in self.parts.names:
            raise damaged()
        related = self.parts.relationships(main)
        listed: list[tuple[str, str, str]] = []

        def start(tag: str, attributes: dict[str, str]) -> None:
            if tag == "sheet":
                if len(listed) >= self.bounds.sheets:
                    raise too_large(_("The workbook has more than %(limit)s sheets."), self.bounds.sheets)
                relation = next((value for key, value in attributes.items() if key.endswith(" id")), "")
                listed.append((attributes.get("name", ""), attributes.get("state", "visible"), relation))
            elif tag == "workbookPr":
                self.date1904 = attributes.get("date1904") in ("1", "true")

        self.parts.parse(main, start)
        for name, state, relation in listed:
            kind, path = related.get(relation, ("", ""))
            if kind == "worksheet" and path in self.parts.names:
                self.sheets.append(SheetInfo(name, state))
                self.sheet_paths[name] = path
        for kind, path in related.values():
            if path not in self.parts.names:
                continue
            if kind == "styles":
                self._read_styles(path)
            elif kind == "sharedStrings":
                self._read_shared_strings(path)

    def _read_styles(self, path: str) -> None:
        styles = _Styles()
        self.parts.parse(path, lambda tag, attributes: styles.start(tag, attributes, self.bounds.styles), styles.end)
        self.style_kinds = styles.kinds()

    def _read_shared_strings(self, path: str) -> None:
        reader = _SharedStrings(self.shared, self.bounds)
        self.parts.parse(path, reader.start, reader.end, reader.characters)

    def cell_value(self, kind: str, text: Any, style: int) -> Any:
        """A cell's value as openpyxl's read-only, ``data_only`` reader gives it."""
        if kind == "s":
            index = _int(text, -1)
            if not 0 <= index < len(self.shared):
                raise damaged()
            return self.shared[index]
        if kind in ("inlineStr", "str", "e"):
            return text
        if kind == "b":
            return text in ("1", "true")
        if kind == "d":
            try:
                return datetime.datetime.fromisoformat(text)
            except ValueError:
                return text
        return self._number(text, style)

    def _number(self, text: str, style: int) -> Any:
        text = (text or "").strip()
        if not text:
            return None
        try:
            number: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return text
        kind = self.style_kinds[style] if 0 <= style < len(self.style_kinds) else ""
        if kind:
            try:
                epoch = CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900
                return from_excel(number, epoch, timedelta=kind == "duration")
            except (ValueError, OverflowError):
                return number
        return number

    def read_sheet(self, name: str, *, extra_rows: int = 0, progress=None) -> Sheet:
        """Stream the sheet ``name``: ``progress(rows)`` every thousand rows read."""
        reader = _SheetReader(self, self.bounds, extra_rows, progress)
        try:
            self.parts.parse(self.sheet_paths[name], reader.start, reader.end, reader.characters)
        except ImportRefused as refused:
            refused.elements = self.parts.elements
            raise
        return reader.sheet
