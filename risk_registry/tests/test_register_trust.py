"""Issue 9, "a register people can trust": every step of the register path means what it says.

Defect 1 (approval against the vote), 5 (a re-publish shortened the notice), 7 (grade edits did not
check or bump the version), 8 (the scheduler's actions were attributed to a person), and the
withdraw step and the reason required when the discipline office overrides a proposed level.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from risk_registry.models import Decision, DecisionRules, Register, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import ActorKind, AuditEntry
from risk_registry.services import risk_point_update
from risk_registry.workflow import registers
from risk_registry.workflow.registers import Vote
from risk_registry.workflow.transitions import Change, WorkflowConflict, transition_apply

TODAY = timezone.localdate


def _defined(world, *points) -> Register:
    """Walk the points through submit → review → define (no level change)."""
    ids = [p.pk for p in points]
    RiskPoint.objects.filter(pk__in=ids).update(state=S.SUBMITTED)
    transition_apply(by=world.discipline, name="review", changes=[Change(point_id=i) for i in ids])
    transition_apply(by=world.discipline, name="define", changes=[Change(point_id=i) for i in ids])
    return registers.register_for(institution=world.a, year=2026)


def _decide(world, register, *, vote: Vote, by=None, kind=Decision.Kind.APPROVAL, **overrides) -> Decision:
    values = {
        "meeting": "2026年第5次局党组会议",
        "meeting_kind": Decision.MeetingKind.PARTY_GROUP,
        "held_on": TODAY(),
        "participants": "周局长、孙副局长",
        "decision": "同意所列风险点等级",
        **overrides,
    }
    return registers.register_decide(by=by or world.leader, register=register, kind=kind, vote=vote, **values)


def _team_of_seven(world) -> None:
    DecisionRules.objects.create(institution=world.a, team_size=7)


def _states(*points) -> set[str]:
    return set(RiskPoint.objects.filter(pk__in=[p.pk for p in points]).values_list("state", flat=True))


def _versions(*points) -> dict[int, int]:
    return dict(RiskPoint.objects.filter(pk__in=[p.pk for p in points]).values_list("pk", "version"))


# --- defect 1: approval against the vote ------------------------------------------------------


def test_a_vote_of_one_for_and_six_against_is_recorded_as_not_passed_and_changes_no_point(world):
    _team_of_seven(world)
    register = _defined(world, world.submitted, world.finance_point)
    versions = _versions(world.submitted, world.finance_point)
    decision = _decide(world, register, vote=Vote(present=7, votes_for=1, against=6, abstaining=0))
    assert decision.outcome == Decision.Outcome.NOT_PASSED
    assert set(decision.points.values_list("pk", flat=True)) == {world.submitted.pk, world.finance_point.pk}
    assert _states(world.submitted, world.finance_point) == {S.DEFINED}
    assert _versions(world.submitted, world.finance_point) == versions
    assert not AuditEntry.objects.filter(action="risk_point.approve").exists()
    entry = AuditEntry.objects.get(action="register.not_passed")
    assert entry.changes["votes"] == [1, 6, 0] and entry.changes["outcome"] == "not_passed"


def test_without_a_quorum_of_the_leadership_team_nothing_passes(world):
    _team_of_seven(world)
    register = _defined(world, world.submitted)
    decision = _decide(world, register, vote=Vote(present=3, votes_for=3, against=0, abstaining=0))
    assert decision.outcome == Decision.Outcome.NOT_PASSED
    assert decision.rules["quorate"] is False
    assert _states(world.submitted) == {S.DEFINED}


def test_a_majority_of_those_present_approves_exactly_the_listed_points(world):
    _team_of_seven(world)
    register = _defined(world, world.submitted, world.finance_point)
    before = _versions(world.submitted, world.finance_point)
    decision = _decide(
        world, register, vote=Vote(present=5, votes_for=3, against=1, abstaining=1), point_ids=[world.submitted.pk]
    )
    assert decision.passed
    assert list(decision.points.values_list("pk", flat=True)) == [world.submitted.pk]
    assert _states(world.submitted) == {S.APPROVED}
    assert _states(world.finance_point) == {S.DEFINED}  # not listed, not approved
    assert RiskPoint.objects.get(pk=world.submitted.pk).version == before[world.submitted.pk] + 1
    assert AuditEntry.objects.get(action="register.approve").changes["points"] == [world.submitted.pk]


def test_half_of_those_present_is_not_a_majority(world):
    register = _defined(world, world.submitted)  # team: leader and principal recorded in the system
    decision = _decide(world, register, vote=Vote(present=2, votes_for=1, against=0, abstaining=1))
    assert not decision.passed
    assert _states(world.submitted) == {S.DEFINED}


@pytest.mark.parametrize(
    ("change", "vote"),
    [
        ({"participants": "  "}, Vote(2, 2, 0, 0)),
        ({"decision": ""}, Vote(2, 2, 0, 0)),
        ({}, Vote(2, 2, 1, 0)),  # three votes, two present
        ({}, Vote(3, 3, 0, 0)),  # three present, a team of two
        ({}, Vote(0, 0, 0, 0)),
        ({"meeting_kind": "picnic"}, Vote(2, 2, 0, 0)),
    ],
    ids=["no-participants", "no-decision-text", "votes-exceed-present", "present-exceeds-team", "nobody", "kind"],
)
def test_an_incomplete_or_impossible_meeting_record_is_refused_and_writes_nothing(world, change, vote):
    register = _defined(world, world.submitted)
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        _decide(world, register, vote=vote, **change)
    assert not Decision.objects.exists()
    assert AuditEntry.objects.count() == entries
    assert _states(world.submitted) == {S.DEFINED}


def test_a_listed_point_that_changed_meanwhile_refuses_the_whole_decision(world):
    register = _defined(world, world.submitted, world.finance_point)
    transition_apply(
        by=world.discipline, name="return_to_department", changes=[Change(point_id=world.finance_point.pk)], reason="x"
    )
    with pytest.raises(WorkflowConflict):
        _decide(
            world,
            register,
            vote=Vote(2, 2, 0, 0),
            point_ids=[world.submitted.pk, world.finance_point.pk],
        )
    assert not Decision.objects.exists()
    assert _states(world.submitted) == {S.DEFINED}


def test_the_institution_rules_decide(world):
    register = _defined(world, world.submitted)
    with pytest.raises(PermissionDenied):
        registers.decision_rules_update(
            by=world.leader,
            institution=world.a,
            team_size=None,
            quorum="more_than_half",
            majority="more_for_than_against",
        )
    registers.decision_rules_update(
        by=world.discipline,
        institution=world.a,
        team_size=None,
        quorum="more_than_half",
        majority="more_for_than_against",
    )
    assert AuditEntry.objects.filter(action="decision_rules.update").exists()
    decision = _decide(world, register, vote=Vote(present=2, votes_for=1, against=0, abstaining=1))
    assert decision.passed  # more for than against, under this institution's rule
    assert _states(world.submitted) == {S.APPROVED}


def test_democratic_appraisal_is_not_bounded_by_the_leadership_team(world):
    register = _defined(world, world.submitted)
    decision = _decide(
        world,
        register,
        by=world.discipline,
        kind=Decision.Kind.APPRAISAL,
        meeting_kind=Decision.MeetingKind.APPRAISAL,
        vote=Vote(present=26, votes_for=23, against=1, abstaining=2),
    )
    assert decision.passed
    assert _states(world.submitted) == {S.APPRAISED}


def test_approve_with_nothing_waiting_answers_a_form_error_and_writes_nothing(world, client):
    client.force_login(world.leader)
    response = client.post("/registers/bureau-a/2026/decide/", _decision_post())
    assert response.status_code == 200
    assert "没有等待此项决定的风险点" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_approval_form_lists_the_points_it_covers(world, client):
    _defined(world, world.submitted, world.finance_point)
    client.force_login(world.leader)
    page = client.get("/registers/bureau-a/2026/").content.decode()
    assert 'data-testid="approve-points"' in page
    for point in (world.submitted, world.finance_point):
        assert f'name="points" value="{point.pk}"' in page


def test_a_failed_vote_posted_from_the_register_page_changes_no_point(world, client):
    _team_of_seven(world)
    _defined(world, world.submitted)
    client.force_login(world.leader)
    response = client.post(
        "/registers/bureau-a/2026/decide/",
        _decision_post(points=[world.submitted.pk], present=7, votes_for=1, votes_against=6),
    )
    assert response.status_code == 302
    assert Decision.objects.get().outcome == Decision.Outcome.NOT_PASSED
    assert _states(world.submitted) == {S.DEFINED}
    page = client.get("/registers/bureau-a/2026/").content.decode()
    assert 'data-outcome="not_passed"' in page and "未通过" in page
    assert f'href="/risks/{world.submitted.pk}/">#{world.submitted.pk}</a>' in page  # the points it covered


def test_votes_that_do_not_add_up_are_a_form_error(world, client):
    _defined(world, world.submitted)
    client.force_login(world.leader)
    response = client.post(
        "/registers/bureau-a/2026/decide/", _decision_post(points=[world.submitted.pk], present=2, votes_for=3)
    )
    assert response.status_code == 200
    assert 'data-testid="decision-errors"' in response.content.decode()
    assert not Decision.objects.exists()


def _decision_post(*, points=(), present=2, votes_for=2, votes_against=0, abstaining=0) -> dict:
    return {
        "kind": "approval",
        "meeting": "党组会",
        "meeting_kind": "party_group",
        "held_on": TODAY().isoformat(),
        "participants": "周局长、孙副局长",
        "present": present,
        "votes_for": votes_for,
        "votes_against": votes_against,
        "votes_abstaining": abstaining,
        "decision": "同意",
        "points": list(points),
        "confirmed": "1",  # past the confirmation step (tests/test_register_workspace.py shows it)
    }


# --- defect 5: a re-publish may only extend the notice ----------------------------------------


def _in_notice(world, days=5) -> Register:
    register = _defined(world, world.submitted, world.finance_point)
    _decide(world, register, vote=Vote(2, 2, 0, 0), point_ids=[world.submitted.pk])
    registers.notice_publish(by=world.discipline, register=register, days=days)
    register.refresh_from_db()
    return register


def test_a_second_publish_may_not_shorten_a_running_notice(world):
    register = _in_notice(world, days=7)
    _decide(world, register, vote=Vote(2, 2, 0, 0), point_ids=[world.finance_point.pk])
    with pytest.raises(ValidationError) as refused:
        registers.notice_publish(by=world.discipline, register=register, days=5, reason="补充")
    assert "只能延长" in " ".join(refused.value.messages)
    register.refresh_from_db()
    assert register.notice_ends_on == TODAY() + datetime.timedelta(days=7)
    assert _states(world.finance_point) == {S.APPROVED}


def test_extending_a_running_notice_needs_a_reason_and_is_audited(world):
    register = _in_notice(world, days=5)
    started = register.notice_starts_on
    with pytest.raises(ValidationError):
        registers.notice_publish(by=world.discipline, register=register, days=9)
    registers.notice_publish(by=world.discipline, register=register, days=9, reason="收到意见，延长征求")
    register.refresh_from_db()
    assert register.notice_starts_on == started
    assert register.notice_ends_on == TODAY() + datetime.timedelta(days=9)
    entry = AuditEntry.objects.get(action="register.notice_extend")
    assert entry.changes["reason"] == "收到意见，延长征求"
    assert entry.changes["notice_ends_on"][1] == register.notice_ends_on.isoformat()


def test_shortening_from_the_register_page_says_why_in_chinese(world, client):
    register = _in_notice(world, days=7)
    client.force_login(world.discipline)
    response = client.post(
        "/registers/bureau-a/2026/publish/", {"days": 2, "reason": "x", "confirmed": "1"}, follow=True
    )
    assert "只能延长" in response.content.decode()
    register.refresh_from_db()
    assert register.notice_ends_on == TODAY() + datetime.timedelta(days=7)


# --- defect 7: every write that changes a point checks and bumps its version -----------------


def test_an_edit_bumps_the_version_and_a_stale_edit_writes_nothing(world):
    seen = world.draft.version
    risk_point_update(by=world.holder, risk_point=world.draft, fields={"severity": 1}, version=seen)
    world.draft.refresh_from_db()
    assert world.draft.version == seen + 1
    with pytest.raises(ValidationError) as refused:
        risk_point_update(by=world.holder, risk_point=world.draft, fields={"severity": 3}, version=seen)
    assert "已被他人修改" in " ".join(refused.value.messages)
    world.draft.refresh_from_db()
    assert world.draft.severity == 1 and world.draft.version == seen + 1


def test_the_edit_form_carries_the_version_and_refuses_a_stale_one(world, client):
    client.force_login(world.holder)
    page = client.get(f"/risks/{world.draft.pk}/edit/").content.decode()
    assert f'name="version" value="{world.draft.version}"' in page
    stale = world.draft.version
    risk_point_update(by=world.holder, risk_point=world.draft, fields={"description": "别人先改了"})
    response = client.post(f"/risks/{world.draft.pk}/edit/", {**_point_post(world, "我的修改"), "version": stale})
    assert response.status_code == 200
    assert "此风险点已被他人修改" in response.content.decode()
    world.draft.refresh_from_db()
    assert world.draft.description == "别人先改了"


def test_accepting_a_level_proposal_checks_and_bumps_the_version(world):
    point = world.submitted
    proposal = registers.level_proposal_create(
        by=world.discipline, risk_point=point, likelihood=3, severity=3, reason="多次被举报"
    )
    with pytest.raises(WorkflowConflict):
        registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True, version=point.version - 1)
    point.refresh_from_db()
    assert point.level.name == "二级"
    registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True, version=point.version)
    after = RiskPoint.objects.get(pk=point.pk)
    assert after.level.name == "一级" and after.version == point.version + 1


def _point_post(world, description: str) -> dict:
    return {
        "risk_type": world.risk_type.pk,
        "found_by": "self",
        "description": description,
        "likelihood": 2,
        "severity": 2,
        "controls-TOTAL_FORMS": 0,
        "controls-INITIAL_FORMS": 0,
        "controls-MIN_NUM_FORMS": 0,
        "controls-MAX_NUM_FORMS": 30,
    }


# --- defect 8: the scheduler acts as the system, not as a person ------------------------------


def test_the_scheduled_issue_is_recorded_as_the_system(world):
    register = _in_notice(world)
    Register.objects.filter(pk=register.pk).update(notice_ends_on=TODAY() - datetime.timedelta(days=1))
    assert registers.registers_issue_due() == 1
    entries = AuditEntry.objects.filter(action__in=("risk_point.issue", "register.issue"))
    assert entries.count() == 2
    assert {(e.actor_id, e.actor_kind) for e in entries} == {(None, ActorKind.SYSTEM)}
    assert _states(world.submitted) == {S.ISSUED}


def test_the_audit_log_shows_the_system_as_the_actor(world, client):
    register = _in_notice(world)
    Register.objects.filter(pk=register.pk).update(notice_ends_on=TODAY() - datetime.timedelta(days=1))
    registers.registers_issue_due()
    client.force_login(world.discipline)
    page = client.get("/audit/?action=register.issue").content.decode()
    assert "系统（定时任务）" in page


def test_a_person_issuing_is_recorded_as_that_person(world):
    register = _in_notice(world)
    registers.register_issue(by=world.discipline, register=register, today=TODAY() + datetime.timedelta(days=6))
    entry = AuditEntry.objects.get(action="register.issue")
    assert (entry.actor, entry.actor_kind) == (world.discipline, ActorKind.PERSON)


def test_only_the_issue_step_may_run_as_the_system(world):
    with pytest.raises(PermissionDenied):
        transition_apply(by=None, name="review", changes=[Change(point_id=world.submitted.pk)], system=True)
    assert _states(world.submitted) == {S.SUBMITTED}


# --- withdraw ---------------------------------------------------------------------------------


def test_the_holder_withdraws_a_submitted_point_until_the_department_acts(world):
    point = world.submitted
    with pytest.raises(PermissionDenied):
        transition_apply(by=world.head, name="withdraw", changes=[Change(point_id=point.pk)])
    [moved] = transition_apply(by=world.holder, name="withdraw", changes=[Change(point_id=point.pk)])
    assert moved.state == S.DRAFT
    assert AuditEntry.objects.filter(action="risk_point.withdraw", actor=world.holder, target_id=point.pk).exists()
    transition_apply(by=world.holder, name="submit", changes=[Change(point_id=point.pk)])
    transition_apply(by=world.head, name="review", changes=[Change(point_id=point.pk)])
    with pytest.raises(WorkflowConflict):  # the department has acted: too late to withdraw
        transition_apply(by=world.holder, name="withdraw", changes=[Change(point_id=point.pk)])
    assert _states(point) == {S.REVIEWED}


def test_withdraw_from_the_point_page(world, client):
    client.force_login(world.holder)
    page = client.get(f"/risks/{world.submitted.pk}/").content.decode()
    assert 'data-step="withdraw"' in page
    response = client.post(f"/risks/{world.submitted.pk}/step/withdraw/", {"version": world.submitted.version})
    assert response.status_code == 302
    assert _states(world.submitted) == {S.DRAFT}


# --- define with override ---------------------------------------------------------------------


def test_overriding_the_proposed_level_needs_a_reason(world):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    with pytest.raises(ValidationError):
        transition_apply(
            by=world.discipline, name="define", changes=[Change(point_id=world.submitted.pk, likelihood=3, severity=3)]
        )
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    assert (point.state, point.level.name) == (S.REVIEWED, "二级")
    transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=world.submitted.pk, likelihood=3, severity=3, reason="涉及大额资金")],
    )
    entry = AuditEntry.objects.get(action="risk_point.define", target_id=world.submitted.pk)
    assert entry.changes["override"] == {"level": ["二级", "一级"], "reason": "涉及大额资金"}


def test_defining_the_proposed_level_needs_no_reason(world):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    transition_apply(
        by=world.discipline, name="define", changes=[Change(point_id=world.submitted.pk, likelihood=2, severity=2)]
    )
    assert "override" not in AuditEntry.objects.get(action="risk_point.define").changes


def test_batch_define_with_override_and_reason(world, client):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    client.force_login(world.discipline)
    pk = world.submitted.pk
    post = {"point": [pk], f"version_{pk}": world.submitted.version, f"likelihood_{pk}": 3, f"severity_{pk}": 3}
    response = client.post("/registers/bureau-a/2026/batch/define/", post, follow=True)
    assert "请说明" in response.content.decode()
    assert _states(world.submitted) == {S.REVIEWED}
    response = client.post("/registers/bureau-a/2026/batch/define/", {**post, f"reason_{pk}": "涉及大额资金"})
    assert response.status_code == 302
    point = RiskPoint.objects.get(pk=pk)
    assert (point.state, point.level.name) == (S.DEFINED, "一级")
    page = client.get(f"/risks/{pk}/").content.decode()
    assert "涉及大额资金" in page


def test_the_version_diff_shows_an_override_and_its_reason(world, client):
    register = _defined(world, world.submitted)
    _decide(world, register, vote=Vote(2, 2, 0, 0))
    registers.notice_publish(by=world.discipline, register=register, days=1)
    registers.register_issue(by=world.discipline, register=register, today=TODAY() + datetime.timedelta(days=2))
    RiskPoint.objects.filter(institution=world.a).exclude(pk=world.submitted.pk).update(year=2025)
    v1 = registers.register_file(by=world.principal, register=register)
    transition_apply(by=world.discipline, name="revise", changes=[Change(point_id=world.submitted.pk)], reason="复查")
    for name in ("submit", "review"):
        transition_apply(
            by=world.holder if name == "submit" else world.head,
            name=name,
            changes=[Change(point_id=world.submitted.pk)],
        )
    transition_apply(
        by=world.discipline,
        name="define",
        changes=[Change(point_id=world.submitted.pk, likelihood=3, severity=3, reason="年内两次被举报")],
    )
    _decide(world, register, vote=Vote(2, 2, 0, 0))
    registers.notice_publish(by=world.discipline, register=register, days=1)
    registers.register_issue(by=world.discipline, register=register, today=TODAY() + datetime.timedelta(days=2))
    v2 = registers.register_file(by=world.principal, register=register)
    diff = registers.version_diff_explained(v1, v2)
    [changed] = diff["changed"]
    assert changed["fields"]["level"] == ["二级", "一级"]
    assert [(c["level"], c["reason"], c["override"]) for c in changed["level_changes"]] == [
        (["二级", "一级"], "年内两次被举报", True)
    ]
    client.force_login(world.superior)
    page = client.get(f"/versions/{v2.pk}/?against={v1.pk}").content.decode()
    assert 'data-testid="level-change"' in page and "年内两次被举报" in page
