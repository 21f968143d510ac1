"""The access module's read rules for the register's records, holdings, export jobs and the
cycle's own rows: who sees each object of the harness's scene, persona by persona."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from assessments import access as cycle_access
from assessments.models import Task
from positions.models import Holding
from risk_registry import access
from risk_registry.documents.selectors import export_jobs_of
from tests.harness import OVERSIGHT_A, PERSONAS, SEES_A, Scene

SEES_SUBMITTED = OVERSIGHT_A | {"holder", "head"}  # the submitted point on 审批岗


def seers(world, queryset_of, obj) -> set[str]:
    return {p for p in PERSONAS if queryset_of(getattr(world, p)).filter(pk=obj.pk).exists()}


@pytest.mark.parametrize(
    ("rule", "build", "expected"),
    [
        (access.registers_visible_to, lambda s: s.register, SEES_A),
        (access.versions_visible_to, lambda s: s.version, SEES_A),
        (access.notice_comments_visible_to, lambda s: s.comment, SEES_A),
        (access.level_proposals_visible_to, lambda s: s.proposal, SEES_SUBMITTED),
        (access.holdings_visible_to, lambda s: Holding.objects.get(position=s.w.position), SEES_A),
        (export_jobs_of, lambda s: s.job, {"discipline"}),
    ],
    ids=["registers", "versions", "comments", "proposals", "holdings", "export jobs"],
)
def test_who_sees_what(world, client, rule, build, expected):
    scene = Scene(world, None, client)
    try:
        assert seers(world, rule, build(scene)) == set(expected)
    finally:
        scene.close()


def test_own_tasks_and_notifications_are_their_owners_alone(world, client):
    scene = Scene(world, "holder2", client)
    notification = scene.unread
    task = Task.objects.filter(cycle=scene.cycle, owner=world.holder2).first()
    assert seers(world, cycle_access.notifications_of, notification) == {"holder2"}
    assert seers(world, cycle_access.own_tasks_of, task) == {"holder2"}


def test_nobody_signed_in_sees_nothing(world, client):
    anonymous = AnonymousUser()
    scene = Scene(world, None, client)
    scene.version, scene.comment, scene.proposal, scene.job  # noqa: B018 - built for the check
    try:
        for rule in (
            access.registers_visible_to,
            access.versions_visible_to,
            access.notice_comments_visible_to,
            access.level_proposals_visible_to,
            access.holdings_visible_to,
            export_jobs_of,
            cycle_access.notifications_of,
            cycle_access.own_tasks_of,
        ):
            assert not rule(anonymous).exists(), rule.__name__
    finally:
        scene.close()


# --- a point reopened for revision (修订中) --------------------------------------------------


def _reopened(world):
    """The world's submitted point of 审批岗 issued, then reopened by the discipline office."""
    from risk_registry.models import RiskPoint, RiskPointState
    from risk_registry.workflow.transitions import Change, transition_apply

    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.ISSUED)
    issued = seers(world, access.risk_points_visible_to, world.submitted)
    transition_apply(by=world.discipline, name="revise", changes=[Change(world.submitted.pk)], reason="年中复查")
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    assert point.state == RiskPointState.DRAFT and point.issued_before and point.under_revision
    return point, issued


def test_a_reopened_point_stays_in_sight_of_everyone_who_read_it_issued(world):
    point, issued = _reopened(world)
    assert issued == set(SEES_A)  # the issued register is open to the institution's staff
    assert seers(world, access.risk_points_visible_to, point) == issued
    # its controls, their revisions' reader set and its proposals follow the point
    control = point.controls.first()
    assert seers(world, access.controls_visible_to, control) == issued


def test_a_fresh_draft_stays_with_its_author_side(world):
    _reopened(world)
    assert seers(world, access.risk_points_visible_to, world.draft) == {"holder", "head"}
    assert seers(world, access.risk_points_visible_to, world.draft2) == {"holder2", "head"}
    assert not world.draft.issued_before


def test_the_office_reads_the_reopening_in_the_audit_log_but_no_draft_edit(world):
    from risk_registry.organisation.models import AuditEntry
    from risk_registry.services import risk_point_update

    point, _issued = _reopened(world)
    risk_point_update(by=world.holder, risk_point=point, fields={"description": "修订中的措辞"})
    entries = access.audit_entries_visible_to(world.discipline).filter(
        target_type="risk_registry.riskpoint", target_id=point.pk
    )
    actions = set(entries.values_list("action", flat=True))
    assert "risk_point.revise" in actions
    assert "risk_point.update" not in actions  # the reviser's working edits stay theirs
    assert AuditEntry.objects.filter(target_id=point.pk, action="risk_point.update", private=True).exists()
    fresh = access.audit_entries_visible_to(world.discipline).filter(
        target_type="risk_registry.riskpoint", target_id=world.draft.pk
    )
    assert not fresh.exists()


def test_the_issued_flag_is_kept_by_the_database_and_never_falls_back(world):
    from risk_registry.models import RiskPoint, RiskPointState

    stale = RiskPoint.objects.get(pk=world.submitted.pk)  # loaded before the issue: flag False
    RiskPoint.objects.filter(pk=stale.pk).update(state=RiskPointState.ISSUED)
    assert RiskPoint.objects.get(pk=stale.pk).issued_before
    stale.state = RiskPointState.DRAFT
    stale.save()  # writes issued_before=False from the stale instance
    assert RiskPoint.objects.get(pk=stale.pk).issued_before  # the trigger keeps it
    assert not RiskPoint.objects.get(pk=world.draft.pk).issued_before
