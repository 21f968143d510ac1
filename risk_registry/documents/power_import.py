"""The power inventory (职权目录) from Excel: the same guarded reader as the register's import
(``importer.read_rows``: size and zip-bomb limits, the visible sheet only, hidden rows and columns
with data refused, merged cells filled), its own columns, the checks row by row, and the import
through the services of the inventory pages.

A row names a power by its name. A name of a power in force in the institution updates that power
(``risk_registry.services.power_item_update``: audited, and the points of its posts flagged for
re-grading when anything changed); any other name creates one (``positions.services
.power_item_create``: audited). A column the file lacks is left as it is; a column present but
empty in a row empties that field. The whole file or nothing: every problem of every row and
column is listed, in Chinese, before anything is written, and the file is checked again inside the
transaction that writes it.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from positions import services as positions_services
from positions.models import Position, PowerCategory, PowerItem
from risk_registry import access
from risk_registry import services as register_services
from risk_registry.documents.importer import ImportRefused, Layout, Problem, ReadRows, SheetInfo, SheetRow, read_rows
from risk_registry.documents.importer import _text as cell_text
from risk_registry.documents.rendering import DOCUMENT_LANGUAGE
from risk_registry.organisation.models import Department, Institution
from risk_registry.organisation.selectors import vocabulary_for
from risk_registry.organisation.services import audit_record
from risk_registry.organisation.text import bidi_controls_in, strip_controls

COLUMN_NAMES = {
    "name": "职权名称",
    "category": "职权类别",
    "department": "承办科室",
    "positions": "行使岗位",
    "legal_basis": "行使依据",
    "responsible_subject": "责任主体",
    "commitment": "服务承诺和工作纪律",
    "discretion": "裁量权基准",
}
HEADERS = {name: key for key, name in COLUMN_NAMES.items()} | {
    "序号": "serial",
    "职权事项": "name",
    "权力事项": "name",
    "权力名称": "name",
    "事项名称": "name",
    "权力类别": "category",
    "类别": "category",
    "部门": "department",
    "科室": "department",
    "股室": "department",
    "责任科室": "department",
    "岗位": "positions",
    "责任岗位": "positions",
    "法律依据": "legal_basis",
    "设定依据": "legal_basis",
    "服务承诺": "commitment",
    "自由裁量权基准": "discretion",
}
LAYOUT = Layout(
    title="职权目录",
    headers=HEADERS,
    required=("name", "category"),
    column_names=COLUMN_NAMES,
    anchor=frozenset({"name", "category"}),
)
TEXT_FIELDS = ("legal_basis", "responsible_subject", "commitment", "discretion")
# The longest a cell may be, by the model's limits (a text field: a page of the benchmark).
MAX_LENGTHS = {"name": 200, "responsible_subject": 200, "legal_basis": 5000, "commitment": 5000, "discretion": 10000}
POSITION_SEPARATORS = re.compile(r"[、，,；;\n]+")
POSITION_IN_DEPARTMENT = re.compile(r"\s*[·/／]\s*")


@dataclass
class PlannedPower:
    row: int
    name: str
    item: PowerItem | None  # the power in force it updates; None: a new one
    fields: dict[str, object]  # the columns the file has, resolved (name aside)
    positions: list[Position] | None  # None when the file has no 行使岗位 column
    changed: list[str] = field(default_factory=list)  # the fields an update changes (column names)

    @property
    def action(self) -> str:
        if self.item is None:
            return _("new")
        return _("changed") if self.changed else _("unchanged")


@dataclass
class PowerImportResult:
    planned: list[PlannedPower] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sheet: str = ""
    sheets: list[SheetInfo] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def new_count(self) -> int:
        return sum(1 for p in self.planned if p.item is None)

    @property
    def changed_count(self) -> int:
        return sum(1 for p in self.planned if p.item is not None and p.changed)


class _Lookups:
    """What a row may name, loaded once (a fixed number of queries per file)."""

    def __init__(self, institution: Institution) -> None:
        categories = list(vocabulary_for(model=PowerCategory, institution=institution).order_by("order", "id"))
        self.categories = {c.name: c for c in categories} | {c.code: c for c in categories}
        self.category_names = [c.name for c in categories]
        self.departments = {d.name: d for d in Department.objects.filter(institution=institution).order_by("id")}
        self.positions = list(Position.objects.filter(institution=institution).select_related("department"))
        in_force = list(
            PowerItem.objects.filter(institution=institution, retired_on__isnull=True)
            .select_related("category", "department")
            .prefetch_related("positions")
        )
        self.items: dict[str, list[PowerItem]] = {}
        for item in in_force:
            self.items.setdefault(item.name, []).append(item)


def _choices(names, limit: int = 12) -> str:
    names = [name for name in names if name]
    return "、".join(names[:limit]) + ("…" if len(names) > limit else "")


class _PowerRowCheck:
    """One row resolved against the lookups, column by column, every problem recorded."""

    def __init__(self, lookups: _Lookups, row: SheetRow, columns: dict[str, str], problems: list[Problem]) -> None:
        self.lookups = lookups
        self.values = row.values
        self.number = row.number
        self.columns = columns
        self.problems = problems
        self.before = len(problems)

    def problem(self, name: str, message: str, expected: str = "") -> None:
        self.problems.append(Problem(self.number, COLUMN_NAMES.get(name, name), message, expected))

    def text(self, name: str) -> str:
        return strip_controls(cell_text(self.values.get(name)))

    @property
    def clean(self) -> bool:
        return len(self.problems) == self.before

    def check_characters(self) -> None:
        for name, value in self.values.items():
            if isinstance(value, str) and (found := bidi_controls_in(value)):
                self.problem(
                    name,
                    _("The text holds invisible direction-control characters (%(chars)s).")
                    % {"chars": "、".join(found)},
                    _("the same text without them"),
                )
        for name, limit in MAX_LENGTHS.items():
            if len(self.text(name)) > limit:
                self.problem(
                    name,
                    _("The text is longer than %(limit)d characters.") % {"limit": limit},
                    _("at most %(limit)d characters") % {"limit": limit},
                )

    def check_name(self, seen: dict[str, int]) -> tuple[str, PowerItem | None]:
        name = self.text("name")
        if not name:
            self.problem("name", _("The name of the power is empty."), _("the power's name, as in the inventory"))
            return name, None
        if name in seen:
            self.problem("name", _("Duplicate of row %(row)d.") % {"row": seen[name]}, _("each power once"))
            return name, None
        seen[name] = self.number
        matches = self.lookups.items.get(name, [])
        if len(matches) > 1:
            self.problem(
                "name",
                _("%(count)d powers in force are called “%(name)s”: the row cannot say which one it changes.")
                % {"count": len(matches), "name": name},
                _("rename one of them on its page first"),
            )
            return name, None
        return name, matches[0] if matches else None

    def check_category(self) -> PowerCategory | None:
        text = self.text("category")
        category = self.lookups.categories.get(text)
        if category is None:
            message = _("The category is empty.") if not text else _("Unknown category “%(name)s”.") % {"name": text}
            self.problem("category", message, _choices(self.lookups.category_names))
        return category

    def check_department(self) -> Department | None:
        text = self.text("department")
        if not text:
            return None
        department = self.lookups.departments.get(text)
        if department is None:
            self.problem(
                "department",
                _("Unknown department “%(name)s”.") % {"name": text},
                _choices(self.lookups.departments) + _(", or empty for a power of the whole institution"),
            )
        return department

    def check_positions(self, department: Department | None) -> list[Position]:
        """Posts separated by 、 , ; or line breaks; each a title (within the row's department
        first) or 科室·岗位 where two departments have posts of the same title."""
        found: list[Position] = []
        for part in POSITION_SEPARATORS.split(self.text("positions")):
            if not part.strip():
                continue
            position = self._position(part.strip(), department)
            if position is not None and position not in found:
                found.append(position)
        return found

    def _position(self, text: str, department: Department | None) -> Position | None:
        pieces = POSITION_IN_DEPARTMENT.split(text, maxsplit=1)
        if len(pieces) == 2:
            candidates = [p for p in self.lookups.positions if (p.department.name, p.title) == tuple(pieces)]
        else:
            candidates = [p for p in self.lookups.positions if p.title == text]
            own = [p for p in candidates if department is not None and p.department_id == department.pk]
            candidates = own or candidates
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            self.problem(
                "positions",
                _("More than one department has a post “%(name)s”.") % {"name": text},
                _choices(f"{p.department.name}·{p.title}" for p in candidates),
            )
        else:
            self.problem(
                "positions",
                _("Unknown post “%(name)s”.") % {"name": text},
                _choices(sorted({p.title for p in self.lookups.positions}))
                or _("a post of the institution's organisation chart"),
            )
        return None


def _changes(item: PowerItem, fields: dict[str, object], positions: list[Position] | None) -> list[str]:
    changed = [COLUMN_NAMES[name] for name, value in fields.items() if getattr(item, name) != value]
    if positions is not None and {p.pk for p in positions} != {p.pk for p in item.positions.all()}:
        changed.append(COLUMN_NAMES["positions"])
    return changed


def check_power_rows(read: ReadRows, *, institution: Institution) -> tuple[list[PlannedPower], list[Problem]]:
    """Resolve every row; return the planned powers and every problem (all rows, all columns)."""
    lookups = _Lookups(institution)
    problems: list[Problem] = []
    planned: list[PlannedPower] = []
    seen: dict[str, int] = {}
    present = set(read.columns)
    for row in read.rows:
        check = _PowerRowCheck(lookups, row, read.columns, problems)
        check.check_characters()
        name, item = check.check_name(seen)
        category = check.check_category()
        fields: dict[str, object] = {"category": category}
        if "department" in present:
            fields["department"] = check.check_department()
        positions = check.check_positions(fields.get("department")) if "positions" in present else None  # type: ignore[arg-type]
        for text_field in TEXT_FIELDS:
            if text_field in present:
                fields[text_field] = check.text(text_field)[: MAX_LENGTHS[text_field]]
        if not check.clean:
            continue
        power = PlannedPower(row=row.number, name=name, item=item, fields=fields, positions=positions)
        if item is not None:
            power.changed = _changes(item, fields, positions)
        planned.append(power)
    if not read.rows:
        problems.append(Problem(None, "", _("The file has no powers below its header."), _("one row per power")))
    return planned, problems


def can_import_powers(user, institution: Institution) -> bool:
    """The whole inventory at once: the discipline office of the institution (a department head
    changes their department's powers on the pages)."""
    return access.can_manage_powers(user, institution)


def power_import_check(*, by, institution: Institution, data: bytes, sheet: str = "") -> PowerImportResult:
    """Read and check a file; write nothing."""
    access.require(can_import_powers(by, institution))
    try:
        read = read_rows(data, sheet=sheet, layout=LAYOUT)
    except ImportRefused as refused:
        return PowerImportResult(problems=[refused.problem], sheets=refused.sheets)
    planned, problems = check_power_rows(read, institution=institution)
    return PowerImportResult(planned=planned, problems=problems, sheet=read.sheet, sheets=read.sheets)


@transaction.atomic
def power_import(
    *, by, institution: Institution, data: bytes, filename: str = "", sheet: str = ""
) -> PowerImportResult:
    """Import the whole file or nothing, through the services of the inventory pages. The
    institution row is locked, so two imports of one file cannot both create its powers."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    result = power_import_check(by=by, institution=institution, data=data, sheet=sheet)
    if not result.ok:
        return result
    for power in result.planned:
        fields = dict(power.fields)
        try:
            if power.item is None:
                positions_services.power_item_create(
                    institution=institution,
                    name=power.name,
                    positions=power.positions or [],
                    by=by,
                    **fields,  # type: ignore[arg-type]
                )
                result.created += 1
            elif power.changed:
                register_services.power_item_update(item=power.item, positions=power.positions, by=by, **fields)
                result.updated += 1
        except ValidationError as error:  # what the services refuse, after the checks: nothing is written
            transaction.set_rollback(True)
            result.problems.append(Problem(power.row, COLUMN_NAMES["name"], " ".join(error.messages)))
            return result
    audit_record(
        actor=by,
        action="power_item.import",
        target=institution,
        institution=institution,
        summary=_("Power inventory imported from %(file)s: %(created)d new, %(updated)d changed")
        % {"file": filename or "-", "created": result.created, "updated": result.updated},
        changes={
            "created": result.created,
            "updated": result.updated,
            "file": filename,
            "sheet": result.sheet,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    return result


# --- the template ---------------------------------------------------------------------------


def power_import_template(*, institution: Institution) -> bytes:
    """The 职权目录's columns with Chinese headers, a drop-down of the institution's categories
    (data validation over the second sheet's list), and what each column takes."""
    with translation.override(DOCUMENT_LANGUAGE):
        lookups = _Lookups(institution)
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "职权目录"
        thin = Side(style="thin")
        header_style = {
            "font": Font(bold=True),
            "fill": PatternFill("solid", fgColor="DDE4EE"),
            "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
            "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        }
        columns = ["序号", *COLUMN_NAMES.values()]
        widths = [6, 28, 14, 14, 24, 40, 18, 40, 40]
        sheet.append(columns)
        for cell, width in zip(sheet[1], widths, strict=True):
            for name, value in header_style.items():
                setattr(cell, name, value)
            sheet.column_dimensions[cell.column_letter].width = width
        sheet.freeze_panes = "A2"
        values = workbook.create_sheet("可选值")
        values.append(["职权类别", "承办科室", "行使岗位"])
        departments = list(lookups.departments)
        posts = [f"{p.department.name}·{p.title}" for p in lookups.positions]
        for index in range(max(len(lookups.category_names), len(departments), len(posts))):
            values.append(
                [
                    lookups.category_names[index] if index < len(lookups.category_names) else None,
                    departments[index] if index < len(departments) else None,
                    posts[index] if index < len(posts) else None,
                ]
            )
        for letter in "ABC":
            values.column_dimensions[letter].width = 24
        category = DataValidation(
            type="list",
            formula1=f"'可选值'!$A$2:$A${len(lookups.category_names) + 1}",
            allow_blank=False,
            showErrorMessage=True,
            errorTitle="职权类别",
            error="请从本单位的职权类别中选择。",
            promptTitle="职权类别",
            prompt="从下拉列表选择",
            showInputMessage=True,
        )
        department = DataValidation(
            type="list",
            formula1=f"'可选值'!$B$2:$B${max(len(departments), 1) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="承办科室",
            error="请从本单位的科室中选择，或留空。",
        )
        sheet.add_data_validation(category)
        sheet.add_data_validation(department)
        category.add("C2:C1000")
        department.add("D2:D1000")
        notes = workbook.create_sheet("填写说明")
        notes.column_dimensions["A"].width = 18
        notes.column_dimensions["B"].width = 90
        for row in (
            ("列", "说明"),
            (
                "职权名称",
                "必填。与本单位现有职权同名的行更新该职权（变更留痕，相关岗位风险点标记待重新评定）；其余新增。",
            ),
            ("职权类别", "必填，从下拉列表选择：" + "、".join(lookups.category_names)),
            ("承办科室", "可留空（全单位的职权）：" + "、".join(departments)),
            ("行使岗位", "多个岗位用“、”分隔；两个科室有同名岗位时写“科室·岗位”（见“可选值”表）。"),
            ("行使依据", "法律法规、三定方案等条款。"),
            ("责任主体", "承担责任的单位或科室。"),
            ("服务承诺和工作纪律", "办理时限、服务承诺和工作纪律。"),
            ("裁量权基准", "有裁量权的职权：裁量等级及其适用规则。"),
            ("整列留空", "文件中没有的列不作修改；有该列但单元格为空，则清空该项。"),
        ):
            notes.append(list(row))
        for cell in notes[1]:
            cell.font = Font(bold=True)
        buffer = io.BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()
