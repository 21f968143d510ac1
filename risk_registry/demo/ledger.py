"""The demo county's warning ledger (called once by ``risk_registry.demo.build`` inside its
transaction), entered and moved through the same services a discipline office uses: a confidential
信访举报 with its warning reminder open, one answered (with a report file) and accepted, one overdue and
escalated to an admonishing talk, one whose reminder is overdue and unanswered (the deadline scan,
run after it by ``risk_registry.demo.cycle``, reminds and escalates it to the supervisor and the
office), one referred for investigation, and a discipline proposal to a department."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from integrity_warnings import services
from integrity_warnings.grades import scale_of
from integrity_warnings.ladder import Measure, SubjectKind
from integrity_warnings.models import WarningChannel
from positions.models import Holding
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Department, Institution, Membership, Role

INSTITUTION_CODE = "yunling-scjgj"  # 市场监督管理局
# A one-page PDF standing for the scanned report (the demo's file: type-checked and stored like any upload)
REPORT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def demo_ledger_seed(*, today: datetime.date | None = None) -> int:
    """Enter the demo items; returns how many. Nothing when the institution or its office is missing."""
    institution = Institution.objects.filter(code=INSTITUTION_CODE).first()
    office = Membership.objects.filter(institution=institution, role=Role.DISCIPLINE).select_related("user").first()
    if institution is None or office is None:
        return 0
    today = today or timezone.localdate()
    by = office.user
    holdings = list(
        Holding.objects.filter(position__institution=institution, ended_on__isnull=True)
        .exclude(user=by)
        .select_related("user", "position")
        .order_by("id")[:4]
    )
    if len(holdings) < 4:
        return 0
    channels = {c.code: c for c in WarningChannel.objects.filter(institution=None)}
    points = {p.position_id: p for p in RiskPoint.objects.filter(institution=institution).order_by("id")}
    grades = {level.rank: level for level in scale_of(institution)}  # the default 一/二/三级

    def enter(code, holding, days_ago, grade, facts, source=""):
        point = points.get(holding.position_id)
        return services.warning_item_create(
            by=by,
            institution=institution,
            channel=channels[code],
            received_on=today - datetime.timedelta(days=days_ago),
            grade=grades[grade],
            facts=facts,
            source=source,
            subject_kind=SubjectKind.PERSON,
            subject_user=holding.user,
            risk_points=[point] if point else [],
            today=today,
        )

    def rung(item, holding, measure, *, on, reason=""):
        item.refresh_from_db()
        return services.disposition_issue(
            by=by,
            item=item,
            measure=measure,
            recipient_user=holding.user,
            recipient_name=f"{holding.user.last_name}{holding.user.first_name}同志",
            notice_facts=f"你在{holding.position.title}工作中存在廉政风险苗头，经核实情况基本属实。",
            requirement="请对照岗位职责深刻剖析原因，制定整改措施，按期书面回告。",
            reason=reason,
            version=item.version,
            today=on,
        )

    def move(disposition, name, *, actor, on, **extra):
        disposition.refresh_from_db()
        return services.disposition_transition(
            by=actor, disposition=disposition, name=name, version=disposition.version, today=on, **extra
        )

    report = {
        "cause_analysis": "对廉洁纪律学习不够，执行程序不严。",
        "measures_taken": "逐项对照整改，建立台账，每月自查。",
    }
    first, second, third, fourth = holdings

    secret = enter(
        "petition", first, 12, 2, "群众来信反映其在许可审查中暗示企业请托。", source="匿名来信（原件存纪检室）"
    )
    rung(secret, first, Measure.WARNING_REMINDER, on=today - datetime.timedelta(days=2))

    accepted = enter("special_inspection", second, 40, 3, "专项检查发现抽检记录补签、日期倒填。")
    notice = rung(accepted, second, Measure.WARNING_REMINDER, on=today - datetime.timedelta(days=30))
    services.report_attachment_add(
        by=second.user, disposition=notice, upload=SimpleUploadedFile("整改情况报告.pdf", REPORT_PDF)
    )
    move(notice, "respond", actor=second.user, on=today - datetime.timedelta(days=26), **report)
    move(notice, "accept", actor=by, on=today - datetime.timedelta(days=25), reason="整改措施具体可行。")

    escalated = enter("unannounced_visit", third, 45, 2, "暗访发现窗口工作时间脱岗、办事群众等候过久。")
    late = rung(escalated, third, Measure.WARNING_REMINDER, on=today - datetime.timedelta(days=30))
    move(late, "lapse", actor=by, on=today - datetime.timedelta(days=14), reason="逾期未书面回告。")
    rung(escalated, third, Measure.ADMONITION, on=today - datetime.timedelta(days=3), reason="警示提醒后逾期未回告。")

    unanswered = enter("big_data", second, 20, 3, "大数据比对发现其办理的许可事项多次超时且未说明理由。")
    rung(unanswered, second, Measure.WARNING_REMINDER, on=today - datetime.timedelta(days=14))

    referred = enter("audit", fourth, 90, 1, "审计发现执法罚没款未及时上缴，存在坐支。")
    for measure, reason, start in (
        (Measure.WARNING_REMINDER, "", 80),
        (Measure.ADMONITION, "警示提醒后仍未纠正。", 60),
        (Measure.RECTIFICATION_ORDER, "诫勉谈话后仍未改正。", 40),
    ):
        step = rung(referred, fourth, measure, on=today - datetime.timedelta(days=start), reason=reason)
        move(step, "respond", actor=fourth.user, on=today - datetime.timedelta(days=start - 3), **report)
        move(step, "reject", actor=by, on=today - datetime.timedelta(days=start - 5), reason="整改不到位。")
    rung(referred, fourth, Measure.REFERRAL, on=today - datetime.timedelta(days=20), reason="责令整改后仍未改正。")

    department = Department.objects.get(pk=first.position.department_id)
    unit = services.warning_item_create(
        by=by,
        institution=institution,
        channel=channels["inspection_tour"],
        received_on=today - datetime.timedelta(days=5),
        grade=grades[3],
        facts="巡察反馈科室集体决策记录不完整。",
        subject_kind=SubjectKind.DEPARTMENT,
        subject_department=department,
        today=today,
    )
    services.disposition_issue(
        by=by,
        item=unit,
        measure=Measure.DISCIPLINE_PROPOSAL,
        recipient_name=f"{department.name}",
        notice_facts="巡察反馈你科室集体决策记录不完整。",
        requirement="请完善集体决策记录制度并书面回告。",
        version=unit.version,
        today=today,
    )
    return 6
