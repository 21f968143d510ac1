"""The deadline scan: the right reminders and escalations at each stage, each exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from assessments.models import Notification, Task, TaskNotice
from assessments.scan import deadline_scan, stages_due
from assessments.selectors import stage_label
from assessments.tests.conftest import at, more_self_checks, told
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2026, 4, 23), []),  # 8 days before
        (D(2026, 4, 24), ["remind-7"]),
        (D(2026, 4, 27), ["remind-7"]),
        (D(2026, 4, 30), ["remind-1"]),  # the nearest reminder only, even if the 7-day one was missed
        (D(2026, 5, 1), ["remind-1"]),  # due today
        (D(2026, 5, 2), ["supervise"]),
        (D(2026, 5, 7), ["supervise"]),
        (D(2026, 5, 8), ["supervise", "report"]),
    ],
)
def test_stages_due(today, expected):
    assert (
        stages_due(due_on=D(2026, 5, 1), today=today, reminder_days=[7, 1], supervisor_after=1, discipline_after=7)
        == expected
    )


@pytest.mark.parametrize(
    ("reminder_days", "grace_until"),
    [([7, 1], None), ([3, 0], None), ([], None), ([7, 1], D(2026, 5, 5))],
)
def test_the_scan_records_the_stages_that_stages_due_names(world, cycle, reminder_days, grace_until):
    """The scan computes stages in SQL; day by day (each scan rolled back, so every day is a first
    scan) it records exactly what ``stages_due`` says of holder2's self-check, due on 1 May."""
    cycle.reminder_days, cycle.grace_until, cycle.discipline_after_days = reminder_days, grace_until, 4
    cycle.save()
    mine = Task.objects.get(cycle=cycle, kind=Task.Kind.SELF_CHECK, owner=world.holder2)
    for day in range(20, 31 + 15):
        today = D(2026, 4, 1) + datetime.timedelta(days=day - 1)
        with transaction.atomic():
            deadline_scan(now=at(today.isoformat()))
            recorded = sorted(TaskNotice.objects.filter(task=mine).values_list("stage", flat=True))
            transaction.set_rollback(True)
        expected = stages_due(
            due_on=max(mine.due_on, grace_until or mine.due_on),
            today=today,
            reminder_days=reminder_days,
            supervisor_after=cycle.supervisor_after_days,
            discipline_after=4,
        )
        assert recorded == sorted(expected), today


def test_a_reported_task_is_read_no_more(world, cycle):
    """Once its 通报 is recorded a task can send nothing more: later scans do not read it."""
    assert deadline_scan(now=at("2026-05-02")).tasks_considered == 1  # holder2's self-check, supervised
    assert deadline_scan(now=at("2026-05-07")).tasks_considered == 1
    reported = deadline_scan(now=at("2026-05-08"))
    assert reported.tasks_considered == 1 and reported.task_notices == 1
    assert deadline_scan(now=at("2026-05-09")).tasks_considered == 0
    assert sorted(TaskNotice.objects.values_list("stage", flat=True)) == ["report", "supervise"]


def test_a_scan_holds_its_cycles_lock_until_its_transaction_ends(world, cycle):
    """The plain INSERT of the task records rests on it: a second scan of the cycle waits for the
    first to end, then sees what it recorded (the concurrency tests run them at once)."""

    def scan_locks() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT objid::integer FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND classid = %s::regclass::oid AND granted",
                ["assessments_cycle"],
            )
            return [row[0] for row in cursor.fetchall()]

    assert scan_locks() == []
    with transaction.atomic():
        deadline_scan(now=at("2026-05-02"))
        assert scan_locks() == [cycle.pk]
    # the test's own transaction is still open: the lock is the transaction's, kept to its end
    assert scan_locks() == [cycle.pk]


def sent(cycle) -> list[tuple[str, str, str]]:
    return told(task__cycle=cycle)


def test_each_stage_reaches_the_right_people_once(world, cycle):
    # Only holder2's self-check (复核岗, a draft only) is open; it is due on 1 May.
    deadline_scan(now=at("2026-04-24"))
    assert sent(cycle) == [("self_check", "holder2", "remind-7")]
    deadline_scan(now=at("2026-04-24", 15))
    deadline_scan(now=at("2026-04-27"))
    assert len(sent(cycle)) == 1

    deadline_scan(now=at("2026-04-30"))
    assert ("self_check", "holder2", "remind-1") in sent(cycle)

    deadline_scan(now=at("2026-05-02"))  # overdue: the owner and the department head
    assert [s for s in sent(cycle) if s[2] == "supervise"] == [
        ("self_check", "head", "supervise"),
        ("self_check", "holder2", "supervise"),
    ]
    deadline_scan(now=at("2026-05-08"))  # after the grace period: the discipline office
    assert [s for s in sent(cycle) if s[2] == "report"] == [("self_check", "discipline", "report")]
    total = len(sent(cycle))
    for day in ("2026-05-08", "2026-05-09", "2026-05-20"):
        deadline_scan(now=at(day))
    assert len(sent(cycle)) == total  # nothing twice; the department reviews are due on 31 May, not yet near


def test_a_missed_week_sends_only_the_nearest_reminder(world, cycle):
    deadline_scan(now=at("2026-04-30"))
    assert sent(cycle) == [("self_check", "holder2", "remind-1")]


def test_done_tasks_are_not_reminded(world, cycle):
    RiskPoint.objects.filter(pk=world.draft2.pk).update(state=RiskPointState.SUBMITTED)
    deadline_scan(now=at("2026-04-30"))
    assert sent(cycle) == []


def test_tasks_without_department_escalate_to_the_leader_in_charge(world, cycle):
    # The register's definition is the discipline office's; overdue, the leadership is told.
    due = Task.objects.get(cycle=cycle, kind=Task.Kind.REGISTER_DEFINE).due_on
    deadline_scan(now=at((due + datetime.timedelta(days=1)).isoformat()))
    define = [s for s in sent(cycle) if s[0] == "register_define"]
    assert define == [
        ("register_define", "discipline", "supervise"),
        ("register_define", "leader", "supervise"),
        ("register_define", "principal", "supervise"),
    ]
    deadline_scan(now=at((due + datetime.timedelta(days=7)).isoformat()))
    # The owner is the institution's discipline office: the report goes to the one above (the county's).
    assert ("register_define", "superior", "report") in sent(cycle)


def test_e_mails_go_out_once_through_the_backend(world, cycle):
    world.holder2.email = "holder2@example.gov"
    world.holder2.save()
    call_command("run_deadline_scan", "--now", "2026-04-24T09:00")
    call_command("run_deadline_scan", "--now", "2026-04-24T10:00")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["holder2@example.gov"]
    assert "复核岗" in mail.outbox[0].subject
    assert Notification.objects.get().email_status == Notification.Email.SENT


def test_command_prints_what_it_sent(world, cycle, capsys):
    call_command("run_deadline_scan", "--now", "2026-05-02")
    out = capsys.readouterr().out
    # in the site's language (Chinese): the stage as the recipient reads it, and deadlines, not "tasks"
    assert "已逾期1天（截止 2026年5月1日）：已告知上级负责人 → head (赵科长)" in out
    assert "已逾期1天（截止 2026年5月1日）：已告知上级负责人 → holder2 (李复核)" in out
    assert "临近或已过截止日期的期限1个（年度任务1个，预警通知书等其他功能的期限0个），发出通知2条" in out


def test_query_count_does_not_grow_with_the_number_of_tasks(world, cycle):
    def scan_queries(day: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            deadline_scan(now=at(day))
        return len(captured)

    small = scan_queries("2026-04-24")
    more_self_checks(world, cycle, 40, owner=world.holder)
    large = scan_queries("2026-04-25")
    assert TaskNotice.objects.filter(stage="remind-7").count() == 41
    mine = Notification.objects.filter(recipient=world.holder, stage="remind")
    assert list(mine.values_list("task_count", flat=True)) == [40]  # one digest, not 40 notifications
    assert large == small, f"{small} queries with one due task, {large} with 41"


@pytest.mark.parametrize(
    ("stage", "due", "today", "expected"),
    [
        # the stage was "remind-7" but the task is due in 3 days: the notice says 3, with the date
        ("remind-7", D(2026, 12, 9), D(2026, 12, 6), "截止 2026年12月9日（还剩3天）"),
        ("remind-30", D(2026, 5, 23), D(2026, 5, 1), "截止 2026年5月23日（还剩22天）"),
        ("remind-0", D(2026, 5, 1), D(2026, 5, 1), "今天截止（2026年5月1日）"),
        ("remind-1", D(2026, 5, 1), D(2026, 5, 3), "已逾期2天（截止 2026年5月1日）"),
        ("supervise", D(2026, 5, 1), D(2026, 5, 2), "已逾期1天（截止 2026年5月1日）：已告知上级负责人"),
        ("report", D(2026, 5, 1), D(2026, 5, 9), "已逾期8天（截止 2026年5月1日）：已报告纪检部门"),
        ("notice", D(2026, 5, 20), D(2026, 5, 1), "新通知：请于2026年5月20日前回告"),
    ],
)
def test_a_notice_says_the_real_due_date_and_days_left(stage, due, today, expected):
    with translation.override("zh-hans"):
        assert stage_label(stage, due_on=due, today=today) == expected


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("supervise", "书面回告逾期1天未收到（截止 2026年5月1日）：已告知回告人的上级负责人"),
        ("report", "书面回告逾期1天未收到（截止 2026年5月1日）：已报告纪检部门"),
    ],
)
def test_a_written_report_deadline_says_whose_report_is_late_and_who_is_told(stage, expected):
    with translation.override("zh-hans"):
        assert stage_label(stage, due_on=D(2026, 5, 1), today=D(2026, 5, 2), written_report=True) == expected


def test_supervise_records_list_their_recipients_sorted_and_once(world, cycle):
    # holder (审批岗) becomes a second head of 审批科, and its leadership as well (the role twice
    # over): holder2's overdue self-check tells both heads and holder2, whose id falls between theirs.
    from risk_registry.organisation.models import Membership, Role

    head = Membership.objects.get(user=world.head, role=Role.DEPT_HEAD)
    Membership.objects.create(
        user=world.holder, institution=head.institution, role=Role.DEPT_HEAD, department=head.department
    )
    Membership.objects.create(user=world.holder, institution=head.institution, role=Role.LEADERSHIP)
    assert world.holder.pk < world.holder2.pk < world.head.pk

    deadline_scan(now=at("2026-05-02"))

    record = TaskNotice.objects.get(task__cycle=cycle, stage="supervise", task__owner=world.holder2)
    assert record.recipients == [world.holder.pk, world.holder2.pk, world.head.pk]
    assert [s for s in sent(cycle) if s[2] == "supervise"] == [
        ("self_check", "head", "supervise"),
        ("self_check", "holder", "supervise"),
        ("self_check", "holder2", "supervise"),
    ]


def test_a_stage_with_nobody_to_tell_is_neither_recorded_nor_counted(world, cycle):
    """The scan counts the stages it recorded from the rows it inserted them from (its records
    return nothing): a reminder of a task without an owner tells nobody, so it is no record and
    no count; its 督导 tells the department head alone."""
    Task.objects.filter(cycle=cycle, done=False).update(owner=None)
    reminded = deadline_scan(now=at("2026-04-24"))
    assert reminded.tasks_considered == 1
    assert reminded.task_notices == 0 == TaskNotice.objects.count()
    supervised = deadline_scan(now=at("2026-05-02"))
    records = TaskNotice.objects.filter(scan_id=supervised.scan_id)
    assert supervised.task_notices == 1 == records.count()
    assert list(records.values_list("stage", "recipients")) == [("supervise", [world.head.pk])]
