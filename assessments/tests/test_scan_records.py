"""The scan's records keep their keys without database constraints (scan3): no product path leaves a
task record whose task is gone, a notification whose recipient is gone, or a record or digest
naming a scan that is gone; what a write behind the product could leave, ``reconcile_stored``
counts and removes. The race of a delete with
a scan is in ``tests/test_deadline_scan_concurrency.py``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from assessments.models import Notification, ScanRun, Task, TaskNotice
from assessments.scan import deadline_scan
from assessments.tests.conftest import at

pytestmark = pytest.mark.django_db


def _no_constraint(table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
            WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s
            """,
            [table, column],
        )
        return cursor.fetchone()[0] == 0


def test_the_busy_day_keys_carry_no_database_check():
    for table, column in (
        ("assessments_tasknotice", "task_id"),
        ("assessments_tasknotice", "scan_id"),
        ("assessments_notification", "scan_id"),
        ("assessments_notification", "recipient_id"),
    ):
        assert _no_constraint(table, column), (table, column)


def _reported(world, cycle) -> Task:
    deadline_scan(now=at("2026-05-08"))  # holder2's self-check: supervised and reported at once
    mine = Task.objects.get(cycle=cycle, kind=Task.Kind.SELF_CHECK, owner=world.holder2)
    assert sorted(TaskNotice.objects.filter(task=mine).values_list("stage", flat=True)) == ["report", "supervise"]
    return mine


def test_a_cycle_deleted_takes_its_task_records_and_leaves_the_digests_sent(world, cycle):
    _reported(world, cycle)
    digests = Notification.objects.count()
    assert digests == 3  # holder2 and the head (supervise), the discipline office (report)
    cycle.delete()  # the admin's way: the ORM's cascade
    assert TaskNotice.objects.count() == 0
    assert Notification.objects.count() == digests  # news already sent stays the recipients'
    assert call_command_output("reconcile_stored").startswith(
        "task records whose task was gone: 0; notifications whose recipient was gone: 0; "
        "scan records whose scan was gone: 0"
    )


def test_a_task_deleted_in_the_admin_takes_its_records(world, cycle):
    mine = _reported(world, cycle)
    others = TaskNotice.objects.exclude(task=mine).count()
    mine.delete()
    assert not TaskNotice.objects.filter(task_id=mine.pk).exists()
    assert TaskNotice.objects.count() == others


def test_a_task_deleted_behind_the_orm_takes_its_records(world, cycle):
    """SQL by hand (or a bulk delete that skips the ORM's cascade): the trigger removes the records."""
    mine = _reported(world, cycle)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM assessments_task WHERE id = %s", [mine.pk])
    assert not TaskNotice.objects.filter(task_id=mine.pk).exists()


def test_a_scan_deleted_in_the_admin_leaves_its_records_and_digests_without_it(world, cycle):
    mine = _reported(world, cycle)
    scan = ScanRun.objects.get()
    scan.delete()
    assert list(TaskNotice.objects.filter(task=mine).values_list("scan_id", flat=True)) == [None, None]
    assert set(Notification.objects.values_list("scan_id", flat=True)) == {None}


def test_a_recipient_deleted_takes_their_notifications(world, cycle):
    _reported(world, cycle)
    head = world.head.pk
    assert Notification.objects.filter(recipient_id=head).count() == 1
    world.head.delete()  # the admin's way: the ORM's cascade
    assert not Notification.objects.filter(recipient_id=head).exists()
    lone = _lone_recipient()
    with connection.cursor() as cursor:  # behind the ORM: the trigger
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [lone.pk])
    assert not Notification.objects.filter(recipient_id=lone.pk).exists()


def _lone_recipient():
    """A user whom only a notification names (deleted by SQL below, which no other key refuses)."""
    lone = get_user_model().objects.create_user("lone")
    Notification.objects.create(recipient=lone, stage="remind", task_ids=[1], task_count=1, created_at=at("2026-05-08"))
    return lone


def test_reconcile_stored_removes_what_a_write_with_the_triggers_off_orphaned(world, cycle):
    mine = _reported(world, cycle)
    lone = _lone_recipient()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # a restore's or bulk load's way
        cursor.execute("DELETE FROM assessments_task WHERE id = %s", [mine.pk])
        cursor.execute("DELETE FROM assessments_scanrun")
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [lone.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert TaskNotice.objects.filter(task_id=mine.pk).count() == 2
    assert Notification.objects.filter(recipient_id=lone.pk).count() == 1
    assert call_command_output("reconcile_stored").startswith(
        "task records whose task was gone: 2; notifications whose recipient was gone: 1; "
        "scan records whose scan was gone: 3"
    )
    assert not TaskNotice.objects.filter(task_id=mine.pk).exists()
    assert not Notification.objects.filter(recipient_id=lone.pk).exists()
    assert set(Notification.objects.values_list("scan_id", flat=True)) == {None}


def call_command_output(name: str) -> str:
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue().strip()
