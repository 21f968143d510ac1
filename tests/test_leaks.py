"""The six leaks of the security issue, each as it was found: a draft's text or existence must not
reach anyone outside its author's side (the crawler in test_leak_crawler.py checks the whole demo)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from positions.services import holding_start
from risk_registry import access
from risk_registry.models import LevelProposal, NoticeComment, Register, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Role
from risk_registry.organisation.services import membership_grant
from risk_registry.services import holding_end, risk_point_update
from risk_registry.workflow.inbox import to_regrade
from risk_registry.workflow.transitions import Change, transition_apply

pytestmark = pytest.mark.django_db

SECRET = "集体资金公款私存,坐收坐支"


def _edit_draft(world, text: str = SECRET) -> RiskPoint:
    return risk_point_update(by=world.holder, risk_point=world.draft, fields={"description": text})


# 1. the audit log


def test_a_drafts_audit_entries_copy_no_text(world):
    _edit_draft(world)
    entries = AuditEntry.objects.filter(target_type="risk_registry.riskpoint", target_id=world.draft.pk)
    assert entries.count() == 2  # created, edited
    assert all(e.private and e.summary == "" for e in entries)


@pytest.mark.parametrize("persona", ["discipline", "superior"])
def test_the_audit_log_does_not_show_a_draft_to_the_offices(world, login, persona):
    _edit_draft(world)
    content = login(getattr(world, persona)).get(reverse("audit_log"), {"action": "risk_point"}).content.decode()
    assert SECRET not in content
    assert f"#{world.draft.pk}<" not in content  # not even that the draft exists
    visible = access.audit_entries_visible_to(getattr(world, persona))
    assert not visible.filter(target_type="risk_registry.riskpoint", target_id=world.draft.pk).exists()
    assert visible.filter(target_type="risk_registry.riskpoint", target_id=world.submitted.pk).exists() is False or (
        RiskPoint.objects.get(pk=world.submitted.pk).state != RiskPointState.DRAFT
    )


def test_audit_entries_follow_the_objects_current_visibility(world):
    transition_apply(by=world.holder, name="submit", changes=[Change(point_id=world.draft.pk)])
    visible = access.audit_entries_visible_to(world.discipline)
    submitted = visible.filter(target_type="risk_registry.riskpoint", target_id=world.draft.pk)
    assert list(submitted.values_list("action", flat=True)) == ["risk_point.submit"]  # not the draft's own edits
    # the draft's controls: their entries were made while it was a draft
    controls = world.draft.controls.values_list("pk", flat=True)
    assert not visible.filter(target_type="controls.control", target_id__in=list(controls)).exists()
    # outside the office's subtree: nothing
    assert not access.audit_entries_visible_to(world.outsider).filter(institution=world.a).exists()


# 2. the point's history


def test_a_drafts_earlier_wording_stays_with_its_author_after_submission(world, login):
    _edit_draft(world, "旧措辞:先收费后办证")
    _edit_draft(world, "审批中吃拿卡要")
    transition_apply(by=world.holder, name="submit", changes=[Change(point_id=world.draft.pk)])
    url = reverse("risk_point_detail", args=[world.draft.pk])

    assert "旧措辞" not in login(world.discipline).get(url).content.decode()
    assert "旧措辞" in login(world.holder).get(url).content.decode()  # the author keeps their history
    assert "旧措辞" in login(world.head).get(url).content.decode()  # so does the head who could read the draft


# 3. the inbox's re-grading list


def test_ending_a_holding_flags_no_draft_and_the_inbox_lists_none(world):
    holding_end(holding=world.position.holdings.get(user=world.holder), ended_on=datetime.date(2026, 6, 30))
    assert not RiskPoint.objects.get(pk=world.draft.pk).needs_regrading
    RiskPoint.objects.filter(pk=world.draft2.pk).update(needs_regrading=True)  # flagged before this rule
    listed = set(to_regrade(world.discipline).values_list("pk", flat=True))
    assert listed == {world.submitted.pk}


# 4. comments during notice


def _notice(world) -> Register:
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.IN_NOTICE)
    today = timezone.localdate()
    return Register.objects.create(
        institution=world.a,
        year=2026,
        notice_starts_on=today,
        notice_ends_on=today + datetime.timedelta(days=5),
        allow_anonymous_comments=True,
    )


def test_a_comment_cannot_name_a_draft(world, login):
    _notice(world)
    before = (NoticeComment.objects.count(), AuditEntry.objects.count())
    client = login(world.holder)
    response = client.post(
        reverse("register_comment", args=["bureau-a", 2026]),
        {"text": "这一条写得不好", "risk_point": world.draft.pk, "anonymous": "on"},
        follow=True,
    )
    assert (NoticeComment.objects.count(), AuditEntry.objects.count()) == before
    assert "不在本台账中" in response.content.decode()


def test_an_anonymous_comment_keeps_only_the_day(world, login):
    _notice(world)
    login(world.holder3).post(
        reverse("register_comment", args=["bureau-a", 2026]),
        {"text": "建议提高等级", "risk_point": world.submitted.pk, "anonymous": "on"},
    )
    comment = NoticeComment.objects.get()
    entry = AuditEntry.objects.get(action="notice_comment.create")
    day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    assert comment.author is None and entry.actor is None
    assert comment.created_at == day and entry.at == day


# 5. counts


def test_department_page_counts_only_the_points_the_reader_may_see(world, login):
    url = reverse("department_detail", args=[world.dept.pk])
    counts = {
        persona: dict((p.title, p.point_count) for p in login(getattr(world, persona)).get(url).context["positions"])
        for persona in ("discipline", "holder")
    }
    assert counts["discipline"]["审批岗"] == 1  # the submitted point; the draft is not counted
    assert counts["discipline"]["复核岗"] == 0
    assert counts["holder"]["审批岗"] == 2


def test_positions_without_points_are_judged_on_visible_points(world, login):
    quality = login(world.discipline).get(reverse("register_detail", args=["bureau-a", 2026])).context["quality"]
    titles = {row["title"] for row in quality.positions_without_points}
    assert "复核岗" in titles  # its only point is a draft: to the office it has none (nothing shows through)


# 6. raising a level


def test_a_discipline_officer_cannot_propose_raising_their_own_draft(world, login):
    membership_grant(user=world.holder, institution=world.a, role=Role.DISCIPLINE)
    response = login(world.holder).post(
        reverse("risk_point_propose", args=[world.draft.pk]), {"likelihood": 4, "severity": 4, "reason": "提级"}
    )
    assert response.status_code == 403
    assert not LevelProposal.objects.exists()
    assert not access.can_propose_level(world.holder, world.draft)
    holding_start(user=world.discipline, position=world.position3, started_on=datetime.date(2026, 1, 1))
    assert access.can_propose_level(world.discipline, world.submitted)


# 7. a point reopened for revision (修订中) is followed by the office; a fresh draft stays hidden


def _reopen(world) -> RiskPoint:
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.ISSUED)
    transition_apply(by=world.discipline, name="revise", changes=[Change(world.submitted.pk)], reason="措施需细化")
    return RiskPoint.objects.get(pk=world.submitted.pk)


@pytest.mark.parametrize("persona", ["discipline", "leader", "superior", "head", "holder3"])
def test_a_reopened_point_is_read_only_to_those_who_read_it_issued(world, login, persona):
    point = _reopen(world)
    client = login(getattr(world, persona))
    page = client.get(reverse("risk_point_detail", args=[point.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-testid="under-revision"' in content and "措施需细化" in content  # why, and …
    assert "张审批" in content  # … who must revise it (the holder of 审批岗)
    assert 'data-testid="edit"' not in content  # read-only: only the author side edits
    listed = client.get(reverse("risk_point_list"), {"q": "违规简化"}).content.decode()
    assert f'/risks/{point.pk}/"' in listed  # lists and search follow the same rule
    # a never-issued draft of the same post is still a 404 (for the head, who reads drafts: 200)
    fresh = client.get(reverse("risk_point_detail", args=[world.draft.pk]))
    assert fresh.status_code == (200 if persona == "head" else 404)


def test_the_author_edits_the_reopened_point(world, login):
    point = _reopen(world)
    content = login(world.holder).get(reverse("risk_point_detail", args=[point.pk])).content.decode()
    assert 'data-testid="edit"' in content and 'data-testid="under-revision"' in content


@pytest.mark.parametrize("persona", ["outsider", "outsider_holder", "nobody"])
def test_a_reopened_point_is_still_a_404_outside_the_institution(world, login, persona):
    point = _reopen(world)
    assert login(getattr(world, persona)).get(reverse("risk_point_detail", args=[point.pk])).status_code == 404
