"""The rule catalogue (制度目录): rules recorded, corrected, revised and repealed through the register's
services; a revision or a repeal flags the points of the controls resting on the rule, audited."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from controls import services as rule_services
from controls.models import Control, Rule
from controls.services import control_apply_changes
from risk_registry import services
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(world):
    """《审批工作规程》 of bureau A, resting the submitted point's control (审批岗) on it."""
    made = rule_services.rule_create(
        institution=world.a,
        title="审批工作规程",
        document_number="甲局发〔2025〕3号",
        issuing_body="甲局党组",
        effective_on=datetime.date(2025, 3, 1),
        text="第一条 审批实行双人审核。",
        by=world.discipline,
    )
    Control.objects.filter(risk_point=world.submitted).update(rule=made)
    return made


def _state(rule_pk: int):
    """What a refused write must leave unchanged."""
    return (
        tuple(Rule.objects.filter(pk=rule_pk).values_list("title", "text", "revised_on", "repealed_on").get()),
        AuditEntry.objects.count(),
        RiskPoint.objects.filter(needs_regrading=True).count(),
    )


def test_discipline_office_records_a_rule_with_its_fields_and_an_audit_entry(world, login):
    client = login(world.discipline)
    assert client.get(reverse("rule_create", args=[world.a.code])).status_code == 200
    response = client.post(
        reverse("rule_create", args=[world.a.code]),
        {
            "title": "财务报销管理办法",
            "document_number": "甲局发〔2026〕1号",
            "issuing_body": "甲局",
            "effective_on": "2026-01-01",
            "department": "",
            "summary": "报销审批权限",
            "text": "第一条 ……",
        },
    )
    made = Rule.objects.get(title="财务报销管理办法")
    assert response.status_code == 302 and response.url == reverse("rule_detail", args=[made.pk])
    assert (made.institution, made.issuing_body, made.effective_on) == (world.a, "甲局", datetime.date(2026, 1, 1))
    assert AuditEntry.objects.filter(action="rule.create", target_id=made.pk, actor=world.discipline).exists()
    listing = client.get(reverse("rule_list", args=[world.a.code])).content.decode()
    assert "财务报销管理办法" in listing and "甲局发〔2026〕1号" in listing


def test_revising_a_rule_flags_the_points_of_its_controls_and_is_audited(world, login, rule):
    client = login(world.discipline)
    response = client.post(
        reverse("rule_revise", args=[rule.pk]),
        {"on": "2026-06-01", "text": "第一条 审批实行双人审核并留痕。", "note": "增加留痕要求"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.revised_on == datetime.date(2026, 6, 1) and rule.text.endswith("并留痕。")
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    assert point.needs_regrading and "审批工作规程" in point.regrading_reason
    assert not RiskPoint.objects.get(pk=world.finance_point.pk).needs_regrading  # no control on the rule
    entry = AuditEntry.objects.get(action="rule.revise", target_id=rule.pk)
    assert entry.actor == world.discipline and entry.changes["revised_on"] == [None, "2026-06-01"]
    assert AuditEntry.objects.filter(action="risk_point.flag_regrading", target_id=point.pk).exists()


def test_repealing_a_rule_flags_keeps_it_in_history_and_freezes_it(world, login, rule):
    client = login(world.discipline)
    client.post(reverse("rule_repeal", args=[rule.pk]), {"on": "2026-07-01", "reason": "被新规程替代"})
    rule.refresh_from_db()
    assert rule.repealed_on == datetime.date(2026, 7, 1) and rule.repeal_reason == "被新规程替代"
    assert RiskPoint.objects.get(pk=world.submitted.pk).needs_regrading
    assert AuditEntry.objects.filter(action="rule.repeal", target_id=rule.pk).count() == 1
    # out of the default list, in the list of repealed rules, and no longer editable
    listing = reverse("rule_list", args=[world.a.code])
    assert "审批工作规程" not in client.get(listing).content.decode()
    assert "审批工作规程" in client.get(listing + "?repealed=1").content.decode()
    before = _state(rule.pk)
    client.post(reverse("rule_revise", args=[rule.pk]), {"on": "2026-08-01", "text": "x"})
    client.post(reverse("rule_edit", args=[rule.pk]), {"title": "改名"})
    assert _state(rule.pk) == before


def test_correcting_an_entry_is_audited_and_flags_nothing(world, login, rule):
    client = login(world.discipline)
    response = client.post(
        reverse("rule_edit", args=[rule.pk]),
        {
            "title": "审批工作规程",
            "document_number": "甲局发〔2025〕4号",
            "issuing_body": "甲局党组",
            "text": rule.text,
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="rule.update", target_id=rule.pk)
    assert entry.changes["document_number"] == ["甲局发〔2025〕3号", "甲局发〔2025〕4号"]
    assert not RiskPoint.objects.filter(needs_regrading=True).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"on": "2025-01-01", "text": "x"}, "生效"),  # before it took effect
        ({"on": "1999-01-01", "text": "x"}, "2000"),  # out of range
        ({"on": "", "text": "x"}, ""),
    ],
)
def test_bad_revisions_are_refused_with_a_message_and_change_nothing(world, login, rule, data, message):
    client = login(world.discipline)
    before = _state(rule.pk)
    response = client.post(reverse("rule_revise", args=[rule.pk]), data, follow=True)
    assert response.status_code == 200
    shown = " ".join(str(m) for m in response.context["messages"])
    assert shown and message in shown
    assert _state(rule.pk) == before


def test_a_repeal_needs_a_reason(world, login, rule):
    client = login(world.discipline)
    before = _state(rule.pk)
    client.post(reverse("rule_repeal", args=[rule.pk]), {"on": "2026-07-01", "reason": ""})
    assert _state(rule.pk) == before


@pytest.mark.parametrize("persona", ["holder", "leader", "head", "superior", "outsider", "nobody"])
def test_others_may_not_change_rules(world, login, rule, persona):
    client = login(getattr(world, persona))
    before = _state(rule.pk)
    edit = client.post(reverse("rule_edit", args=[rule.pk]), {"title": "x"})
    revise = client.post(reverse("rule_revise", args=[rule.pk]), {"on": "2026-06-01", "text": "x"})
    repeal = client.post(reverse("rule_repeal", args=[rule.pk]), {"on": "2026-06-01", "reason": "x"})
    create = client.post(reverse("rule_create", args=[world.a.code]), {"title": "x"})
    expected = 404 if persona in ("outsider", "nobody") else 403
    assert edit.status_code == revise.status_code == repeal.status_code == expected
    # a head may record rules of their department, but not one without a department (a form error)
    assert create.status_code == (200 if persona == "head" else expected)
    assert _state(rule.pk) == before and not Rule.objects.filter(title="x").exists()


def test_head_records_rules_of_own_department_only(world, login):
    client = login(world.head)
    before = Rule.objects.count()
    refused = client.post(
        reverse("rule_create", args=[world.a.code]), {"title": "财务制度", "department": world.finance.pk}
    )
    assert refused.status_code == 200 and "department" in refused.context["form"].errors
    whole = client.post(reverse("rule_create", args=[world.a.code]), {"title": "全局制度", "department": ""})
    assert whole.status_code == 200 and "department" in whole.context["form"].errors
    assert Rule.objects.count() == before
    client.post(reverse("rule_create", args=[world.a.code]), {"title": "审批科工作制度", "department": world.dept.pk})
    made = Rule.objects.get(title="审批科工作制度")
    assert made.department == world.dept
    assert client.get(reverse("rule_edit", args=[made.pk])).status_code == 200


def test_detail_shows_only_the_controls_the_reader_may_see(world, login, rule):
    Control.objects.filter(risk_point=world.point_b).update(rule=rule)  # crafted: bureau B's control
    holder2 = login(world.holder2).get(reverse("rule_detail", args=[rule.pk])).content.decode()
    assert "违规简化审批程序" not in holder2  # 审批岗's point: not the reader's
    office = login(world.discipline).get(reverse("rule_detail", args=[rule.pk])).content.decode()
    assert "违规简化审批程序" in office and "选择性执法" not in office


def test_rules_of_another_institution_are_404(world, login, rule):
    client = login(world.outsider)
    assert client.get(reverse("rule_detail", args=[rule.pk])).status_code == 404
    assert client.get(reverse("rule_list", args=[world.a.code])).status_code == 404


def test_the_service_refuses_a_department_of_another_institution(world):
    before = Rule.objects.count()
    with pytest.raises(ValidationError, match="其他单位"):
        rule_services.rule_create(institution=world.a, title="x", department=world.dept_b, by=world.discipline)
    assert Rule.objects.count() == before


def test_no_new_control_rests_on_a_repealed_rule_but_old_ones_keep_it(world, rule):
    rule, _flagged = services.rule_repeal(rule=rule, on=datetime.date(2026, 7, 1), reason="被替代", by=world.discipline)
    control = Control.objects.get(risk_point=world.submitted)
    before = Control.objects.count()
    with pytest.raises(ValidationError, match="已废止"):
        control_apply_changes(
            risk_point=world.draft, by=world.holder, controls=[{"line": "monitoring", "measure": "抽查", "rule": rule}]
        )
    assert Control.objects.count() == before
    kept = {"id": control.pk, "line": control.line, "measure": "双人审核并留痕", "rule": Rule.objects.get(pk=rule.pk)}
    control_apply_changes(risk_point=world.submitted, by=world.holder, controls=[kept])
    control.refresh_from_db()
    assert control.measure == "双人审核并留痕" and control.rule_id == rule.pk
