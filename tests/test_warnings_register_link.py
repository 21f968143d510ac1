"""A warning and the register: a draft risk point from an item (through risk_point_create, by the
holder of a linked post or the department head, the facts prefilled only when not confidential),
and a proposal to raise a linked point's level from the item page."""

from __future__ import annotations

import pytest

from integrity_warnings.models import WarningItem
from risk_registry.models import LevelProposal, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditAction, AuditEntry
from tests.harness import Scene, point_form
from tests.warnings_helpers import NORMAL_FACTS, SECRET_FACTS, SECRET_SOURCE, inspection_item, issue, petition_item

pytestmark = pytest.mark.django_db


def form(world, description="审批超时未说明理由的风险"):
    return point_form(Scene(world, None, None), description)


def test_the_holder_of_the_linked_post_drafts_a_point_prefilled_and_linked(world, client):
    item = inspection_item(world)
    client.force_login(world.holder)
    page = client.get(f"/warnings/{item.pk}/risk-point/").content.decode()
    assert NORMAL_FACTS in page and item.number in page
    response = client.post(f"/warnings/{item.pk}/risk-point/", form(world))
    point = RiskPoint.objects.get(description="审批超时未说明理由的风险")
    assert response.status_code == 302 and response["Location"] == f"/risks/{point.pk}/"
    assert point.state == RiskPointState.DRAFT and point.position == world.position and point.created_by == world.holder
    assert set(WarningItem.objects.get(pk=item.pk).risk_points.all()) == {world.submitted, point}
    assert AuditEntry.objects.filter(action=AuditAction.WARNING_POINT_DRAFT, target_id=item.pk).count() == 1


def test_the_head_drafts_at_department_level(world, client):
    item = inspection_item(world)
    client.force_login(world.head)
    client.post(f"/warnings/{item.pk}/risk-point/", form(world))
    point = RiskPoint.objects.get(description="审批超时未说明理由的风险")
    assert point.position is None and point.department == world.dept and point.created_by == world.head


def test_a_confidential_item_prefills_nothing(world, client):
    item = petition_item(world)
    client.force_login(world.holder)
    page = client.get(f"/warnings/{item.pk}/risk-point/").content.decode()
    assert SECRET_FACTS not in page and SECRET_SOURCE not in page and 'data-testid="from-warning"' in page


@pytest.mark.parametrize(
    "persona", ["discipline", "leader", "principal", "superior", "holder2", "outsider", "outsider_holder", "nobody"]
)
def test_nobody_else_may_draft_and_a_refused_post_writes_nothing(world, client, persona):
    item = inspection_item(world)
    client.force_login(getattr(world, persona))
    assert client.get(f"/warnings/{item.pk}/risk-point/").status_code == 404
    before = RiskPoint.objects.count()
    assert client.post(f"/warnings/{item.pk}/risk-point/", form(world)).status_code == 404
    assert RiskPoint.objects.count() == before


def test_the_recipient_is_offered_the_draft_from_the_notice(world, client):
    notice = issue(world, inspection_item(world))
    client.force_login(world.holder)
    assert 'data-testid="draft-point"' in client.get(f"/warnings/notices/{notice.pk}/").content.decode()


def test_the_office_proposes_raising_a_linked_points_level_from_the_item(world, client):
    item = inspection_item(world)  # linked to the submitted point 违规简化审批程序
    client.force_login(world.discipline)
    page = client.get(f"/warnings/{item.pk}/").content.decode()
    assert 'data-testid="propose-forms"' in page and item.number in page
    response = client.post(
        f"/risks/{world.submitted.pk}/propose/", {"likelihood": 3, "severity": 3, "reason": f"预警信息{item.number}"}
    )
    assert response.status_code == 302
    proposal = LevelProposal.objects.get(risk_point=world.submitted)
    assert proposal.status == LevelProposal.Status.PENDING and item.number in proposal.reason
    client.force_login(world.leader)  # leadership sees the item, proposes nothing
    assert 'data-testid="propose-forms"' not in client.get(f"/warnings/{item.pk}/").content.decode()
