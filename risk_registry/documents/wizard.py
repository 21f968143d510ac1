"""The mapping import: a register in the institution's own layout, read as the user sees it.

Built on the guarded reader of ``importer`` (``read_grid``: visible sheet only, hidden rows
refused, bounded sizes, merged cells filled down): this module never opens a workbook itself.
It adds what the fixed 一览表 import cannot do:

1. **the header row**: detected (the row of the first ten with the most known headers) or picked;
   the rows above it (titles) and the signature lines below the table are not data;
2. **columns**: each column of the file maps to a field of the import, to ``note`` (kept on the
   point's notes as ``header：value``) or to ``ignore``; suggestions come from ``SYNONYMS`` (the
   headers of published registers) and from the mapping the institution used last time;
3. **values**: the file's level words map to the scheme's levels (ranks and colours shown, an
   order the words themselves state — 高 > 中 > 低 — may not be inverted), risk types and ways of
   finding likewise; unknown departments, positions and power items are created or matched;
4. **levels decided directly** (直接定级): a level with no likelihood and severity columns is kept
   as such (``graded_directly``), never with invented numbers; a file with no level column gets
   the level the user chooses for it, and its points are flagged for grading;
5. **measures**: a cell of numbered or line-separated measures is one control each, the line of
   defence from a prefix (前期/中期/后期…), a column, or the user's choice.

``plan`` checks every row and lists every problem (row, column, what, expected) and writes
nothing; ``services.register_import_mapped`` writes the plan in one transaction.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.utils.cell import get_column_letter

from positions.models import Position, PowerCategory, PowerItem
from risk_registry.documents.importer import (
    CONTROL_VALUES,
    FOUND_BY_WORDS,
    HEADER_SEARCH_ROWS,
    LINE_BY_PREFIX,
    LINE_PREFIX,
    LINES,
    ControlValues,
    Grid,
    PlannedControl,
    Problem,
    _normalise_header,
    _scale_value,
    _text,
)
from risk_registry.models import FoundBy, RiskPoint, RiskPointState
from risk_registry.organisation.models import Department, GradeLevel, Institution, RiskType
from risk_registry.organisation.selectors import risk_types_for, vocabulary_for
from risk_registry.organisation.text import bidi_controls_in, strip_controls

_Named = TypeVar("_Named", Department, Position)
NOTE, IGNORE = "note", "ignore"
# The fields a column may map to, in the order the wizard offers them.
TARGETS: dict[str, Any] = {
    "department": gettext_lazy("Department (单位/科室)"),
    "position": gettext_lazy("Position"),
    "power_item": gettext_lazy("Power item (职权内容)"),
    "description": gettext_lazy("Risk description"),
    "manifestation": gettext_lazy("Manifestation"),
    "risk_type": gettext_lazy("Risk type"),
    "found_by": gettext_lazy("How found"),
    "likelihood": gettext_lazy("Likelihood"),
    "severity": gettext_lazy("Severity"),
    "level": gettext_lazy("Level"),
    "measures": gettext_lazy("Measures (one cell, numbered or one per line)"),
    "prevention": gettext_lazy("Measures: prevention (前期预防)"),
    "monitoring": gettext_lazy("Measures: monitoring (中期监控)"),
    "disposition": gettext_lazy("Measures: disposition (后期处置)"),
    "line": gettext_lazy("Line of defence of the measures (前期/中期/后期)"),
    "owner": gettext_lazy("Person responsible (control owner)"),
    "frequency": gettext_lazy("Frequency of checks (检查频次)"),
    "evidence": gettext_lazy("Records kept (留存资料)"),
    "rule": gettext_lazy("Rule relied on (依据制度)"),
    "head": gettext_lazy("Department head in charge"),
    "leader": gettext_lazy("Supervising leader"),
    "serial": gettext_lazy("Serial number (not imported)"),
    NOTE: gettext_lazy("Keep as a note on the point"),
    IGNORE: gettext_lazy("Ignore (the column is empty or repeats another)"),
}
# Published registers' headers (normalised: no spaces, no bracketed note) → field.
SYNONYMS = {
    "序号": "serial",
    "编号": "serial",
    "单位": "department",
    "科室": "department",
    "单位/科室": "department",
    "单位科室": "department",
    "部门": "department",
    "股室": "department",
    "部门/科室": "department",
    "责任主体": "department",
    "责任单位": "department",
    "责任部门": "department",
    "岗位类别": "department",
    "岗位": "position",
    "岗位名称": "position",
    "职权内容": "power_item",
    "职权事项": "power_item",
    "权力事项": "power_item",
    "风险点": "description",
    "风险名称": "description",
    "风险点描述": "description",
    "风险点名称": "description",
    "风险描述": "manifestation",
    "表现形式": "manifestation",
    "风险表现形式": "manifestation",
    "风险表现": "manifestation",
    "风险类别": "risk_type",
    "风险类型": "risk_type",
    "查找方式": "found_by",
    "发生概率": "likelihood",
    "危害程度": "severity",
    "风险等级": "level",
    "等级": "level",
    "防控措施": "measures",
    "防范措施": "measures",
    "前期预防": "prevention",
    "中期监控": "monitoring",
    "后期处置": "disposition",
    "前期/中期/后期": "line",
    "防控阶段": "line",
    "阶段": "line",
    "责任人": "owner",
    "检查频次": "frequency",
    "监督频次": "frequency",
    "留存资料": "evidence",
    "佐证资料": "evidence",
    "依据制度": "rule",
    "制度依据": "rule",
    "部门负责人": "head",
    "责任领导": "leader",
    "分管领导": "leader",
    "监测指标": NOTE,
    "备注": NOTE,
}
SINGLE: tuple[str, ...] = ("department", "position", "power_item", "description", "manifestation", "risk_type")
SINGLE += ("found_by", "likelihood", "severity", "level", "line", "owner", "head", "leader")
SINGLE += ("frequency", "evidence", "rule")
LINE_WORDS = {"前期预防": "prevention", "中期监控": "monitoring", "后期处置": "disposition"}
LINE_WORDS |= {name[:2]: line for name, line in LINE_WORDS.items()}
LINE_LABELS = {"prevention": "前期预防", "monitoring": "中期监控", "disposition": "后期处置"}
# Word families whose order the words themselves state, most serious first: a mapping may not invert it.
LEVEL_ORDERS: tuple[tuple[str, ...], ...] = (("高", "中", "低"), ("高风险", "中风险", "低风险"))
LEVEL_ORDERS += (("红", "橙", "黄", "蓝"), ("A", "B", "C"))
LEVEL_ORDERS += (("A级", "B级", "C级"), ("高危", "严重", "中等", "低危"))
# A measure's number: 1. 1、 1） (1) （一） ① … at the start of a line or after the end of the one before.
NUMBERING = re.compile(
    r"(?:^|(?<=[。；;！!\s]))\s*(?:\d{1,2}\s*[.、．)）]|[（(]\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[)）]|"
    r"[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]|[一二三四五六七八九十]{1,3}、)"
)
# The product's own blocks too (issue 15): 部门负责人签字/意见, 本人签字, 监控责任(人签字), 备案版本.
SIGNATURE = re.compile(
    r"^\s*(填表人|填报人|审核人|负责人|主要领导|单位盖章|盖章|日期|填表日期|制表|签字|部门负责人|本人签字|监控责任|备案版本)"
)
STATES = {
    RiskPointState.DRAFT: gettext_lazy("Drafts, for the holders and department heads to review"),
    RiskPointState.SUBMITTED: gettext_lazy("Submitted, for the department review (the office sees them at once)"),
    RiskPointState.ISSUED: gettext_lazy("Last year's register as filed (issued), to start the cycle from"),
}


# --- steps 1 and 2: header and columns -------------------------------------------------------


def detect_header(cells: list[list]) -> int:
    """The index of the header row: of the first ten rows, the one naming the most known fields
    (two at least; a group header merged over several columns names one, so a two-row header is
    read on its second row, 前期预防/中期监控/后期处置 under 防控措施); else the first row with three
    or more filled cells."""
    best, best_count = None, 1
    for index, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        count = len({SYNONYMS[key] for value in row if (key := _normalise_header(value)) in SYNONYMS})
        if count > best_count:
            best, best_count = index, count
    if best is not None:
        return best
    return next((i for i, row in enumerate(cells[:HEADER_SEARCH_ROWS]) if sum(bool(_text(v)) for v in row) >= 3), 0)


def headers(cells: list[list], header_row: int) -> list[str]:
    """The header text of each column (a letter when empty)."""
    row = cells[header_row] if header_row < len(cells) else []
    width = max((len(r) for r in cells), default=0)
    return [_text(row[i]) if i < len(row) and _text(row[i]) else _column_letter(i) for i in range(width)]


def _column_letter(index: int) -> str:
    return get_column_letter(index + 1)


def suggest_columns(names: list[str], remembered: Mapping[str, str]) -> list[str]:
    """A target per column: what the institution chose last time, else the synonym table, else a
    note (nothing is dropped unless the user says so). A field already taken becomes a note."""
    taken: set[str] = set()
    targets = []
    for name in names:
        key = _normalise_header(name)
        target = remembered.get(key) or SYNONYMS.get(key) or NOTE
        if target in SINGLE and target in taken:
            target = NOTE
        taken.add(target)
        targets.append(target if target in TARGETS else NOTE)
    return targets


def recognised(names: list[str]) -> list[str]:
    return [name for name in names if _normalise_header(name) in SYNONYMS]


def data_rows(cells: list[list], header_row: int) -> list[tuple[int, list]]:
    """(Excel row number, values) below the header: empty rows and signature lines left out."""
    rows = []
    for index in range(header_row + 1, len(cells)):
        values = cells[index]
        filled = [_text(v) for v in values if _text(v)]
        if not filled:
            continue
        if len(set(filled)) == 1 and SIGNATURE.match(filled[0]):
            continue  # a signature line (merged across the table, so every cell holds the same text)
        if SIGNATURE.match(filled[0]) and len(filled) <= 3:
            continue
        if _normalise_header(filled[0]) in SYNONYMS and len(filled) > 2:
            continue  # a header repeated on a later page
        rows.append((index + 1, values))
    return rows


# --- step 3: values --------------------------------------------------------------------------


@dataclass
class Context:
    """What the institution offers, loaded once (a fixed number of queries)."""

    institution: Institution
    levels: list[GradeLevel]
    risk_types: list[RiskType]
    departments: dict[str, Department]
    positions: dict[tuple[int, str], Position]
    power_items: dict[str, PowerItem]
    control_values: ControlValues

    @classmethod
    def load(cls, institution: Institution) -> Context:
        scheme_id = institution.grading_scheme_id
        return cls(
            institution=institution,
            levels=list(GradeLevel.objects.filter(scheme_id=scheme_id).order_by("rank")) if scheme_id else [],
            risk_types=list(risk_types_for(institution)),
            departments={d.name: d for d in Department.objects.filter(institution=institution)},
            positions={
                (p.department_id, p.title): p for p in Position.objects.filter(institution=institution).order_by("id")
            },
            power_items={p.name: p for p in PowerItem.objects.filter(institution=institution).order_by("id")},
            control_values=ControlValues(institution),
        )

    def level(self, code: str) -> GradeLevel | None:
        return next((level for level in self.levels if level.code == code), None)

    def risk_type(self, pk: object) -> RiskType | None:
        return next((t for t in self.risk_types if str(t.pk) == str(pk)), None)

    def positions_of(self, department: Department | None) -> dict[str, Position]:
        """The positions of a department by title (none for a department still to be created)."""
        if department is None:
            return {}
        return {title: p for (department_id, title), p in self.positions.items() if department_id == department.pk}

    def department_of(self, word: str, mapping: Mapping[str, Any]) -> Department | None:
        """The existing department a word of the file stands for (the same name or the one matched)."""
        chosen = str(mapping.get("departments", {}).get(word, ""))
        return match_name(word, chosen, self.departments, create=False)[0]


def column_values(rows: list[tuple[int, list]], targets: list[str], target: str) -> list[str]:
    """The distinct words of the column(s) mapped to ``target``, in the order of the file."""
    indexes = [i for i, t in enumerate(targets) if t == target]
    seen: dict[str, None] = {}
    for _number, values in rows:
        for i in indexes:
            text = strip_controls(_text(values[i] if i < len(values) else None))
            if text:
                seen.setdefault(text, None)
    return list(seen)


def suggest_level(word: str, levels: list[GradeLevel], remembered: Mapping[str, str]) -> str:
    """A level code for a word of the file: remembered, the same name or code, or by the word's
    place in a known order (高 of 高/中/低 is the most serious level, whatever its name)."""
    if word in remembered and any(level.code == remembered[word] for level in levels):
        return remembered[word]
    same = next((level for level in levels if word in (level.name, level.code)), None)
    if same is not None:
        return same.code
    for order in LEVEL_ORDERS:
        if word in order and levels:
            place = order.index(word)
            # spread the family over the scheme's ranks: first → most serious, last → least
            index = round(place * (len(levels) - 1) / max(len(order) - 1, 1))
            return levels[index].code
    return ""


def inverted(level_map: Mapping[str, str], levels: list[GradeLevel]) -> list[tuple[str, str]]:
    """Pairs of words whose mapping inverts the order the words state (高 mapped to a less serious
    level than 低)."""
    rank = {level.code: level.rank for level in levels}
    pairs = []
    for order in LEVEL_ORDERS:
        words = [w for w in order if level_map.get(w) in rank]
        for i, higher in enumerate(words):
            for lower in words[i + 1 :]:
                if rank[level_map[higher]] > rank[level_map[lower]]:
                    pairs.append((higher, lower))
    return pairs


def match_name(word: str, chosen: str, existing: Mapping[str, _Named], *, create: bool) -> tuple[_Named | None, bool]:
    """How a name of the file resolves against the names the institution has (its departments, or
    one department's positions): the same name; else the one the user matched it to in the values
    step (by id, the near name offered first); else created (``chosen`` is "new", or every unknown
    name with ``create``). ``(None, False)``: unknown and not to be created, the row is refused."""
    if word in existing:
        return existing[word], False
    matched = next((item for item in existing.values() if str(item.pk) == chosen), None)
    if matched is not None:
        return matched, False
    return None, chosen == "new" or (not chosen and create)


def unknown_names(words: Iterable[tuple[int, str, str]], existing: Mapping[str, _Named], chosen: Mapping[str, str]):
    """The values step's offer for the names of the file not in ``existing``, from ``words`` as
    (index in the POST, key in the mapping, name): (index, label, current choice, the near existing
    name, the existing ones it may be matched to as (name, object))."""
    options = list(existing.items())
    return [
        (i, key.replace("|", "·"), str(chosen.get(key, "new")), near_name(word, existing), options)
        for i, key, word in words
        if word not in existing
    ]


def near_name(name: str, names: Iterable[str]) -> str:
    """An existing name the user may mean: one containing the other, or a close spelling."""
    names = list(names)
    for other in names:
        if other and (other in name or name in other):
            return other
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return close[0] if close else ""


def suggest_found_by(word: str, remembered: Mapping[str, str]) -> str:
    if word in remembered:
        return remembered[word]
    labels = {str(label): value for value, label in FoundBy.choices}
    return FOUND_BY_WORDS.get(word) or labels.get(word) or (word if word in FoundBy.values else "")


def suggest_risk_type(word: str, types: list[RiskType], remembered: Mapping[str, str]) -> str:
    if word in remembered:
        return remembered[word]
    found = next((t for t in types if word in (t.name, t.code)), None)
    if found is None:
        found = next((t for t in types if t.name in word or word in t.name), None)
    return str(found.pk) if found else ""


def found_values(grid: Grid, mapping: Mapping[str, Any]) -> dict[str, list[str]]:
    """The words of the file the values step maps, in the order of the file (recomputed from the
    file on every request: the wizard's POST names them by index)."""
    rows = data_rows(grid.cells, int(mapping.get("header_row", 0)))
    columns = list(mapping.get("columns", []))
    found = {kind: column_values(rows, columns, kind) for kind in ("level", "risk_type", "found_by", "department")}
    positions: list[str] = []
    if "position" in columns and "department" in columns:
        d, p = columns.index("department"), columns.index("position")
        for _number, values in rows:
            cells = [_text(values[i]) if i < len(values) else "" for i in (d, p)]
            key = f"{cells[0]}|{cells[1]}"
            if all(cells) and key not in positions:
                positions.append(key)
    found["position"] = positions
    return found


def suggest_values(grid: Grid, mapping: dict[str, Any], context: Context, remembered: Mapping[str, Any]) -> None:
    """Fill the values part of ``mapping`` with suggestions (kept where it already says something):
    level words by name and order, risk types and ways of finding by name, unknown departments and
    positions to be created."""
    found = found_values(grid, mapping)
    given = {kind: dict(mapping.get(kind) or {}) for kind in ("levels", "risk_types", "found_by")}
    mapping["levels"] = {
        w: given["levels"].get(w) or suggest_level(w, context.levels, remembered.get("levels", {}))
        for w in found["level"]
    }
    mapping["risk_types"] = {
        w: given["risk_types"].get(w) or suggest_risk_type(w, context.risk_types, remembered.get("risk_types", {}))
        for w in found["risk_type"]
    }
    mapping["found_by"] = {
        w: given["found_by"].get(w) or suggest_found_by(w, remembered.get("found_by", {})) for w in found["found_by"]
    }
    departments = dict(mapping.get("departments") or {})
    mapping["departments"] = {w: departments.get(w, "new") for w in found["department"] if w not in context.departments}
    positions = dict(mapping.get("positions") or {})
    mapping["positions"] = {
        key: positions.get(key, "new")
        for key in found["position"]
        if key.split("|", 1)[1] not in context.positions_of(context.department_of(key.split("|", 1)[0], mapping))
    }
    mapping.setdefault("default_line", "prevention")
    mapping.setdefault("state", RiskPointState.DRAFT.value)


# --- the plan --------------------------------------------------------------------------------


@dataclass
class Plan:
    """One row of the file as it will be written (objects ``None`` + a name: to be created)."""

    row: int
    order: int
    department: Department | None
    department_name: str
    position: Position | None
    position_title: str
    power_item: PowerItem | None
    power_name: str
    description: str
    manifestation: str
    risk_type: RiskType
    found_by: str
    likelihood: int | None
    severity: int | None
    level: GradeLevel
    graded_directly: bool
    needs_grading: bool
    notes: str
    head: str
    leader: str
    controls: list[PlannedControl] = field(default_factory=list)


@dataclass
class PlanResult:
    points: list[Plan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    new_departments: list[str] = field(default_factory=list)
    new_positions: list[str] = field(default_factory=list)
    new_power_items: list[str] = field(default_factory=list)
    category: PowerCategory | None = None


FIRST_NUMBER = re.compile(r"^\s*(?:(\d{1,2})\s*[.、．)）]|[（(]\s*(\d{1,2})\s*[)）])")


CHINESE_NUMERALS = "一二三四五六七八九十"
CHINESE_FIRST = re.compile(r"^\s*[（(]\s*([一二三四五六七八九十])\s*[)）]")


def _numbered_in_sequence(line: str) -> list[int]:
    """Where "1." "2." "3." (or "(1)" "(2)" …) begin in a line that starts with one, even right
    after a character ("…登记制度2.主动报告"): the next number of the sequence, same mark."""
    chinese = CHINESE_FIRST.match(line)
    if chinese:  # （一）…（二）…
        starts, position = [chinese.start()], chinese.end()
        for numeral in CHINESE_NUMERALS[CHINESE_NUMERALS.index(chinese.group(1)) + 1 :]:
            found = re.compile(rf"[（(]\s*{numeral}\s*[)）]").search(line, position)
            if found is None:
                break
            starts.append(found.start())
            position = found.end()
        return starts
    first = FIRST_NUMBER.match(line)
    if not first:
        return []
    number = int(first.group(1) or first.group(2))
    bracketed = first.group(2) is not None
    mark = "" if bracketed else first.group(0).strip()[len(first.group(1)) :].strip()
    starts, position = [first.start(1) if not bracketed else first.end() - len(first.group(0).lstrip())], first.end()
    while True:
        pattern = rf"[（(]\s*{number + 1}\s*[)）]" if bracketed else rf"(?<!\d){number + 1}\s*{re.escape(mark)}"
        found = re.compile(pattern).search(line, position)
        if found is None:
            return starts
        starts.append(found.start())
        number, position = number + 1, found.end()


def split_measures(text: str, default_line: str) -> list[tuple[str, str]]:
    """One cell of measures → (line of defence, measure) each: numbered items (1. 1、 (1) ① 一、)
    or one per line; a prefix 前期预防：/前期： sets the line for itself and the items below it."""
    items: list[str] = []
    for line in text.splitlines():
        starts = _numbered_in_sequence(line) or [m.start() for m in NUMBERING.finditer(line)]
        if not starts or starts[0] != len(line) - len(line.lstrip()):
            starts = [0, *starts]
        bounds = [*starts, len(line)]
        items += [line[a:b] for a, b in itertools.pairwise(bounds)]
    measures = []
    current = default_line
    for item in items:
        item = NUMBERING.sub("", item, count=1).strip() if NUMBERING.match(item) else item.strip()
        prefix = LINE_PREFIX.match(item)
        if prefix:
            current = LINE_BY_PREFIX[prefix.group(1) or prefix.group(2)]
            item = item[prefix.end() :].strip()
            item = NUMBERING.sub("", item, count=1).strip() if NUMBERING.match(item) else item
        item = item.rstrip("；;，,")
        if item:
            measures.append((current, item))
    return measures


class _Row:
    """One data row resolved through the mapping; problems recorded by row and column."""

    def __init__(self, number: int, values: list, names: list[str], targets: list[str], problems: list[Problem]):
        self.number, self.values, self.names, self.targets, self.problems = number, values, names, targets, problems
        self.before = len(problems)

    def cell(self, index: int) -> str:
        return strip_controls(_text(self.values[index] if index < len(self.values) else None))

    def get(self, target: str) -> str:
        index = self.index(target)
        return self.cell(index) if index is not None else ""

    def index(self, target: str) -> int | None:
        return next((i for i, t in enumerate(self.targets) if t == target), None)

    def column(self, target: str) -> str:
        index = self.index(target)
        return self.names[index] if index is not None else str(TARGETS.get(target, target))

    def problem(self, target: str, message: str, expected: str = "") -> None:
        self.problems.append(Problem(self.number, self.column(target), message, expected))

    @property
    def clean(self) -> bool:
        return len(self.problems) == self.before


def plan(grid: Grid, mapping: Mapping[str, Any], *, institution: Institution, year: int) -> PlanResult:
    """Check every row of ``grid`` through ``mapping`` (see ``views`` for its keys); write nothing."""
    context = Context.load(institution)
    result = PlanResult()
    if not context.levels:
        result.problems.append(
            Problem(None, "", _("%(institution)s has no grading scheme yet.") % {"institution": institution.name})
        )
        return result
    header_row = int(mapping.get("header_row", 0))
    names = headers(grid.cells, header_row)
    targets = list(mapping.get("columns", []))[: len(names)]
    targets += [NOTE] * (len(names) - len(targets))
    _refuse_columns(targets, mapping, context, result)
    if result.problems:
        return result
    category = vocabulary_for(model=PowerCategory, institution=institution).order_by("id").first()
    result.category = category
    existing = set(
        RiskPoint.objects.filter(institution=institution, year=year).values_list(
            "department__name", "position__title", "description"
        )
    )
    seen: dict[tuple, int] = {}
    rows = data_rows(grid.cells, header_row)
    for order, (number, values) in enumerate(rows, start=1):
        row = _Row(number, values, names, targets, result.problems)
        point = _plan_row(row, order, mapping, context, result)
        if point is None:
            continue
        key = (point.department_name, point.position_title or None, point.description)
        if key in seen:
            row.problem("description", _("Duplicate of row %(row)d.") % {"row": seen[key]}, _("each risk point once"))
        elif key in existing:
            row.problem(
                "description",
                _("This risk point is already in the %(year)d register.") % {"year": year},
                _("only points not yet in the register"),
            )
        else:
            seen[key] = number
            result.points.append(point)
    if not rows:
        result.problems.append(
            Problem(None, "", _("The file has no risk points below its header."), _("one row per point"))
        )
    if result.new_power_items and category is None:
        result.problems.append(Problem(None, "", _("No power category to file new power items under.")))
    return result


def _refuse_columns(targets: list[str], mapping: Mapping[str, Any], context: Context, result: PlanResult) -> None:
    """The file as a whole: a department and a description column, each field once, a level
    given somehow, an order of level words not inverted."""
    for target in ("department", "description"):
        if target not in targets:
            result.problems.append(
                Problem(
                    None,
                    "",
                    _("No column is mapped to “%(field)s”.") % {"field": TARGETS[target]},
                    _("map one column of the file to it"),
                )
            )
    for target in SINGLE:
        if targets.count(target) > 1:
            result.problems.append(
                Problem(None, "", _("Several columns are mapped to “%(field)s”.") % {"field": TARGETS[target]})
            )
    if ("likelihood" in targets) != ("severity" in targets):
        result.problems.append(
            Problem(None, "", _("Map both likelihood and severity, or neither (the level is then decided directly)."))
        )
    if "risk_type" not in targets and context.risk_type(mapping.get("default_risk_type")) is None:
        result.problems.append(
            Problem(None, "", _("Choose the risk type of the points (the file has no risk type column)."))
        )
    has_grade = "level" in targets or "likelihood" in targets
    if not has_grade and context.level(mapping.get("default_level", "")) is None:
        result.problems.append(Problem(None, "", _("Choose the level of the points (the file has no level column).")))
    for higher, lower in inverted(mapping.get("levels", {}), context.levels):
        level_map = mapping["levels"]
        high, low = context.level(level_map[higher]), context.level(level_map[lower])
        result.problems.append(
            Problem(
                None,
                str(TARGETS["level"]),
                _(
                    "The level words are inverted: “%(higher)s” is mapped to %(high)s (rank %(high_rank)d) but "
                    "“%(lower)s” to the more serious %(low)s (rank %(low_rank)d)."
                )
                % {
                    "higher": higher,
                    "lower": lower,
                    "high": high.name if high else "",
                    "low": low.name if low else "",
                    "high_rank": high.rank if high else 0,
                    "low_rank": low.rank if low else 0,
                },
                _("the more serious word on the more serious level (rank 1 is the most serious)"),
            )
        )


def _plan_row(row: _Row, order: int, mapping: Mapping[str, Any], context: Context, result: PlanResult) -> Plan | None:
    for index, target in enumerate(row.targets):
        text = row.cell(index)
        if target != IGNORE and (found := bidi_controls_in(text)):
            row.problem(
                target,
                _("The text holds invisible direction-control characters (%(chars)s).") % {"chars": "、".join(found)},
                _("the same text without them"),
            )
    department, department_name = _department(row, mapping, context, result)
    position, position_title = _position(row, mapping, context, result, department, department_name)
    description = row.get("description")
    if not description:
        row.problem("description", _("The risk description is empty."), _("what could go wrong, in words"))
    risk_type = _risk_type(row, mapping, context)
    found_by = _found_by(row, mapping)
    likelihood, severity, level, directly, needs = _grade(row, mapping, context)
    power_item, power_name = _power_item(row, context, result)
    controls = _controls(row, mapping, context)
    kept = [(row.names[i], row.cell(i)) for i, t in enumerate(row.targets) if t == NOTE and row.cell(i)]
    if not controls:  # a person responsible (a frequency …) with no measure to own: kept, not dropped
        kept += [(row.column(name), row.get(name)) for name in CONTROL_VALUES if row.get(name)]
    notes = "\n".join(f"{name}：{text}" for name, text in kept)
    if not row.clean or risk_type is None or level is None or found_by is None:
        return None
    return Plan(
        row=row.number,
        order=order,
        department=department,
        department_name=department_name,
        position=position,
        position_title=position_title,
        power_item=power_item,
        power_name=power_name,
        description=description,
        manifestation=row.get("manifestation"),
        risk_type=risk_type,
        found_by=found_by,
        likelihood=likelihood,
        severity=severity,
        level=level,
        graded_directly=directly,
        needs_grading=needs,
        notes=notes,
        head=row.get("head")[:100],
        leader=row.get("leader")[:100],
        controls=controls,
    )


def _department(row: _Row, mapping, context: Context, result: PlanResult) -> tuple[Department | None, str]:
    word = row.get("department")
    if not word:
        row.problem("department", _("The department is empty."), _("the unit or office of the point"))
        return None, ""
    chosen = str(mapping.get("departments", {}).get(word, ""))
    department, create = match_name(word, chosen, context.departments, create=bool(mapping.get("create_unknown")))
    if department is not None:
        return department, department.name
    if create:
        if word not in result.new_departments:
            result.new_departments.append(word)
        return None, word
    row.problem(
        "department",
        _("Unknown department “%(name)s”.") % {"name": word},
        _("create it or match it to a department in the values step"),
    )
    return None, word


def _position(row: _Row, mapping, context: Context, result: PlanResult, department, department_name: str):
    title = row.get("position")
    if not title or not department_name:
        return None, ""
    chosen = str(mapping.get("positions", {}).get(f"{row.get('department')}|{title}", ""))
    existing = context.positions_of(department)
    position, create = match_name(title, chosen, existing, create=bool(mapping.get("create_unknown")))
    if position is not None:
        return position, position.title
    if create:
        label = f"{department_name}·{title}"
        if label not in result.new_positions:
            result.new_positions.append(label)
        return None, title
    row.problem(
        "position",
        _("Unknown position “%(name)s” in %(department)s.") % {"name": title, "department": department_name},
        _("create it or match it to a position of the department in the values step"),
    )
    return None, title


def _risk_type(row: _Row, mapping, context: Context) -> RiskType | None:
    word = row.get("risk_type")
    if not word:
        risk_type = context.risk_type(mapping.get("default_risk_type"))
        if risk_type is None:
            row.problem("risk_type", _("The risk type is empty."), "、".join(t.name for t in context.risk_types))
        return risk_type
    risk_type = context.risk_type(mapping.get("risk_types", {}).get(word))
    if risk_type is None:
        row.problem(
            "risk_type",
            _("Unknown risk type “%(name)s”.") % {"name": word},
            _("map it to a risk type in the values step"),
        )
    return risk_type


def _found_by(row: _Row, mapping) -> str | None:
    word = row.get("found_by")
    if not word:
        return mapping.get("default_found_by") or FoundBy.UNRECORDED
    found_by = mapping.get("found_by", {}).get(word) or suggest_found_by(word, {})
    if found_by not in FoundBy.values:
        row.problem(
            "found_by",
            _("Unknown way of finding “%(name)s”.") % {"name": word},
            "、".join([*FOUND_BY_WORDS, *(str(label) for _value, label in FoundBy.choices)]),
        )
        return None
    return found_by


def _grade(row: _Row, mapping, context: Context):
    """(likelihood, severity, level, graded directly, needs grading): by the matrix when the file
    has likelihood and severity, else the level decided directly, else the level chosen for the file."""
    scheme = context.institution.grading_scheme
    word = row.get("level")
    stated = context.level(mapping.get("levels", {}).get(word, "")) if word else None
    if word and stated is None:
        row.problem("level", _("Unknown level “%(name)s”.") % {"name": word}, _("map it to a level in the values step"))
    if "likelihood" in row.targets and scheme is not None:
        likelihood = _scale_value(row.get("likelihood"), list(scheme.likelihood_labels))
        severity = _scale_value(row.get("severity"), list(scheme.severity_labels))
        if likelihood is None:
            row.problem("likelihood", _("Bad likelihood “%(value)s”.") % {"value": row.get("likelihood")})
        if severity is None:
            row.problem("severity", _("Bad severity “%(value)s”.") % {"value": row.get("severity")})
        if likelihood is None or severity is None:
            return None, None, None, False, False
        level = context.level(scheme.level_code_for(likelihood, severity))
        if stated is not None and level is not None and stated.pk != level.pk:
            row.problem(
                "level",
                _("The level “%(name)s” does not match the likelihood and severity.") % {"name": word},
                _("%(level)s (the grading scheme's level for them), or empty") % {"level": level.name},
            )
        return likelihood, severity, level, False, False
    if word:
        return None, None, stated, True, False
    default = context.level(mapping.get("default_level", ""))
    if default is None and "level" in row.targets:
        row.problem("level", _("The level is empty."), _("a level, or choose one for rows without it"))
    return None, None, default, True, True


def _power_item(row: _Row, context: Context, result: PlanResult) -> tuple[PowerItem | None, str]:
    name = row.get("power_item")[: PowerItem._meta.get_field("name").max_length]
    if not name:
        return None, ""
    if name in context.power_items:
        return context.power_items[name], name
    if name not in result.new_power_items:
        result.new_power_items.append(name)
    return None, name


def _controls(row: _Row, mapping, context: Context) -> list[PlannedControl]:
    """The row's measures, each with its owner, frequency, evidence and rule (one value for all, or
    one line per measure: ``importer.ControlValues``)."""
    line_word = row.get("line")
    line = mapping.get("lines", {}).get(line_word) or LINE_WORDS.get(line_word) or mapping.get("default_line")
    if line_word and line not in LINES:
        row.problem("line", _("Unknown line of defence “%(name)s”.") % {"name": line_word}, "前期、中期、后期")
    line = line if line in LINES else "prevention"
    measures = split_measures(row.get("measures"), line)
    for target in LINES:
        measures += split_measures(row.get(target), target)
    if any(len(measure) > 2000 for _line, measure in measures):
        row.problem("measures", _("A measure is longer than 2,000 characters."), _("shorter measures"))
    if not measures:
        return []
    return context.control_values.read({name: row.get(name) for name in CONTROL_VALUES}, measures, row.problem)
