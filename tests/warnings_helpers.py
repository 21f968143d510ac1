"""Builders shared by the warning tests: items and dispositions made through the services."""

from __future__ import annotations

import datetime

from integrity_warnings import services
from integrity_warnings.grades import scale_of
from integrity_warnings.ladder import DispositionState, Measure, SubjectKind
from integrity_warnings.models import WarningChannel

TODAY = datetime.date(2026, 3, 2)  # a Monday
SECRET_SOURCE = "实名举报人王某某，电话13800000000"
SECRET_FACTS = "举报审批岗张某收受企业购物卡"
NORMAL_FACTS = "专项检查发现审批超时未说明理由"


def channel(code: str) -> WarningChannel:
    return WarningChannel.objects.get(institution=None, code=code)


def grade(institution, rank: int):
    """The level of the institution's scale with that rank (1 = most serious)."""
    return next(level for level in scale_of(institution) if level.rank == rank)


def _create(values: dict, overrides: dict):
    values = {**values, **overrides}
    if isinstance(values["grade"], int):
        values["grade"] = grade(values["institution"], values["grade"])
    return services.warning_item_create(**values)


def petition_item(world, **overrides):
    """A confidential 信访举报 about the holder, entered by the discipline office of bureau A."""
    values = {
        "by": world.discipline,
        "institution": world.a,
        "channel": channel("petition"),
        "received_on": datetime.date(2026, 2, 20),
        "grade": 2,
        "source": SECRET_SOURCE,
        "facts": SECRET_FACTS,
        "subject_kind": SubjectKind.PERSON,
        "subject_user": world.holder,
        "today": TODAY,
    }
    return _create(values, overrides)


def inspection_item(world, **overrides):
    values = {
        "by": world.discipline,
        "institution": world.a,
        "channel": channel("special_inspection"),
        "received_on": datetime.date(2026, 2, 25),
        "grade": 3,
        "source": "2026年第一季度专项检查",
        "facts": NORMAL_FACTS,
        "subject_kind": SubjectKind.PERSON,
        "subject_user": world.holder,
        "risk_points": [world.submitted],
        "today": TODAY,
    }
    return _create(values, overrides)


def issue(world, item, measure=Measure.WARNING_REMINDER, *, reason="", today=TODAY, by=None, **overrides):
    item.refresh_from_db()
    values = {
        "by": by or world.discipline,
        "item": item,
        "measure": measure,
        "recipient_user": item.subject_user,
        "recipient_name": "张审批同志",
        "notice_facts": "你在办理企业登记审批中存在超时未说明理由的情况。",
        "requirement": "请对照岗位职责认真自查。",
        "reason": reason,
        "version": item.version,
        "today": today,
    }
    return services.disposition_issue(**{**values, **overrides})


def step(world, disposition, name, *, by=None, today=TODAY, **extra):
    disposition.refresh_from_db()
    if name == "respond":
        extra.setdefault("cause_analysis", "思想上放松了要求")
        extra.setdefault("measures_taken", "建立审批时限台账，每周自查")
    return services.disposition_transition(
        by=by or (world.holder if name == "respond" else world.discipline),
        disposition=disposition,
        name=name,
        version=disposition.version,
        today=today,
        **extra,
    )


__all__ = ["DispositionState"]
