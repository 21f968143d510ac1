"""The checklists of the source documents, installed as presets (checklists without institution).

- ``pian5-nine``: the nine items of the assessment content in 《风险防控机制建设方案》篇5, 四、(三)
  开展风险考核评估 1.评估内容; the method (2.评估办法) is self-assessment followed by the county
  discipline commission's unified assessment (统一评估) — the two stages of a unit assessment.
- ``jiuquan-six``: the six points the special inspection "主要看" in 《酒泉市工商行政管理系统廉政风险点
  防范管理工作实施方案》第四阶段(二)定期督促检查.

Neither document weighs its items; the weights here (summing to 100) are this product's default,
weighing the substantive items (finding risks, controls, their effect) above the organisational
ones (docs/assessment.md). Offices adopt a copy and change them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

PIAN5_SOURCE = "《风险防控机制建设方案》篇5 四、(三) 开展风险考核评估"
JIUQUAN_SOURCE = "《酒泉市工商行政管理系统廉政风险点防范管理工作实施方案》第四阶段(二) 定期督促检查"

# (title, weight, evidence source, guidance)
PIAN5_ITEMS = (
    ("组织领导机构是否健全", 10, "", "领导小组及其办公室是否成立、明确专人负责日常工作，主要领导是否负总责。"),
    ("责任分工是否明确", 10, "", "班子成员、科室负责人和岗位人员的防控责任是否分解到人。"),
    ("风险查找是否深入", 15, "posts_with_points", "是否做到不漏岗、不缺项：各岗位是否查找了廉政风险点。"),
    ("防控措施是否得力", 15, "", "措施是否针对风险点、可操作，是否明确责任人、频次、留痕和所依据的制度。"),
    ("预警机制是否健全", 10, "warnings_in_time", "“三早”预警机制是否建立，预警信息是否登记台账、按期处置和回复。"),
    ("制度执行是否有效", 10, "controls_with_runs", "防控措施和制度是否按频次实际执行并留有记录。"),
    ("监督检查是否到位", 10, "", "是否开展动态监控、定期检查和随机抽查，发现问题是否及时纠正。"),
    ("考核办法是否科学", 5, "", "是否制定考核细则和问责办法，并与年度目标考核、评先评优结合。"),
    ("防控效果是否明显", 15, "", "风险是否得到有效控制，是否发生违纪违法问题，干部群众是否认可。"),
)

JIUQUAN_ITEMS = (
    ("“两个风险点”排查是否到位", 20, "posts_with_points", "廉政风险点和监管风险点是否按岗位、环节查找到位。"),
    ("制度是否健全", 20, "", "防范措施是否与现有制度对接，存在漏洞的制度是否修订完善。"),
    ("程序是否规范", 15, "", "权力运行流程是否梳理、流程图是否绘制，各环节是否按程序运行。"),
    ("岗位职责和责任人是否明确", 15, "", "每个部门、每个岗位的职责、权限和责任人是否明确。"),
    ("责任追究是否具体", 15, "warnings_in_time", "对失察、失管、失教或违规违纪的，是否有具体的问责和追究。"),
    ("实际运行是否有效", 15, "controls_with_runs", "防范措施是否实际运行并发挥作用。"),
)

PRESETS = (
    ("pian5-nine", "廉政风险防控考核评估九项内容", PIAN5_SOURCE, PIAN5_ITEMS),
    ("jiuquan-six", "酒泉市工商局专项检查六项内容", JIUQUAN_SOURCE, JIUQUAN_ITEMS),
)


@transaction.atomic
def install_checklist_presets(checklist_model, item_model) -> int:
    """Create the presets that are missing (by key); the models are passed so that a data
    migration can use its historical ones. Returns the number created."""
    created = 0
    for key, name, source, items in PRESETS:
        if checklist_model.objects.filter(institution__isnull=True, key=key).exists():
            continue
        checklist = checklist_model.objects.create(key=key, name=name, source=source)
        item_model.objects.bulk_create(
            item_model(
                checklist=checklist,
                order=order,
                title=title,
                weight=Decimal(weight),
                evidence=evidence,
                guidance=guidance,
            )
            for order, (title, weight, evidence, guidance) in enumerate(items, start=1)
        )
        created += 1
    return created
