"""The power inventory (清权), its process flows and rotation (轮岗交流) as users work them in the browser's
forms: every change is audited and flags the points of the posts concerned for re-grading."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from positions.models import Holding, PowerItem, ProcessStep
from risk_registry import access
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry
from risk_registry.services import power_item_update

pytestmark = pytest.mark.django_db


def _flagged(world) -> set[int]:
    return set(RiskPoint.objects.filter(needs_regrading=True).values_list("pk", flat=True))


def _steps_post(item, rows, extra=0):
    """The formset's POST: existing steps first (in ``rows`` order), then new ones."""
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows) - extra), "form-MIN_NUM_FORMS": "0"}
    data["form-MAX_NUM_FORMS"] = "1000"
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{index}-{key}"] = value
    return data


def test_discipline_office_edits_a_power_which_flags_its_posts_points_and_is_audited(world, login):
    client = login(world.discipline)
    url = reverse("power_edit", args=[world.power.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "企业设立登记审批",
            "category": world.power.category_id,
            "department": world.dept.pk,
            "positions": [world.position.pk, world.position2.pk],
            "legal_basis": "《行政许可法》第二十二条",
            "discretion": "一般情形：5个工作日；复杂情形：经批准延长10个工作日",
        },
    )
    assert response.status_code == 302
    item = PowerItem.objects.get(pk=world.power.pk)
    assert item.name == "企业设立登记审批"
    assert item.discretion.startswith("一般情形")
    entry = AuditEntry.objects.get(action="power_item.update", target_id=item.pk)
    assert entry.actor == world.discipline and "discretion" in entry.changes
    # drafts of the posts are not flagged (the author has not submitted them); live points are
    assert world.submitted.pk in _flagged(world)
    assert world.finance_point.pk not in _flagged(world)


def test_head_manages_powers_of_own_department_only(world, login):
    client = login(world.head)
    assert client.get(reverse("power_edit", args=[world.power.pk])).status_code == 200
    before = PowerItem.objects.count()
    response = client.post(
        reverse("power_create", args=[world.a.code]),
        {"name": "财务报销审核", "category": world.power.category_id, "department": world.finance.pk},
    )
    assert response.status_code == 200  # 财务股 is not the head's department: a form error
    assert "department" in response.context["form"].errors
    assert PowerItem.objects.count() == before


def test_create_then_draw_the_flow_then_pin_shows_on_the_chart(world, login):
    client = login(world.discipline)
    response = client.post(
        reverse("power_create", args=[world.a.code]),
        {
            "name": "政府采购",
            "category": world.power.category_id,
            "department": world.finance.pk,
            "positions": [world.position3.pk],
        },
    )
    item = PowerItem.objects.get(name="政府采购")
    assert response.url == reverse("power_steps", args=[item.pk])
    rows = [
        {"name": "提出需求", "handling_position": world.position3.pk, "time_limit": "3个工作日"},
        {"name": "组织采购", "condition": "预算已批准", "supervision": "纪检监督"},
        {"name": "验收付款", "counterpart_rights": "可向县纪委监委投诉"},
    ]
    response = client.post(reverse("power_steps", args=[item.pk]), _steps_post(item, rows, extra=3))
    assert response.status_code == 302, response.context and response.context["formset"].errors
    steps = list(item.steps.order_by("order").values_list("order", "name", "time_limit"))
    assert steps == [(1, "提出需求", "3个工作日"), (2, "组织采购", ""), (3, "验收付款", "")]
    assert AuditEntry.objects.filter(action="power_item.steps", target_id=item.pk).count() == 1
    step = item.steps.get(order=2)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(
        power_item=item, process_step=step, year=timezone.localdate().year
    )
    page = client.get(reverse("power_detail", args=[item.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="flow-step"') == 3
    assert "虚报冒领" in html and 'data-testid="flow-pin"' in html


def test_reorder_rename_and_delete_steps_keep_pinned_points(world, login):
    client = login(world.discipline)
    steps = list(world.power.steps.order_by("order"))  # 受理 审查 决定 送达; 审查 is w.step
    RiskPoint.objects.filter(pk=world.submitted.pk).update(power_item=world.power, process_step=world.step)
    rows = [
        {"id": steps[2].pk, "name": "作出决定"},
        {"id": steps[1].pk, "name": "审查"},
        {"id": steps[0].pk, "name": "受理"},
        {"id": steps[3].pk, "name": "送达", "delete": "on"},
    ]
    response = client.post(reverse("power_steps", args=[world.power.pk]), _steps_post(world.power, rows))
    assert response.status_code == 302
    assert list(world.power.steps.order_by("order").values_list("name", flat=True)) == ["作出决定", "审查", "受理"]
    assert RiskPoint.objects.get(pk=world.submitted.pk).process_step_id == world.step.pk
    # a step with a pinned point cannot be deleted: nothing changes
    rows = [{"id": s.pk, "name": s.name} for s in world.power.steps.order_by("order")]
    rows[1]["delete"] = "on"
    before = list(ProcessStep.objects.filter(power_item=world.power).values_list("pk", "order", "name"))
    response = client.post(reverse("power_steps", args=[world.power.pk]), _steps_post(world.power, rows), follow=True)
    assert "审查" in response.content.decode()
    assert list(ProcessStep.objects.filter(power_item=world.power).values_list("pk", "order", "name")) == before


def test_retire_keeps_history_and_hides_from_the_position_page(world, login):
    client = login(world.discipline)
    response = client.post(
        reverse("power_retire", args=[world.power.pk]), {"on": "2026-06-30", "reason": "职能划转至市场监管局"}
    )
    assert response.status_code == 302
    item = PowerItem.objects.get(pk=world.power.pk)
    assert item.retired_on == datetime.date(2026, 6, 30) and item.retired_reason == "职能划转至市场监管局"
    assert world.submitted.pk in _flagged(world)
    assert AuditEntry.objects.filter(action="power_item.retire", target_id=item.pk).exists()
    detail = client.get(reverse("power_detail", args=[item.pk])).content.decode()
    assert 'data-testid="retired"' in detail and "职能划转至市场监管局" in detail
    assert "企业登记审批" not in client.get(reverse("position_detail", args=[world.position.pk])).content.decode()
    listing = client.get(reverse("power_list", args=[world.a.code]) + "?retired=1").content.decode()
    assert "企业登记审批" in listing
    again = client.post(reverse("power_retire", args=[item.pk]), {"on": "2026-07-01", "reason": "again"})
    assert again.status_code == 302
    assert PowerItem.objects.get(pk=item.pk).retired_on == datetime.date(2026, 6, 30)


@pytest.mark.parametrize("bad", [{"on": "1900-01-01", "reason": "x"}, {"on": "2026-06-01", "reason": ""}, {"on": "²"}])
def test_bad_retire_input_says_why_and_writes_nothing(world, login, bad):
    client = login(world.discipline)
    response = client.post(reverse("power_retire", args=[world.power.pk]), bad, follow=True)
    assert response.status_code == 200
    assert PowerItem.objects.get(pk=world.power.pk).retired_on is None
    assert list(response.context["messages"])


def test_rotation_moves_a_holder_flags_the_post_and_lists_long_held_key_posts(world, login):
    client = login(world.discipline)
    url = reverse("rotation", args=[world.a.code])
    page = client.get(url)
    assert page.status_code == 200
    # 审批岗 is a key post held since 2026-01-01: not long held yet
    assert "张审批" not in page.content.decode().split('data-testid="long-held"')[1].split("</table>")[0]
    Holding.objects.filter(user=world.holder).update(started_on=datetime.date(2015, 1, 1))
    page = client.get(url).content.decode()
    assert "张审批" in page.split('data-testid="long-held"')[1].split("</table>")[0]
    holding = Holding.objects.get(user=world.holder, ended_on__isnull=True)
    response = client.post(
        url, {"kind": "rotate", "holding": holding.pk, "position": world.position3.pk, "on": "2026-07-01"}
    )
    assert response.status_code == 302
    holding.refresh_from_db()
    assert holding.ended_on == datetime.date(2026, 7, 1)
    assert Holding.objects.filter(user=world.holder, position=world.position3, ended_on__isnull=True).exists()
    assert world.submitted.pk in _flagged(world)  # the post left has live points
    assert AuditEntry.objects.filter(action="holding.end", target_id=holding.pk, actor=world.discipline).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "rotate", "on": "2026-07-01"},
        {"kind": "start", "on": "2026-07-01"},
        {"kind": "end", "holding": "999999", "on": "2026-07-01"},
        {"kind": "end", "on": "1900-01-01"},
        {"kind": "bogus", "on": "2026-07-01"},
    ],
)
def test_bad_rotation_input_is_a_form_error(world, login, data):
    client = login(world.discipline)
    before = (Holding.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("rotation", args=[world.a.code]), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert (Holding.objects.count(), AuditEntry.objects.count()) == before


def test_rotation_of_another_institution_is_out_of_reach(world, login):
    assert login(world.outsider).get(reverse("rotation", args=[world.a.code])).status_code == 404
    assert login(world.head).get(reverse("rotation", args=[world.a.code])).status_code == 403
    holding = Holding.objects.get(user=world.outsider_holder)
    response = login(world.discipline).post(
        reverse("rotation", args=[world.a.code]), {"kind": "end", "holding": holding.pk, "on": "2026-07-01"}
    )
    assert response.status_code == 200  # not a holding of bureau A: the choice is invalid
    assert Holding.objects.get(pk=holding.pk).ended_on is None


def test_power_pages_query_counts_do_not_grow_with_steps_and_points(world, login, django_assert_max_num_queries):
    client = login(world.discipline)
    with django_assert_max_num_queries(20):
        client.get(reverse("power_detail", args=[world.power.pk]))
    with django_assert_max_num_queries(20):
        client.get(reverse("power_list", args=[world.a.code]))


def test_the_history_of_a_power_is_read_through_the_access_module(world):
    power_item_update(item=world.power, by=world.discipline, name="企业登记审批（修订）")
    AuditEntry.objects.create(
        actor=world.holder,
        action="power_item.update",
        target_type="positions.poweritem",
        target_id=world.power.pk,
        institution=world.a,
        private=True,
    )
    for persona in ("head", "holder", "leader", "discipline", "superior"):
        entries = list(access.history_of(getattr(world, persona), world.power))
        actions = sorted(e.action for e in entries)
        assert actions == ["power_item.create", "power_item.update"], persona  # never the private entry
    assert not access.history_of(world.outsider, world.power).exists()
    assert not access.history_of(world.nobody, world.power).exists()


def test_a_change_of_one_step_field_alone_is_audited_and_flags(world, login):
    client = login(world.discipline)
    rows = [{"id": s.pk, "name": s.name} for s in world.power.steps.order_by("order")]
    rows[1]["time_limit"] = "5个工作日"
    response = client.post(reverse("power_steps", args=[world.power.pk]), _steps_post(world.power, rows))
    assert response.status_code == 302
    assert world.power.steps.get(order=2).time_limit == "5个工作日"
    entry = AuditEntry.objects.get(action="power_item.steps", target_id=world.power.pk)
    assert entry.changes["changed"] == {"2. 审查": ["time_limit"]}
    assert world.submitted.pk in _flagged(world)
    # the same rows again: nothing changed, nothing audited
    client.post(reverse("power_steps", args=[world.power.pk]), _steps_post(world.power, rows))
    assert AuditEntry.objects.filter(action="power_item.steps", target_id=world.power.pk).count() == 1
