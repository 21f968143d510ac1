"""The results of the unit assessments of a cycle as a document (Excel and PDF) through the
document machinery of ``risk_registry.documents``: one section (sheet / page) per unit, one row per
item and a total row. Always in Chinese, like the other official forms."""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal

from django.utils import translation

from assessments.models import Cycle, UnitAssessment, UnitItem
from assessments.unit import figure_text, weighted_points
from risk_registry.documents.definitions import Column, DocumentHeader, FormSpec
from risk_registry.documents.pdf import write_pdf
from risk_registry.documents.xlsx import write_workbook

TITLE = "单位廉政风险防控考核评估结果表"
NOT_SCORED = "—"


def _number(value: Decimal | None) -> str:
    return NOT_SCORED if value is None else f"{value.normalize():f}"


RESULT_FORM = FormSpec(
    code="unit-assessment",
    title=TITLE,
    source="《风险防控机制建设方案》篇5 四、(三); 《酒泉市工商行政管理系统廉政风险点防范管理工作实施方案》第四阶段",
    columns=(
        Column("serial", "序号", 6, lambda row: "" if row.get("total") else row["_serial"], numeric=True),
        Column("item", "考核项目", 26, lambda row: row["item"]),
        Column("weight", "权重", 8, lambda row: row["weight"], numeric=True),
        Column("self", "自评分", 8, lambda row: row["self"], numeric=True, group="单位自评"),
        Column("note", "自评说明及依据", 36, lambda row: row["note"], group="单位自评"),
        Column("final", "评估分", 8, lambda row: row["final"], numeric=True, group="统一评估"),
        Column("points", "加权得分", 9, lambda row: row["points"], numeric=True, group="统一评估"),
        Column("findings", "评估意见", 36, lambda row: row["findings"], group="统一评估"),
    ),
    section_by="section",
)


def _label(assessment: UnitAssessment) -> str:
    total = _number(assessment.final_total) if assessment.final_total is not None else "未评估"
    grade = assessment.grade or assessment.get_state_display()
    return f"{assessment.institution.name}　总分 {total}　{grade}"


def result_rows(assessments: Iterable[UnitAssessment], items: Iterable[UnitItem]) -> list[dict]:
    """Rows of every assessment's items and its total, each with its section's label."""
    by_assessment: dict[int, list[UnitItem]] = {}
    for item in items:
        by_assessment.setdefault(item.assessment_id, []).append(item)
    rows: list[dict] = []
    with translation.override("zh-hans"):
        for assessment in assessments:
            label = _label(assessment)
            own = by_assessment.get(assessment.pk, [])
            weights = sum((item.weight for item in own), Decimal(0))
            for item in own:
                note = "\n".join(part for part in (item.self_note, figure_text(item.evidence, item.figure)) if part)
                rows.append(
                    {
                        "section": label,
                        "item": item.title,
                        "weight": _number(item.weight),
                        "self": _number(item.self_score),
                        "note": note,
                        "final": _number(item.final_score),
                        "points": _number(weighted_points(item.weight, item.final_score, weights)),
                        "findings": item.findings,
                    }
                )
            rows.append(
                {
                    "section": label,
                    "total": True,
                    "item": f"合计（等级：{assessment.grade or '未评定'}）",
                    "weight": _number(weights),
                    "self": _number(assessment.self_total),
                    "note": "",
                    "final": _number(assessment.final_total),
                    "points": _number(assessment.final_total),
                    "findings": assessment.conclusion,
                }
            )
    return rows


def result_document(*, cycle: Cycle, assessments: list[UnitAssessment], fmt: str) -> tuple[bytes, int]:
    """The file's bytes and the number of units in it."""
    items = UnitItem.objects.filter(assessment__in=[a.pk for a in assessments]).order_by("assessment_id", "order")
    rows = result_rows(assessments, items)
    header = DocumentHeader(institution=cycle.institution.name, year=cycle.year)
    out = io.BytesIO()
    if fmt == "pdf":
        write_pdf(out, form=RESULT_FORM, header=header, rows=rows)
    else:
        write_workbook(out, form=RESULT_FORM, header=header, rows=rows)
    return out.getvalue(), len(assessments)


def result_filename(cycle: Cycle, fmt: str) -> str:
    return f"{cycle.institution.name}{cycle.year}年度单位考核评估结果.{fmt}"
