"""The three published layouts of issue 18, rebuilt from their descriptions, and the check that
nothing of them was lost (shared by the wizard's tests and its browser test)."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook

from risk_registry.models import RiskPoint

# A city housing bureau: 风险点/表现形式/风险等级(高中低)/防控措施/部门负责人/责任领导, the unit merged down.
HOUSING_HEADER = ["序号", "单位/科室", "风险点", "表现形式", "风险等级（高中低）", "防控措施", "部门负责人", "责任领导"]
HOUSING_ROWS = [
    [
        1,
        "审批科",
        "违规审批商品房预售许可",
        "降低条件发放预售证",
        "高",
        "严格审查资料\n集体研究决定\n定期公示结果",
        "王科长",
        "李副局长",
    ],
    [2, None, "工程验收走过场", "不到现场即签字", "中", "前期：验收清单化\n后期：倒查追责", None, None],
    [
        3,
        "领导班子成员",
        "干预工程招投标",
        "打招呼、递条子",
        "高",
        "1.落实插手工程项目登记制度2.主动报告",
        "赵书记",
        "赵书记",
    ],
    [4, None, "公务接待超标准", "违规吃喝", "低", "接待清单公开", "赵书记", "赵书记"],
]

# A market-regulation bureau: 责任主体/职权内容/风险点/风险等级/防控措施/责任人, numbered items in one cell.
MARKET_HEADER = ["责任主体", "职权内容", "风险点", "风险等级", "防控措施", "责任人"]
MARKET_ROWS = [
    [
        "财务股",
        "行政处罚",
        "处罚自由裁量不当",
        "一级",
        "1.严格执行裁量基准；2.重大案件集体讨论；3.处罚结果公开",
        "张三",
    ],
    ["财务股", "食品经营许可", "违规发放许可证", "二级", "（1）一次性告知（2）限时办结（3）双人核查", "李四"],
    ["稽查大队", "行政处罚", "办人情案", "三级", "①回避制度\n②案卷评查", "王五"],
]

# A state-owned company: 岗位类别/风险名称/风险描述/防控措施/监测指标, no level.
COMPANY_HEADER = ["岗位类别", "风险名称", "风险描述", "防控措施", "监测指标"]
COMPANY_ROWS = [
    ["采购管理", "围标串标", "供应商串通抬价", "1、公开招标\n2、评委随机抽取", "流标率"],
    ["采购管理", "验收不严", "以次充好", "联合验收", "退货率"],
    ["财务管理", "资金挪用", "私设小金库", "（一）定期对账（二）审计监督", "账实相符率"],
]


def housing_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "风险防控表"
    sheet.append(["某市住房和城乡建设局廉政风险点及防控措施一览表"])
    sheet.merge_cells("A1:H1")
    sheet.append(HOUSING_HEADER)
    for row in HOUSING_ROWS:
        sheet.append(row)
    sheet.merge_cells("B3:B4")  # the unit merged down its block
    sheet.merge_cells("B5:B6")
    sheet.merge_cells("G5:G6")
    sheet.merge_cells("H5:H6")
    sheet.append([])
    sheet.append(["填表人：张某某        审核人：李某某        日期：2026年1月5日"])
    sheet.merge_cells("A8:H8")
    return _save(workbook)


def market_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某县市场监督管理局廉政风险防控清单"])
    sheet.append(["单位（盖章）：                           2026年"])
    sheet.append(MARKET_HEADER)
    for row in MARKET_ROWS:
        sheet.append(row)
    return _save(workbook)


def company_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["某国有企业廉洁风险防控表"])
    sheet.append(COMPANY_HEADER)
    for row in COMPANY_ROWS:
        sheet.append(row)
    sheet.merge_cells("A3:A4")
    return _save(workbook)


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def texts_of(point: RiskPoint) -> str:
    """Everything a point keeps of its row, as one text."""
    parts = [
        point.department.name,
        point.position.title if point.position else "",
        point.power_item.name if point.power_item else "",
        point.description,
        point.manifestation,
        point.notes,
        point.head_in_charge,
        point.leader_in_charge,
        point.level.name,
    ]
    for control in point.controls.all():
        parts += [control.measure, control.owner]
    return "\n".join(parts)


def measure_words(cell: str) -> list[str]:
    """The words of a measures cell without numbering and prefixes (each must be found in a control)."""
    pieces = re.split(r"\d+[.、]|[（(][一二三四五六七八九十\d]+[)）]|[①②③④⑤]|\n|；|前期：|后期：", cell)
    return [p.strip(" ；;") for p in pieces if p.strip(" ；;")]
