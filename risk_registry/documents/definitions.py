"""The official forms: their titles, columns (with merged group headers) and how a point fills them.

The seeds name the forms (seed 002 附件3-5: 单位/部门/个人廉政风险点和防范措施登记表; seed 000
篇1: 廉政风险点排查及防控措施一览表; 篇2: 个人/部门廉政风险查找表 and 识别防控表) but do not
reproduce their columns, so the columns here follow what those texts ask each form to record.
Titles and headers are official form text and stay in Chinese whatever the user's language.

A form is rendered from point rows in the shape of ``risk_registry.workflow.snapshots.point_row``; the
``sections`` of a form split the rows into one table per department or per position (the 部门
and 个人 forms are filed one per department or per post holder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from itertools import groupby

from django.utils.translation import get_language

from controls.models import LINE_ORDER, Control, in_line_order
from risk_registry.models import FoundBy, RiskPointState

LINES = LINE_ORDER
NOT_RECORDED = "未记录"  # what a filed document prints where an old snapshot did not record a value
WORKING_MARK = "工作稿"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float  # Excel character units (one CJK character ≈ 2)
    value: Callable[[dict], object]
    group: str = ""  # a merged header above this and the neighbouring columns of the same group
    level: bool = False  # coloured with the level's colour
    numeric: bool = False


@dataclass(frozen=True)
class FormSpec:
    code: str
    title: str
    source: str
    columns: tuple[Column, ...]
    section_by: str = ""  # "", "department", "position" or "section" (the row's own ``section`` label)
    positions_only: bool = False  # personal forms list only the points of a position
    # Who signs: "unit" (主要领导签字、单位盖章、日期 under the whole document), or per section:
    # "department" (部门负责人签字), "personal" (监控责任, 本人签字, 监控责任人签字),
    # "opinion-head" (部门负责人意见) or "opinion-leader" (主要领导意见).
    signature: str = "unit"
    legacy: bool = False  # a filed version of snapshot format 1 or 2, printed as it was then

    @property
    def groups(self) -> list[tuple[str, int, int]]:
        """(group header, first column index, last column index) of each merged group header."""
        result = []
        for name, members in groupby(enumerate(self.columns), key=lambda pair: pair[1].group):
            indexed = list(members)
            if name:
                result.append((name, indexed[0][0], indexed[-1][0]))
        return result

    @property
    def has_groups(self) -> bool:
        return any(column.group for column in self.columns)

    def sections(self, rows: Iterable[dict]) -> Iterator[tuple[str, Iterator[dict]]]:
        """Split rows (ordered by department, then position) into (section label, rows)."""
        if self.positions_only:
            rows = (row for row in rows if row.get("position"))
        if not self.section_by:
            yield "", iter(rows)
            return
        if self.section_by == "section":
            key = lambda row: row["section"]  # noqa: E731
        elif self.section_by == "department":
            key = lambda row: f"部门：{row['department']}"  # noqa: E731
        else:
            key = _position_label
        yield from groupby(rows, key=key)

    @property
    def signed_per_section(self) -> bool:
        return self.signature != "unit"


PERSON_MARK = "　姓名："


def _position_label(row: dict) -> str:
    """A post's section: its department and title, and the people holding it when the row says
    (snapshot format 3); a post nobody holds says so."""
    label = f"部门：{row['department']}　岗位：{row['position']}"
    if "holders" in row:
        label += PERSON_MARK + ("、".join(row["holders"]) or "（岗位空缺）")
    return label


DATE_LINE = "日期：　　　年　　月　　日"


def section_signature(form: FormSpec, supervisions: Iterable[str] = ()) -> list[str]:
    """The signature block under each section of a form signed per section, one entry a line:
    the same text in the PDF and in the workbook. ``supervisions`` are the section's points' 监控责任."""
    if form.signature == "department":
        return ["部门负责人签字：", DATE_LINE]
    if form.signature == "personal":
        return [f"监控责任：{_unique(supervisions, '；') or NOT_RECORDED}", "本人签字：", "监控责任人签字：", DATE_LINE]
    if form.signature == "opinion-head":
        return ["部门负责人意见：", "", "签字：", DATE_LINE]
    if form.signature == "opinion-leader":
        return ["主要领导意见：", "", "签字：", DATE_LINE]
    return []


def filed_line(header: DocumentHeader) -> str:
    """The 签署 line of a filed version, the same in the PDF and in the workbook."""
    return (
        f"备案版本 v{header.version}；分级方案：{header.scheme}；签署：{header.signed}；"
        f"内容哈希（SHA-256）：{header.content_hash}"
    )


# --- cell values ----------------------------------------------------------------------------


@cache
def _labels(choices, language: str | None) -> dict[str, str]:
    """A choice's labels in one language, built once: a document asks for one per row."""
    return {value: str(label) for value, label in choices.choices}


def _label(choices, value: str) -> str:
    label = _labels(choices, get_language()).get(value)
    return (value or "") if label is None else label


def measures(line: str) -> Callable[[dict], str]:
    """The measures of one line of defence, one per line (the importer splits them back)."""
    return lambda row: "\n".join(c["measure"] for c in row["controls"] if c["line"] == line)


def _unique(values: Iterable[str], separator: str = "、") -> str:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return separator.join(seen)


NO_VALUE = "—"  # a control without the value, in a column listing one value per control


def per_control(key: str, choices=None) -> Callable[[dict], str]:
    """A column of a value each control has (owner, frequency, evidence, rule; ``choices``: its
    labels): the value once when every control of the point has the same, else one line per
    control in the order the measures are printed (前期预防, 中期监控, 后期处置; ``—`` where a
    control has none), so the import gives each control its own value back. The controls in that
    order are kept on the row (``_in_line``) for the row's other such columns."""

    def cell(row: dict) -> str:
        ordered = row.get("_in_line")
        if ordered is None:
            ordered = row["_in_line"] = in_line_order(row["controls"])
        values = [control[key] for control in ordered]
        if choices is not None:
            labels = _labels(choices, get_language())
            values = [labels.get(v, v or "") for v in values]
        if len(set(values)) <= 1:
            return values[0] if values else ""
        return "\n".join(v or NO_VALUE for v in values)

    return cell


def owners(row: dict) -> str:
    """The owners of a point's controls, each once (how filed versions of format 1 and 2 print them)."""
    return _unique(c["owner"] for c in row["controls"])


def frequencies(row: dict) -> str:
    return _unique(_label(Control.Frequency, c["frequency"]) for c in row["controls"])


def evidence(row: dict) -> str:
    return _unique(c["evidence"] for c in row["controls"])


def rules(row: dict) -> str:
    return _unique(c["rule"] for c in row["controls"])


def all_measures(row: dict) -> str:
    names = {"prevention": "前期预防", "monitoring": "中期监控", "disposition": "后期处置"}
    return "\n".join(f"{names.get(c['line'], c['line'])}：{c['measure']}" for c in in_line_order(row["controls"]))


def level_name(row: dict) -> str:
    return row["level"]["name"]


BAND_LABELS = {"high": "高", "medium": "中", "low": "低"}  # the county-wide band, as documents print it


def band_label(row: dict) -> str:
    return BAND_LABELS.get(row["level"].get("band", ""), "")


def supervision(row: dict) -> str:
    """Who supervises the point's level, as the row (or the filed snapshot) recorded it."""
    level = row["level"]
    return level["supervision"] if "supervision" in level else NOT_RECORDED


def state_label(row: dict) -> str:
    return _label(RiskPointState, row.get("state", ""))


SERIAL = Column("serial", "序号", 6, lambda row: row["_serial"], numeric=True)
DEPARTMENT = Column("department", "部门（科室）", 14, lambda row: row["department"])
POSITION = Column("position", "岗位", 14, lambda row: row["position"])
POWER = Column("power_item", "职权事项", 16, lambda row: row["power_item"])
STEP = Column("process_step", "环节", 10, lambda row: row["process_step"])
DESCRIPTION = Column("description", "风险点描述", 34, lambda row: row["description"])
MANIFESTATION = Column("manifestation", "风险表现形式", 28, lambda row: row["manifestation"])
RISK_TYPE = Column("risk_type", "风险类型", 14, lambda row: row["risk_type"])
FOUND_BY = Column("found_by", "查找方式", 12, lambda row: _label(FoundBy, row["found_by"]))
GRADED_DIRECTLY = "直接定级"  # a level decided directly: no likelihood or severity is printed, none invented


def _scale(name: str):
    """A likelihood or severity: its number with its label (``3（较大）``) when the row carries the
    label (snapshot format 3, live points), else the number; 直接定级 when there is none."""

    def cell(row: dict) -> object:
        if row.get(name) is None:
            return GRADED_DIRECTLY
        label = row.get(f"{name}_label")
        return f"{row[name]}（{label}）" if label else row[name]

    return cell


# The Jiuquan plan's five classes of risk (seed 002, 风险等级评估), from the point's power category.
RISK_CLASSES = (
    ("行政审批类风险", ("审批", "许可", "登记", "核准", "备案")),
    ("行政执法类风险", ("执法", "处罚", "检查", "强制", "征收", "稽查", "监管", "裁决")),
    ("干部队伍管理类风险", ("人事", "干部", "队伍", "人员", "组织")),
    ("财务、资产管理类风险", ("财务", "资金", "资产", "采购", "票据", "经费")),
)
OTHER_RISK_CLASS = "其他类风险"


def risk_class(row: dict) -> str:
    """One of the five classes by the point's power category (其他类风险 without a power item or
    for a category none of the four names); 未记录 where the snapshot did not record it."""
    if "power_category" not in row:
        return NOT_RECORDED
    category = row["power_category"]
    return next((name for name, words in RISK_CLASSES if any(w in category for w in words)), OTHER_RISK_CLASS)


LIKELIHOOD = Column("likelihood", "发生概率", 14, _scale("likelihood"), group="风险评估", numeric=True)
SEVERITY = Column("severity", "危害程度", 14, _scale("severity"), group="风险评估", numeric=True)
LEVEL = Column("level", "风险等级", 10, level_name, group="风险评估", level=True)
LEVEL_ALONE = Column("level", "风险等级", 10, level_name, level=True)
PREVENTION = Column("prevention", "前期预防", 30, measures("prevention"), group="防控措施")
MONITORING = Column("monitoring", "中期监控", 30, measures("monitoring"), group="防控措施")
DISPOSITION = Column("disposition", "后期处置", 30, measures("disposition"), group="防控措施")
OWNER = Column("owner", "责任人", 20, per_control("owner"))
OWNER_BEFORE = Column("owner", "责任人", 12, owners)  # filed versions of format 1 and 2
FREQUENCY = Column("frequency", "检查频次", 12, per_control("frequency", Control.Frequency))
EVIDENCE = Column("evidence", "留存资料", 16, per_control("evidence"))
RULE = Column("rule", "依据制度", 18, per_control("rule"))
RISK_CLASS = Column("risk_class", "风险类别", 14, risk_class)
# The columns as snapshots of format 1 and 2 were printed: each value once, whatever control had it.
COLUMNS_BEFORE = {
    "owner": OWNER_BEFORE,
    "frequency": Column("frequency", "检查频次", 12, frequencies),
    "evidence": Column("evidence", "留存资料", 16, evidence),
    "rule": Column("rule", "依据制度", 18, rules),
    "likelihood": replace(LIKELIHOOD, width=9),
    "severity": replace(SEVERITY, width=9),
}
MEASURES = Column("measures", "防范措施", 46, all_measures)
SUPERVISION = Column("supervision", "监控责任", 16, supervision)
STATE = Column("state", "状态", 12, state_label)
INSTITUTION = Column("institution", "单位", 16, lambda row: row.get("institution", ""))
BAND = Column("band", "全县分档", 8, band_label)

REGISTER_COLUMNS = (SERIAL, DEPARTMENT, POSITION, DESCRIPTION, MANIFESTATION, RISK_TYPE, LEVEL_ALONE, MEASURES, OWNER)

FORMS: dict[str, FormSpec] = {
    form.code: form
    for form in (
        FormSpec(
            "unit-register",
            "单位廉政风险点和防范措施登记表",
            "seed 002 附件3",
            (*REGISTER_COLUMNS[:6], RISK_CLASS, *REGISTER_COLUMNS[6:], SUPERVISION),
        ),
        FormSpec(
            "department-register",
            "部门廉政风险点和防范措施登记表",
            "seed 002 附件4",
            (*REGISTER_COLUMNS, SUPERVISION),
            section_by="department",
            signature="department",
        ),
        FormSpec(
            "personal-register",
            "个人廉政风险点和防范措施登记表",
            "seed 002 附件5",
            (
                SERIAL,
                POSITION,
                POWER,
                DESCRIPTION,
                MANIFESTATION,
                RISK_TYPE,
                LEVEL_ALONE,
                MEASURES,
                OWNER,
                SUPERVISION,
            ),
            section_by="position",
            positions_only=True,
            signature="personal",
        ),
        FormSpec(
            "overview",
            "廉政风险点排查及防控措施一览表",
            "seed 000 篇1",
            (
                SERIAL,
                DEPARTMENT,
                POSITION,
                POWER,
                STEP,
                DESCRIPTION,
                MANIFESTATION,
                RISK_TYPE,
                FOUND_BY,
                LIKELIHOOD,
                SEVERITY,
                LEVEL,
                PREVENTION,
                MONITORING,
                DISPOSITION,
                OWNER,
                FREQUENCY,
                EVIDENCE,
                RULE,
            ),
        ),
        FormSpec(
            "personal-finding",
            "个人廉政风险查找表",
            "seed 000 篇2",
            (
                SERIAL,
                POSITION,
                POWER,
                STEP,
                DESCRIPTION,
                MANIFESTATION,
                RISK_TYPE,
                FOUND_BY,
                LIKELIHOOD,
                SEVERITY,
                LEVEL,
            ),
            section_by="position",
            positions_only=True,
            signature="opinion-head",
        ),
        FormSpec(
            "department-finding",
            "部门廉政风险查找表",
            "seed 000 篇2",
            (
                SERIAL,
                POSITION,
                POWER,
                STEP,
                DESCRIPTION,
                MANIFESTATION,
                RISK_TYPE,
                FOUND_BY,
                LIKELIHOOD,
                SEVERITY,
                LEVEL,
            ),
            section_by="department",
            signature="opinion-leader",
        ),
        FormSpec(
            "personal-control",
            "个人廉政风险识别防控表",
            "seed 000 篇2",
            (
                SERIAL,
                POSITION,
                DESCRIPTION,
                LEVEL_ALONE,
                PREVENTION,
                MONITORING,
                DISPOSITION,
                OWNER,
                FREQUENCY,
                EVIDENCE,
            ),
            section_by="position",
            positions_only=True,
        ),
        FormSpec(
            "department-control",
            "部门廉政风险识别防控表",
            "seed 000 篇2",
            (
                SERIAL,
                POSITION,
                DESCRIPTION,
                LEVEL_ALONE,
                PREVENTION,
                MONITORING,
                DISPOSITION,
                OWNER,
                FREQUENCY,
                EVIDENCE,
                RULE,
            ),
            section_by="department",
        ),
    )
}

# The filed register is rendered in the unit register's form, with its version and hash.
FILED_FORM = "unit-register"
# Columns a form gained with snapshot format 3 (issue 15): (form code, column key).
ADDED_IN_FORMAT_3 = {
    ("unit-register", "risk_class"),
    ("personal-register", "supervision"),
    ("overview", "frequency"),
    ("overview", "evidence"),
    ("overview", "rule"),
}


def as_before(form: FormSpec) -> FormSpec:
    """A form as a filed version of snapshot format 1 or 2 was printed, so that it prints the same
    today: without the columns added since, each control's value once (``COLUMNS_BEFORE``), one
    signature block under the document and the workbook's 签署 line as it was."""
    columns = tuple(
        COLUMNS_BEFORE.get(column.key, column)
        for column in form.columns
        if (form.code, column.key) not in ADDED_IN_FORMAT_3
    )
    return replace(form, columns=columns, signature="unit", legacy=True)


FORMATS = ("xlsx", "pdf")


def working_copy(form: FormSpec) -> FormSpec:
    """A working copy (工作稿) of a form: the same columns and a 状态 column, since it holds points
    at every step of the path."""
    return replace(form, columns=(*form.columns, STATE))


def spanning(form: FormSpec) -> FormSpec:
    """A form over several institutions: a 单位 column after the serial number, a 部门 column where
    the form only named departments in its sections, the county-wide band (全县分档) beside the
    level, and one table (sections by department or post would mix institutions)."""
    columns: list[Column] = []
    for column in form.columns:
        columns.append(column)
        if column.key == "serial":
            columns.append(INSTITUTION)
            if not any(c.key == "department" for c in form.columns):
                columns.append(DEPARTMENT)
        if column.key == "level":
            columns.append(replace(BAND, group=column.group))
    return replace(form, columns=tuple(columns), section_by="", signature="unit")


def form_help() -> str:
    return "; ".join(f"{code} ({form.title})" for code, form in FORMS.items())


@dataclass(frozen=True)
class DocumentHeader:
    """What the title block of every document says."""

    institution: str
    year: int | None
    version: int | None = None
    content_hash: str = ""
    signed: str = ""  # who signed a filed version, and when
    scheme: str = ""  # a filed version: the grading scheme's name as filed
    working: bool = False  # a working copy (工作稿): marked on every page, no signature block
    as_of: str = ""  # a catalogue: the day it was drawn up, printed instead of the year
    legend: tuple[str, ...] = ()  # a document over several institutions: its schemes, label = band

    @property
    def period_text(self) -> str:
        """What the subtitle says after 年度 or 编制日期."""
        if self.as_of:
            return f"编制日期：{self.as_of}"
        return f"年度：{self.year or '全部'}"

    @property
    def year_text(self) -> str:
        return f"{self.year}年度" if self.year else ""

    def title(self, form: FormSpec) -> str:
        mark = f"（{WORKING_MARK}）" if self.working else ""
        return f"{self.institution}{self.year_text}{form.title}{mark}"
