"""The three catalogues of 清权 and 建章立制 as documents: 职权目录, 流程图 (each power's flow as a
table) and 制度目录, in Excel and PDF through the same forms machinery as the registers.

The seeds ask for the catalogues ("编制风险岗位职权目录", "绘制流程图", "编制风险岗位制度目录") without
reproducing their columns, so the columns follow what the texts ask each catalogue to record
(第一篇/第二篇: 权力事项类别、行使依据、责任主体、服务承诺和工作纪律; 流程: 条件、承办岗位、办理时限、
监督制约、相对人的权利和投诉渠道). Headers are official text and stay in Chinese.

Callers pass querysets already filtered by ``risk_registry.access``; nothing here decides who sees what.
Retired powers and repealed rules are not in a catalogue: it lists what is in force on the day.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Prefetch, QuerySet
from django.template.loader import render_to_string

from controls.models import Rule
from positions.flow import flow_layout
from positions.models import PowerItem, ProcessStep
from risk_registry.documents.definitions import Column, DocumentHeader, FormSpec
from risk_registry.documents.pdf import cjk_font
from risk_registry.documents.rendering import Document
from risk_registry.organisation.models import Institution


def _text(key: str):
    return lambda row: row[key]


SERIAL = Column("serial", "序号", 6, lambda row: row["_serial"], numeric=True)

POWER_CATALOGUE = FormSpec(
    "power-catalogue",
    "职权目录",
    "seed 000 篇1（编制风险岗位职权目录）",
    (
        SERIAL,
        Column("category", "权力类别", 12, _text("category")),
        Column("name", "职权事项", 22, _text("name")),
        Column("department", "承办部门", 12, _text("department")),
        Column("legal_basis", "行使依据", 30, _text("legal_basis")),
        Column("responsible_subject", "责任主体", 14, _text("responsible_subject")),
        Column("commitment", "服务承诺和工作纪律", 26, _text("commitment")),
        Column("discretion", "裁量权基准", 28, _text("discretion")),
        Column("positions", "行使岗位", 18, _text("positions")),
    ),
)

FLOW_CATALOGUE = FormSpec(
    "flow-catalogue",
    "权力运行流程图",
    "seed 000 篇2（绘制流程图）",
    (
        Column("order", "环节序号", 8, _text("order"), numeric=True),
        Column("name", "环节", 16, _text("name")),
        Column("condition", "条件", 18, _text("condition")),
        Column("handling_post", "承办岗位", 18, _text("handling_post")),
        Column("time_limit", "办理时限", 12, _text("time_limit")),
        Column("supervision", "监督制约", 26, _text("supervision")),
        Column("counterpart_rights", "相对人的权利和投诉渠道", 26, _text("counterpart_rights")),
    ),
    section_by="section",
)

RULE_CATALOGUE = FormSpec(
    "rule-catalogue",
    "制度目录",
    "Jiuquan plan 二(一)（编制风险岗位制度目录）",
    (
        SERIAL,
        Column("title", "制度名称", 26, _text("title")),
        Column("document_number", "文号", 16, _text("document_number")),
        Column("issuing_body", "发布机关", 16, _text("issuing_body")),
        Column("department", "适用部门", 12, _text("department")),
        Column("effective_on", "施行日期", 12, _text("effective_on"), numeric=True),
        Column("revised_on", "最近修订", 12, _text("revised_on"), numeric=True),
        Column("summary", "主要内容", 34, _text("summary")),
        Column("controls", "依托的防控措施（项）", 10, _text("controls"), numeric=True),
    ),
)

CATALOGUES = {"powers": POWER_CATALOGUE, "flows": FLOW_CATALOGUE, "rules": RULE_CATALOGUE}


def _date(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def _header(institution: Institution, today: datetime.date) -> DocumentHeader:
    return DocumentHeader(institution=institution.name, year=None, as_of=f"{today:%Y年%m月%d日}")


def _position_names(item: PowerItem) -> str:
    return "、".join(f"{p.department.name}·{p.title}" for p in item.positions.all())


def _powers(items: QuerySet[PowerItem]) -> list[PowerItem]:
    return list(
        items.filter(retired_on__isnull=True)
        .select_related("category", "department")
        .prefetch_related("positions__department")
        .order_by("category__order", "category_id", "id")
    )


def power_catalogue(*, institution: Institution, items: QuerySet[PowerItem], today: datetime.date) -> Document:
    """职权目录: the powers in force, by category, with their basis, subject, commitment, discretion."""
    rows = [
        {
            "category": item.category.name,
            "name": item.name,
            "department": item.department.name if item.department else "",
            "legal_basis": item.legal_basis,
            "responsible_subject": item.responsible_subject,
            "commitment": item.commitment,
            "discretion": item.discretion,
            "positions": _position_names(item),
        }
        for item in _powers(items)
    ]
    return Document(form=POWER_CATALOGUE, header=_header(institution, today), rows=rows, total=len(rows))


def flow_catalogue(
    *, institution: Institution, items: QuerySet[PowerItem], today: datetime.date, charts: bool = False
) -> Document:
    """流程图 collection: one table (one sheet, one PDF section) per power in force, its steps in order;
    ``charts`` (the PDF) draws each power's flow above its table, as the page shows it (no risk points)."""
    steps = ProcessStep.objects.select_related("handling_position__department").order_by("order")
    powers = list(
        items.filter(retired_on__isnull=True)
        .select_related("category")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("category__order", "category_id", "id")
    )
    rows = []
    figures: dict[str, str] = {}
    font = cjk_font() if charts else ""
    for number, item in enumerate(powers, start=1):
        section = f"{number}. {item.name}"
        steps_of_item = list(item.steps.all())
        if charts and steps_of_item:
            figures[section] = render_to_string(
                "positions/_flow_chart.html",
                {"flow": flow_layout(steps_of_item, []), "item": item, "chart_id": item.pk, "font": font},
            )
        for step in steps_of_item:
            post = step.handling_position
            rows.append(
                {
                    "section": section,
                    "order": step.order,
                    "name": step.name,
                    "condition": step.condition,
                    "handling_post": f"{post.department.name}·{post.title}" if post else "",
                    "time_limit": step.time_limit,
                    "supervision": step.supervision,
                    "counterpart_rights": step.counterpart_rights,
                }
            )
    return Document(
        form=FLOW_CATALOGUE, header=_header(institution, today), rows=rows, total=len(rows), figures=figures
    )


def rule_catalogue(*, institution: Institution, rules: QuerySet[Rule], today: datetime.date) -> Document:
    """制度目录: the rules in force with their dates and how many controls rest on each."""
    in_force = (
        rules.filter(repealed_on__isnull=True)
        .select_related("department")
        .annotate(control_count=Count("controls"))
        .order_by("effective_on", "id")
    )
    rows = [
        {
            "title": rule.title,
            "document_number": rule.document_number,
            "issuing_body": rule.issuing_body,
            "department": rule.department.name if rule.department else "全单位",
            "effective_on": _date(rule.effective_on),
            "revised_on": _date(rule.revised_on),
            "summary": rule.summary,
            "controls": rule.control_count,
        }
        for rule in in_force
    ]
    return Document(form=RULE_CATALOGUE, header=_header(institution, today), rows=rows, total=len(rows))


def filename(institution: Institution, kind: str, fmt: str, today: datetime.date) -> str:
    """甲局-职权目录-20261206.xlsx: who, what and when, in Chinese."""
    return f"{institution.name}-{CATALOGUES[kind].title}-{today:%Y%m%d}.{fmt}"
