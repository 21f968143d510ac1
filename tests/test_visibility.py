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
