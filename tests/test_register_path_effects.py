"""Every allowed state-changing POST of the register path really changes what it claims (issue 9):
a decision row, a state, a version, a notice date, a filed version — not only a 302."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from risk_registry.models import (
    Decision,
    DecisionRules,
    LevelProposal,
    NoticeComment,
    Register,
    RegisterVersion,
    RiskPoint,
)
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow import registers

REGISTER = "/registers/bureau-a/2026"
TODAY = timezone.localdate


def _put(*points, state: str) -> None:
    RiskPoint.objects.filter(pk__in=[p.pk for p in points]).update(state=state)


def _point(point) -> RiskPoint:
    return RiskPoint.objects.select_related("level").get(pk=point.pk)


def _post(client, user, url: str, data: dict):
    client.force_login(user)
    response = client.post(url, {**data, "confirmed": "1"})  # past the confirmation step of approve … file
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def _decision(**values) -> dict:
    return {
        "kind": "approval",
        "meeting": "2026年第5次局党组会议",
        "meeting_kind": "party_group",
        "held_on": TODAY().isoformat(),
        "participants": "周局长、孙副局长",
        "present": 2,
        "votes_for": 2,
        "votes_against": 0,
        "votes_abstaining": 0,
        "decision": "同意所列风险点等级",
        "confirmed": "1",  # past the confirmation step
        **values,
    }


def test_submit_moves_the_draft_and_bumps_its_version(world, client):
    _post(client, world.holder, f"/risks/{world.draft.pk}/step/submit/", {"version": world.draft.version})
    after = _point(world.draft)
    assert (after.state, after.version) == (S.SUBMITTED, world.draft.version + 1)


def test_withdraw_pulls_the_report_back(world, client):
    _post(client, world.holder, f"/risks/{world.submitted.pk}/step/withdraw/", {"version": world.submitted.version})
    after = _point(world.submitted)
    assert (after.state, after.version) == (S.DRAFT, world.submitted.version + 1)
    assert AuditEntry.objects.filter(action="risk_point.withdraw", target_id=world.submitted.pk).exists()


def test_review_and_return_to_author(world, client):
    _post(client, world.head, f"/risks/{world.submitted.pk}/step/review/", {"version": world.submitted.version})
    assert _point(world.submitted).state == S.REVIEWED
    _put(world.submitted, state=S.SUBMITTED)
    _post(client, world.head, f"/risks/{world.submitted.pk}/step/return_to_author/", {"reason": "描述不具体"})
    assert _point(world.submitted).state == S.DRAFT
    assert AuditEntry.objects.get(action="risk_point.return_to_author").changes["reason"] == "描述不具体"


def test_batch_review(world, client):
    pk = world.submitted.pk
    _post(client, world.head, f"{REGISTER}/batch/review/", {"point": [pk], f"version_{pk}": world.submitted.version})
    assert _point(world.submitted).state == S.REVIEWED


def test_batch_define_with_an_override_and_its_reason(world, client):
    _put(world.submitted, state=S.REVIEWED)
    pk = world.submitted.pk
    seen = _point(world.submitted).version
    data = {
        "point": [pk],
        f"version_{pk}": seen,
        f"likelihood_{pk}": 3,
        f"severity_{pk}": 3,
        f"reason_{pk}": "涉及大额资金",
    }
    _post(client, world.discipline, f"{REGISTER}/batch/define/", data)
    after = _point(world.submitted)
    assert (after.state, after.level.name) == (S.DEFINED, "一级")
    assert AuditEntry.objects.get(action="risk_point.define").changes["override"]["reason"] == "涉及大额资金"


def test_approval_records_a_passing_decision_and_moves_the_listed_points(world, client):
    _put(world.submitted, world.finance_point, state=S.DEFINED)
    _post(client, world.leader, f"{REGISTER}/decide/", _decision(points=[world.submitted.pk, world.finance_point.pk]))
    decision = Decision.objects.get()
    assert decision.outcome == Decision.Outcome.PASSED and decision.present == 2
    assert set(decision.points.values_list("pk", flat=True)) == {world.submitted.pk, world.finance_point.pk}
    assert {_point(world.submitted).state, _point(world.finance_point).state} == {S.APPROVED}
    assert _point(world.submitted).version == world.submitted.version + 1


def test_a_failed_vote_records_the_decision_and_moves_nothing(world, client):
    DecisionRules.objects.create(institution=world.a, team_size=7)
    _put(world.submitted, state=S.DEFINED)
    _post(
        client,
        world.principal,
        f"{REGISTER}/decide/",
        _decision(points=[world.submitted.pk], present=7, votes_for=1, votes_against=6),
    )
    assert Decision.objects.get().outcome == Decision.Outcome.NOT_PASSED
    after = _point(world.submitted)
    assert (after.state, after.version) == (S.DEFINED, world.submitted.version)


def test_democratic_appraisal(world, client):
    _put(world.submitted, state=S.DEFINED)
    data = _decision(kind="appraisal", meeting_kind="appraisal", present=30, votes_for=28, points=[world.submitted.pk])
    _post(client, world.discipline, f"{REGISTER}/decide/", data)
    assert Decision.objects.get().kind == Decision.Kind.APPRAISAL
    assert _point(world.submitted).state == S.APPRAISED


def test_publish_then_extend_the_notice(world, client):
    _put(world.submitted, state=S.APPROVED)
    _post(client, world.discipline, f"{REGISTER}/publish/", {"days": 5})
    register = Register.objects.get(institution=world.a, year=2026)
    assert _point(world.submitted).state == S.IN_NOTICE
    assert register.notice_ends_on == TODAY() + datetime.timedelta(days=5)
    _post(client, world.discipline, f"{REGISTER}/publish/", {"days": 8, "reason": "收到意见，延长征求"})
    register.refresh_from_db()
    assert register.notice_ends_on == TODAY() + datetime.timedelta(days=8)
    assert AuditEntry.objects.filter(action="register.notice_extend").count() == 1


def test_comment_answer_issue_and_file(world, client):
    RiskPoint.objects.filter(institution=world.a).exclude(pk=world.submitted.pk).update(year=2025)
    _put(world.submitted, state=S.APPROVED)
    register = registers.register_for(institution=world.a, year=2026)
    registers.notice_publish(by=world.discipline, register=register, days=1)
    _post(client, world.holder2, f"{REGISTER}/comment/", {"text": "建议提高等级", "risk_point": world.submitted.pk})
    comment = NoticeComment.objects.get()
    assert comment.author == world.holder2
    _post(client, world.discipline, f"/comments/{comment.pk}/answer/", {"answer": "维持原等级"})
    comment.refresh_from_db()
    assert comment.answered_by == world.discipline
    Register.objects.filter(pk=register.pk).update(notice_ends_on=TODAY() - datetime.timedelta(days=1))
    _post(client, world.discipline, f"{REGISTER}/issue/", {})
    assert _point(world.submitted).state == S.ISSUED
    _post(client, world.principal, f"{REGISTER}/file/", {})
    version = RegisterVersion.objects.get(register=register)
    assert version.number == 1 and [p["id"] for p in version.snapshot["points"]] == [world.submitted.pk]


def test_propose_and_accept_a_higher_level(world, client):
    _post(
        client,
        world.discipline,
        f"/risks/{world.submitted.pk}/propose/",
        {"likelihood": 3, "severity": 3, "reason": "多次被举报"},
    )
    proposal = LevelProposal.objects.get()
    _post(
        client, world.leader, f"/proposals/{proposal.pk}/decide/", {"accept": "yes", "version": world.submitted.version}
    )
    after = _point(world.submitted)
    assert (after.level.name, after.version) == ("一级", world.submitted.version + 1)


def test_a_stale_proposal_decision_changes_nothing(world, client):
    proposal = registers.level_proposal_create(
        by=world.discipline, risk_point=world.submitted, likelihood=3, severity=3, reason="多次被举报"
    )
    _post(
        client,
        world.leader,
        f"/proposals/{proposal.pk}/decide/",
        {"accept": "yes", "version": world.submitted.version + 5},
    )
    proposal.refresh_from_db()
    assert proposal.status == LevelProposal.Status.PENDING
    assert _point(world.submitted).level.name == "二级"


def test_edit_draft_bumps_the_version(world, client):
    data = {
        "risk_type": world.risk_type.pk,
        "found_by": "self",
        "description": "已修改的描述",
        "likelihood": 2,
        "severity": 2,
        "version": world.draft.version,
        "controls-TOTAL_FORMS": 0,
        "controls-INITIAL_FORMS": 0,
        "controls-MIN_NUM_FORMS": 0,
        "controls-MAX_NUM_FORMS": 30,
    }
    _post(client, world.holder, f"/risks/{world.draft.pk}/edit/", data)
    after = _point(world.draft)
    assert (after.description, after.version) == ("已修改的描述", world.draft.version + 1)


@pytest.mark.parametrize("majority", ["more_for_than_against", "two_thirds_of_present"])
def test_decision_rules_are_saved_and_audited(world, client, majority):
    _post(
        client, world.discipline, f"{REGISTER}/rules/", {"team_size": 9, "quorum": "two_thirds", "majority": majority}
    )
    rules = DecisionRules.objects.get(institution=world.a)
    assert (rules.team_size, rules.quorum, rules.majority) == (9, "two_thirds", majority)
    assert AuditEntry.objects.filter(action="decision_rules.update", institution=world.a).exists()
