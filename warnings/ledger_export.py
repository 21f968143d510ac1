"""The official 《预警信息台账》 as Excel and PDF, from the user's filtered ledger.

The rows come from ``selectors.ledger_for`` (scoped by integrity_warnings.access), and the source and
facts of a confidential item are written only when the user is one of its handlers (``readable``):
anyone else's file says 保密 where they would be. Always in Chinese, like the other official forms.
Each row has its institution (单位), the item's own grade label and its county-wide band (全县分档);
under the table, the legend of the grade scales present (``grades.legend_of``), since institutions
may grade with different scales.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from integrity_warnings.grades import LegendEntry
from integrity_warnings.models import WarningItem
from risk_registry.documents.pdf import DocumentUnavailable, cjk_font, html_to_pdf
from risk_registry.documents.xlsx import is_formula_like
from risk_registry.organisation.names import person
from risk_registry.organisation.text import printable

TITLE = "预警信息台账"
MAX_ROWS = 5000
COLUMNS = (
    "序号",
    "编号",
    "单位",
    "收到日期",
    "信息渠道",
    "信息来源",
    "预警对象",
    "主要情况",
    "等级",
    "全县分档",
    "核实情况",
    "状态",
    "逾期",
)
MASK = "（保密）"


def _subject(item: WarningItem) -> str:
    if item.subject_user_id:
        return person(item.subject_user)
    return item.subject_name or str(item.subject_position or item.subject_department or item.institution)


def ledger_rows(items: Iterable[WarningItem]) -> list[list[str]]:
    rows = []
    with translation.override("zh-hans"):
        for serial, item in enumerate(items, start=1):
            if serial > MAX_ROWS:
                raise DocumentUnavailable(
                    _("The ledger export is limited to %(limit)d items: filter it first.") % {"limit": MAX_ROWS}
                )
            readable, overdue = getattr(item, "readable", False), getattr(item, "overdue", False)
            rows.append(
                [
                    str(serial),
                    item.number,
                    item.institution.name,
                    item.received_on.isoformat(),
                    item.channel.name,
                    item.source if readable else MASK,
                    _subject(item),
                    item.facts if readable else MASK,
                    item.grade.label,
                    item.grade.get_band_display(),
                    item.get_verification_display(),
                    item.get_status_display(),
                    "是" if overdue else "",
                ]
            )
    return rows


def legend_text(legend: Iterable[LegendEntry]) -> list[str]:
    with translation.override("zh-hans"):
        return ["等级说明（本单位等级=全县分档）：", *(str(entry) for entry in legend)]


def ledger_xlsx(rows: list[list[str]], legend: Iterable[LegendEntry] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = TITLE
    sheet.append([TITLE])
    sheet["A1"].font = Font(name="宋体", size=16, bold=True)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}"])
    sheet.append(list(COLUMNS))
    for row in rows:
        # printable: openpyxl refuses a control character stored before the forms stripped them
        cells = [printable(value) if isinstance(value, str) else value for value in row]
        sheet.append(["'" + value if is_formula_like(value) else value for value in cells])
    sheet.append([])
    for line in legend_text(legend):
        sheet.append([printable(line)])
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def ledger_pdf(rows: list[list[str]], legend: Iterable[LegendEntry] = ()) -> bytes:
    html = render_to_string(
        "warnings/pdf/ledger.html",
        {
            "font": cjk_font(),
            "title": TITLE,
            "columns": COLUMNS,
            "rows": rows,
            "legend": legend_text(legend),
            "at": timezone.localtime(),
        },
    )
    return html_to_pdf(html)
