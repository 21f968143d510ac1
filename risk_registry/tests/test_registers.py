"""Register services: decisions, notice and comments, issue, filing, versions, re-grading, proposals."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from risk_registry.models import Decision, NoticeComment, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow import registers
from risk_registry.workflow.registers import Vote
from risk_registry.workflow.snapshots import content_hash
from risk_registry.workflow.transitions import Change, transition_apply


def _advance(world, *points, to: str):
    """Walk points through the real steps up to ``to`` (defined, approved, in_notice, issued)."""
    ids = [p.pk for p in points]
    RiskPoint.objects.filter(pk__in=ids).update(state=S.SUBMITTED)
    transition_apply(by=world.discipline, name="review", changes=[Change(point_id=i) for i in ids])
    transition_apply(by=world.discipline, name="define", changes=[Change(point_id=i) for i in ids])
    register = registers.register_for(institution=world.a, year=2026)
    if to == S.DEFINED:
        return register
    registers.register_decide(
        by=world.leader,
        register=register,
        kind=Decision.Kind.APPROVAL,
        meeting="局党组会议",
        held_on=timezone.localdate(),
        participants="周局长、孙副局长",
        decision="同意",
        vote=Vote(present=2, votes_for=2, against=0, abstaining=0),
    )
    if to == S.APPROVED:
        return register
    registers.notice_publish(by=world.discipline, register=register, days=5, allow_anonymous=True)
    register.refresh_from_db()
    if to == S.IN_NOTICE:
        return register
    registers.register_issue(
        by=world.discipline, register=register, today=timezone.localdate() + datetime.timedelta(days=6)
    )
    return register


@pytest.fixture
def a_points(world):
    """Bureau A's points, the drafts submitted by their holders: a register of five points."""
    points = [world.draft, world.submitted, world.draft2, world.finance_point, world.dept_draft]
    return points


def test_leadership_approves_a_register_in_one_decision(world, a_points):
    register = _advance(world, *a_points, to=S.APPROVED)
    decision = Decision.objects.get(register=register)
    assert set(decision.points.values_list("pk", flat=True)) == {p.pk for p in a_points}
    assert set(registers.register_points(register).values_list("state", flat=True)) == {S.APPROVED}
    assert AuditEntry.objects.filter(action="risk_point.approve").count() == 5
    assert AuditEntry.objects.filter(action="register.approve", target_id=register.pk).exists()


def test_only_leadership_approves(world, a_points):
    register = _advance(world, *a_points, to=S.DEFINED)
    with pytest.raises(PermissionDenied):
        registers.register_decide(
            by=world.discipline,
            register=register,
            kind=Decision.Kind.APPROVAL,
            meeting="x",
            held_on=timezone.localdate(),
            participants="钱纪检",
            decision="同意",
            vote=Vote(1, 1, 0, 0),
        )
    assert not Decision.objects.exists()


def test_a_decision_in_the_future_is_refused(world, a_points):
    register = _advance(world, *a_points, to=S.DEFINED)
    with pytest.raises(ValidationError):
        registers.register_decide(
            by=world.leader,
            register=register,
            kind=Decision.Kind.APPROVAL,
            meeting="x",
            held_on=timezone.localdate() + datetime.timedelta(days=1),
            participants="周局长、孙副局长",
            decision="同意",
            vote=Vote(2, 2, 0, 0),
        )


def test_notice_comments_and_answers(world, a_points):
    register = _advance(world, *a_points, to=S.IN_NOTICE)
    named = registers.notice_comment_add(
        by=world.holder3, register=register, text="建议提高等级", risk_point=world.submitted
    )
    anonymous = registers.notice_comment_add(by=world.holder2, register=register, text="匿名意见", anonymous=True)
    assert named.author == world.holder3
    assert anonymous.author is None
    assert AuditEntry.objects.get(action="notice_comment.create", target_id=anonymous.pk).actor is None
    with pytest.raises(PermissionDenied):  # staff of another institution
        registers.notice_comment_add(by=world.outsider_holder, register=register, text="外单位")
    registers.notice_comment_answer(by=world.discipline, comment=named, answer="已退回重新界定", send_back=True)
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.REVIEWED
    with pytest.raises(ValidationError):
        registers.notice_comment_answer(by=world.discipline, comment=named, answer="再答")


def test_anonymous_comments_need_the_institutions_consent(world, a_points):
    register = _advance(world, *a_points, to=S.APPROVED)
    registers.notice_publish(by=world.discipline, register=register, days=3, allow_anonymous=False)
    with pytest.raises(ValidationError):
        registers.notice_comment_add(by=world.holder, register=register, text="匿名", anonymous=True)
    assert not NoticeComment.objects.exists()


def test_issue_waits_for_the_end_of_the_notice(world, a_points):
    register = _advance(world, *a_points, to=S.IN_NOTICE)
    with pytest.raises(ValidationError):
        registers.register_issue(by=world.discipline, register=register)
    later = register.notice_ends_on + datetime.timedelta(days=1)
    assert registers.registers_issue_due(today=later) == 5
    assert registers.registers_issue_due(today=later) == 0  # idempotent
    assert set(registers.register_points(register).values_list("state", flat=True)) == {S.ISSUED}


def test_filed_version_never_changes_and_diff_is_right(world, a_points):
    register = _advance(world, *a_points, to=S.ISSUED)
    with pytest.raises(PermissionDenied):
        registers.register_file(by=world.leader, register=register)
    v1 = registers.register_file(by=world.principal, register=register)
    assert v1.number == 1 and v1.filed_with == world.county
    assert content_hash(v1.snapshot) == v1.content_hash
    assert len(v1.snapshot["points"]) == 5

    # Later edits: reopen one point, re-grade it, and walk it back to issued; remove none.
    transition_apply(by=world.discipline, name="revise", changes=[Change(point_id=world.draft2.pk)], reason="岗位调整")
    RiskPoint.objects.filter(pk=world.draft2.pk).update(description="复核流于形式,签字不审")
    _advance(world, RiskPoint.objects.get(pk=world.draft2.pk), to=S.ISSUED)
    v2 = registers.register_file(by=world.principal, register=register)

    stored = RegisterVersion.objects.get(pk=v1.pk)
    assert stored.content_hash == v1.content_hash == content_hash(stored.snapshot)
    assert v2.number == 2 and v2.content_hash != v1.content_hash
    diff = registers.version_diff(v1.snapshot, v2.snapshot)
    assert diff["added"] == [] and diff["removed"] == []
    assert [c["id"] for c in diff["changed"]] == [world.draft2.pk]
    assert diff["changed"][0]["fields"]["description"] == ["复核走过场", "复核流于形式,签字不审"]

    with pytest.raises(RuntimeError):
        stored.save()
    with pytest.raises(DatabaseError), transaction.atomic():  # the PostgreSQL trigger
        RegisterVersion.objects.filter(pk=v1.pk).update(content_hash="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        RegisterVersion.objects.filter(pk=v1.pk).delete()


def test_diff_lists_added_and_removed_points():
    older = {"points": [{"id": 1, "description": "a", "level": {"name": "一级"}, "controls": []}]}
    newer = {"points": [{"id": 2, "description": "b", "level": {"name": "二级"}, "controls": []}]}
    diff = registers.version_diff(older, newer)
    assert [p["id"] for p in diff["added"]] == [2]
    assert [p["id"] for p in diff["removed"]] == [1]
    assert diff["changed"] == []


def test_filing_refuses_an_unfinished_register(world, a_points):
    register = _advance(world, *a_points[:2], to=S.ISSUED)
    with pytest.raises(ValidationError):
        registers.register_file(by=world.principal, register=register)  # three points are still drafts
    assert not RegisterVersion.objects.exists()


def test_rotation_flags_points_for_regrading(world):
    from risk_registry.services import holding_end

    holding = world.position.holdings.get(user=world.holder)
    holding_end(holding=holding, ended_on=datetime.date(2026, 6, 30), by=world.discipline)
    flagged = set(RiskPoint.objects.filter(needs_regrading=True).values_list("pk", flat=True))
    assert flagged == {world.submitted.pk}  # the draft is still its author's: not flagged
    from risk_registry.workflow.inbox import to_regrade

    assert set(to_regrade(world.discipline).values_list("pk", flat=True)) == flagged
    # defining the level again clears the flag
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    transition_apply(by=world.discipline, name="define", changes=[Change(point_id=world.submitted.pk)])
    assert not RiskPoint.objects.get(pk=world.submitted.pk).needs_regrading


def test_changing_a_power_flags_the_points_of_its_positions(world):
    from risk_registry.services import power_item_update

    power_item_update(item=world.power, by=world.discipline, positions=[world.position])
    assert set(RiskPoint.objects.filter(needs_regrading=True).values_list("pk", flat=True)) == {world.submitted.pk}


def test_raising_a_level_goes_to_leadership(world):
    point = world.submitted  # 二级 under level-1-highest
    with pytest.raises(PermissionDenied):
        registers.level_proposal_create(by=world.head, risk_point=point, likelihood=3, severity=3, reason="多次被举报")
    with pytest.raises(ValidationError):  # not higher
        registers.level_proposal_create(by=world.discipline, risk_point=point, likelihood=1, severity=1, reason="x")
    proposal = registers.level_proposal_create(
        by=world.discipline, risk_point=point, likelihood=3, severity=3, reason="多次被举报"
    )
    with pytest.raises(PermissionDenied):
        registers.level_proposal_decide(by=world.discipline, proposal=proposal, accept=True)
    registers.level_proposal_decide(by=world.leader, proposal=proposal, accept=True, note="同意")
    point.refresh_from_db()
    assert point.level.name == "一级"
    assert AuditEntry.objects.get(action="level_proposal.accept").changes["level"] == ["二级", "一级"]


def test_the_scheduled_task_issues_due_registers(world, a_points):
    from risk_registry.workflow.tasks import registers_issue_due as task

    register = _advance(world, *a_points, to=S.IN_NOTICE)
    from risk_registry.models import Register

    Register.objects.filter(pk=register.pk).update(notice_ends_on=timezone.localdate() - datetime.timedelta(days=1))
    assert task.apply().get() == 5
    assert task.apply().get() == 0
    # The scheduler's entries name the system, not a person who did nothing (issue 9, defect 8).
    assert AuditEntry.objects.get(action="register.issue").actor_kind == "system"
    issued = AuditEntry.objects.filter(action="risk_point.issue")
    assert issued.count() == 5 and not issued.filter(actor__isnull=False).exists()


def test_democratic_appraisal_records_the_meeting_and_votes(world, a_points):
    register = _advance(world, *a_points, to=S.DEFINED)
    with pytest.raises(PermissionDenied):  # the discipline office records it, not leadership
        registers.register_decide(
            by=world.leader,
            register=register,
            kind=Decision.Kind.APPRAISAL,
            meeting="x",
            held_on=timezone.localdate(),
            participants="全体职工代表",
            decision="同意",
            vote=Vote(20, 20, 0, 0),
        )
    with pytest.raises(ValidationError):
        registers.register_decide(
            by=world.discipline,
            register=register,
            kind=Decision.Kind.APPRAISAL,
            meeting="民主评议会",
            held_on=timezone.localdate(),
            participants="全体职工代表",
            decision="同意",
            vote=Vote(20, -1, 0, 0),
        )
    decision = registers.register_decide(
        by=world.discipline,
        register=register,
        kind=Decision.Kind.APPRAISAL,
        meeting="民主评议会",
        held_on=timezone.localdate(),
        participants="全体职工代表",
        decision="同意所列等级",
        vote=Vote(26, 23, 1, 2),
    )
    assert (decision.votes_for, decision.votes_against, decision.votes_abstaining) == (23, 1, 2)
    assert set(registers.register_points(register).values_list("state", flat=True)) == {S.APPRAISED}
    # appraised points then go to leadership approval as usual
    registers.register_decide(
        by=world.principal,
        register=register,
        kind=Decision.Kind.APPROVAL,
        meeting="党组会",
        held_on=timezone.localdate(),
        participants="周局长、孙副局长",
        decision="同意",
        vote=Vote(2, 2, 0, 0),
    )
    assert set(registers.register_points(register).values_list("state", flat=True)) == {S.APPROVED}


def test_filing_sends_the_versions_pdf_to_be_rendered_once_after_the_commit(
    world, a_points, monkeypatch, django_capture_on_commit_callbacks
):
    from risk_registry.documents import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.filed_pdf_keep, "apply_async", lambda args, **options: sent.append(args[0]))
    register = _advance(world, *a_points, to=S.ISSUED)
    with django_capture_on_commit_callbacks(execute=True):
        version = registers.register_file(by=world.principal, register=register)
    assert sent == [version.pk]
