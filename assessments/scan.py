"""The deadline scan: one short pass over the open tasks near or past their due date, as of a moment.

First it reconciles the stored completion (``assessments.completion.tasks_reconcile``, one UPDATE:
the tasks near or past their due date, and a twelfth of the other open tasks of the running
cycles), so a task changed behind the services is right again before anyone is reminded of it.
For each open task (``done`` false) of a running cycle it then decides the stage it has reached
and who must hear of it:

- 提醒 ``remind-<d>``: ``d`` days before the due date (each of the cycle's ``reminder_days``), the
  owner. Only the nearest stage is sent: a scan that missed the 7-day reminder (the broker was
  down) and runs one day before the due date sends the 1-day reminder, once, not both;
- 督导 ``supervise``: ``supervisor_after_days`` after it, the owner and the supervisor — the
  department head, or for a task with no department (or the head's own) the institution's
  leadership (the leader in charge), or failing both the discipline office;
- 通报 ``report``: ``discipline_after_days`` after it, the discipline office of the institution, or
  the nearest one above it.

A cycle launched late (confirmed, ``Cycle.grace_until``) counts every task as due no earlier than
the end of its grace period, so its past deadlines fire no burst of reminders and escalations.

Exactly once, and one message per person: every stage a task reaches is recorded once, with the
people told, as a ``TaskNotice`` under its unique (task, stage) with ``ON CONFLICT DO NOTHING``; a
second scan, a concurrent one in another process, or a retried task records nothing new. From the
records this scan won (``RETURNING``), each recipient gets one digest per kind of stage (提醒
``remind``, 督导 ``supervise``, 通报 ``report``): a ``Notification`` that lists the tasks, most
urgent first, at most ``RISK_REGISTRY_DIGEST_TASKS`` of them, and counts them all. The busiest day
(a province's first scan with half its tasks overdue) thus writes one row per task stage and one
per person, in statements of at most ``SCAN_BATCH`` rows each, never one giant INSERT.

Other features' deadlines (``risk_registry.workflow.deadlines``: the warning ledger's 限时回告) go
through the same stages and recipients, each source with its own days, one notification per
deadline (a notice is a document its recipient answers, issued one at a time): see ``_scan_sources``.

A fixed number of queries plus one INSERT per batch, whatever the number of tasks: the cycles,
the reconciliation (one UPDATE), the candidate tasks with the stages already recorded (one query
over the stored completion), the memberships of the people to tell, the task notices and the
digests (``INSERT … SELECT FROM unnest(arrays)``, batched), the rows it created, and the scan's own
row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from assessments.completion import tasks_reconcile
from assessments.models import Cycle, Notification, ScanRun, Task, TaskNotice
from risk_registry.organisation.models import Membership, Role
from risk_registry.organisation.paths import path_ids
from risk_registry.workflow import deadlines

SUPERVISE = "supervise"
REPORT = "report"
REMIND = "remind"  # the kind of every remind-<d> stage: one digest of a person's reminders
SCAN_BATCH = 5000  # rows per INSERT: the busiest day's hundreds of thousands go in bounded statements


def remind_stage(days: int) -> str:
    return f"remind-{days}"


def digest_kind(stage: str) -> str:
    """The kind of stage a digest gathers: every reminder is a reminder, whatever its distance."""
    return REMIND if stage.startswith(f"{REMIND}-") else stage


def stages_due(
    *, due_on: datetime.date, today: datetime.date, reminder_days, supervisor_after: int, discipline_after: int
) -> list[str]:
    """The stages an open task due on ``due_on`` has reached on ``today`` (see the module docstring)."""
    days_left = (due_on - today).days
    if days_left >= 0:
        eligible = [day for day in reminder_days if day >= days_left]
        return [remind_stage(min(eligible))] if eligible else []
    overdue = -days_left
    stages = []
    if overdue >= supervisor_after:
        stages.append(SUPERVISE)
    if overdue >= discipline_after:
        stages.append(REPORT)
    return stages


@dataclass
class ScanResult:
    scan_id: int
    as_of: datetime.datetime
    today: datetime.date
    considered: int  # deadlines near or past due: the cycle's tasks and every other source's
    created: list[int] = field(default_factory=list)  # ids of the notifications this scan inserted
    task_notices: int = 0  # task stages this scan recorded (listed in ``created``'s digests)
    cycles_to_generate: list[int] = field(default_factory=list)
    tasks_considered: int = 0  # of ``considered``, the cycle's tasks
    reconciled: int = 0  # tasks whose stored completion was stale and was set right by this scan


class _People:
    """Supervisors and discipline offices of the candidate tasks, from one membership query."""

    def __init__(self, memberships) -> None:
        self.heads: dict[int, set[int]] = defaultdict(set)
        self.leaders: dict[int, set[int]] = defaultdict(set)
        self.discipline: dict[int, set[int]] = defaultdict(set)
        for m in memberships:
            if m["role"] == Role.DEPT_HEAD:
                self.heads[m["department_id"]].add(m["user_id"])
            elif m["role"] in (Role.LEADERSHIP, Role.PRINCIPAL):
                self.leaders[m["institution_id"]].add(m["user_id"])
            else:
                self.discipline[m["institution_id"]].add(m["user_id"])

    def discipline_for(self, path: str, owner: int | None) -> set[int]:
        for pk in reversed(path_ids(path)):
            users = self.discipline.get(pk, set()) - {owner}
            if users:
                return users
        return set()

    def supervisors_for(self, task: Mapping[str, Any]) -> set[int]:
        owner = task["owner_id"]
        users = self.heads.get(task["department_id"], set()) - {owner}
        if not users:
            users = self.leaders.get(task["institution_id"], set()) - {owner}
        if not users:
            users = self.discipline_for(task["institution__path"], owner)
        return users


def _recipients(stage: str, task: Mapping[str, Any], people: _People) -> set[int]:
    owner = task["owner_id"]
    if stage == SUPERVISE:
        return people.supervisors_for(task) | ({owner} if owner else set())
    if stage == REPORT:
        return people.discipline_for(task["institution__path"], owner)
    return {owner} if owner else set()


def _batches(rows: Sequence[tuple], size: int | None = None) -> list[Sequence[tuple]]:
    size = size or SCAN_BATCH
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _array(values: Sequence[int]) -> str:
    """A PostgreSQL array literal of ids ({1,2,3}): an array per row passes through unnest as text."""
    return "{" + ",".join(map(str, values)) + "}"


def _record(due: Sequence[tuple[int, str, tuple[int, ...]]], scan: ScanRun) -> list[tuple[int, str]]:
    """Insert the task notices (task, stage, recipients) that do not exist yet, ``SCAN_BATCH`` a
    statement, in (task, stage) order (two scans at once then wait for each other row by row
    instead of deadlocking); return the (task, stage) this scan inserted: only those are sent."""
    table = TaskNotice._meta.db_table
    won: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for batch in _batches(sorted(due)):
            tasks, stages, recipients = zip(*batch, strict=True)
            cursor.execute(
                f"""
                INSERT INTO {table} (task_id, stage, scan_id, recipients)
                SELECT t, s, %s, r::bigint[] FROM unnest(%s::bigint[], %s::varchar[], %s::text[]) AS x(t, s, r)
                ON CONFLICT (task_id, stage) DO NOTHING
                RETURNING task_id, stage
                """,  # noqa: S608 - the table name is the model's, every value is a parameter
                [scan.pk, list(tasks), list(stages), [_array(r) for r in recipients]],
            )
            won.extend(cursor.fetchall())
    return won


def _digest(
    won: Sequence[tuple[int, str]],
    due: Sequence[tuple[int, str, tuple[int, ...]]],
    due_on: Mapping[int, datetime.date],
    scan: ScanRun,
    now: datetime.datetime,
) -> None:
    """One notification per recipient and kind of stage, listing the tasks most urgent first (by
    due date, then id), at most ``RISK_REGISTRY_DIGEST_TASKS`` of them, counting them all."""
    recipients = {(task, stage): people for task, stage, people in due}
    grouped: dict[tuple[int, str], list[tuple[datetime.date, int]]] = defaultdict(list)
    for task, stage in won:
        for recipient in recipients[(task, stage)]:
            grouped[(recipient, digest_kind(stage))].append((due_on[task], task))
    bound = settings.RISK_REGISTRY_DIGEST_TASKS
    rows = [
        (recipient, kind, _array([task for _due, task in sorted(tasks)[:bound]]), len(tasks))
        for (recipient, kind), tasks in sorted(grouped.items())
    ]
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            cursor.execute(
                f"""
                INSERT INTO {table} (recipient_id, stage, task_ids, task_count, source, scan_id, created_at,
                                     email_status, email_attempts, email_error)
                SELECT r, s, t::bigint[], c, '', %s, %s, %s, 0, ''
                FROM unnest(%s::bigint[], %s::varchar[], %s::text[], %s::integer[]) AS x(r, s, t, c)
                """,  # noqa: S608 - the table name is the model's, every value is a parameter
                [scan.pk, now, Notification.Email.PENDING, *map(list, zip(*batch, strict=True))],
            )


def _candidates(cycles: Sequence[Mapping[str, Any]], today: datetime.date) -> Q:
    parts = Q(pk__in=[])
    for cycle in cycles:
        horizon = today + datetime.timedelta(days=max(cycle["reminder_days"] or [0]))
        parts |= Q(cycle_id=cycle["id"], due_on__lte=horizon)
    return parts


@transaction.atomic
def deadline_scan(*, now: datetime.datetime | None = None, cycle_ids=None) -> ScanResult:
    """Run one scan as of ``now`` (default: the current time); return what it created."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    cycles_qs = Cycle.objects.filter(state=Cycle.State.RUNNING)
    if cycle_ids is not None:
        cycles_qs = cycles_qs.filter(pk__in=list(cycle_ids))
    cycles = list(
        cycles_qs.values(
            "id",
            "reminder_days",
            "supervisor_after_days",
            "discipline_after_days",
            "tasks_generated_at",
            "grace_until",
        )
    )
    scan = ScanRun.objects.create(as_of=now)
    by_id = {cycle["id"]: cycle for cycle in cycles}
    window = _candidates(cycles, today)
    reported = TaskNotice.objects.filter(task_id=OuterRef("pk"), stage=REPORT)
    reconciled = tasks_reconcile(cycle_ids=list(by_id), window=window, turn=scan.pk)
    tasks = list(
        Task.objects.filter(window, done=False)
        .exclude(Exists(reported))
        .annotate(sent=ArraySubquery(TaskNotice.objects.filter(task_id=OuterRef("pk")).values("stage")))
        .values("id", "cycle_id", "due_on", "owner_id", "institution_id", "department_id", "institution__path", "sent")
    )
    due = _notices_due(tasks, cycles=by_id, today=today, people=_people_for(tasks))
    won = _record(due, scan)
    _digest(won, due, {task["id"]: task["due_on"] for task in tasks}, scan, timezone.now())  # created now
    considered = len(tasks) + _scan_sources(scan, today)
    created = list(Notification.objects.filter(scan=scan).order_by("id").values_list("id", flat=True))
    ScanRun.objects.filter(pk=scan.pk).update(
        finished_at=timezone.now(), tasks_considered=considered, notifications_created=len(created)
    )
    return ScanResult(
        scan_id=scan.pk,
        as_of=now,
        today=today,
        considered=considered,
        tasks_considered=len(tasks),
        created=created,
        task_notices=len(won),
        cycles_to_generate=[cycle["id"] for cycle in cycles if _needs_generation(cycle, now)],
        reconciled=reconciled,
    )


def _people_for(tasks: Sequence[Mapping[str, Any]]) -> _People:
    """Everyone the tasks' notices may go to, in one query: heads of their departments, leaders
    of their institutions, discipline and superior offices on their paths."""
    departments = {t["department_id"] for t in tasks if t["department_id"]}
    institutions = {t["institution_id"] for t in tasks}
    ancestors = {pk for t in tasks for pk in path_ids(t["institution__path"])}
    return _People(
        Membership.objects.filter(
            Q(role=Role.DEPT_HEAD, department_id__in=departments)
            | Q(role__in=(Role.LEADERSHIP, Role.PRINCIPAL), institution_id__in=institutions)
            | Q(role__in=(Role.DISCIPLINE, Role.SUPERIOR), institution_id__in=ancestors)
        ).values("user_id", "role", "institution_id", "department_id")
    )


def _notices_due(
    tasks: Sequence[Mapping[str, Any]],
    *,
    cycles: Mapping[int, Mapping[str, Any]],
    today: datetime.date,
    people: _People,
) -> list[tuple[int, str, tuple[int, ...]]]:
    """(task, stage, recipients) of every stage reached today and not recorded before (``sent``:
    the stages the task's notices already hold); a stage nobody can be told of is left for later."""
    rows = []
    for task in tasks:
        cycle = cycles[task["cycle_id"]]
        grace_until = cycle["grace_until"]  # a confirmed late launch: nothing is due before it
        for stage in stages_due(
            due_on=max(task["due_on"], grace_until) if grace_until else task["due_on"],
            today=today,
            reminder_days=cycle["reminder_days"],
            supervisor_after=cycle["supervisor_after_days"],
            discipline_after=cycle["discipline_after_days"],
        ):
            if stage in task["sent"]:
                continue
            recipients = _recipients(stage, task, people)
            if recipients:
                rows.append((task["id"], stage, tuple(sorted(recipients))))
    return rows


def _scan_sources(scan: ScanRun, today: datetime.date) -> int:
    """The registered deadline sources' notices due today, inserted like the tasks' (exactly once
    under their unique key); a source that announces also tells the owner as soon as a deadline
    opens. Four queries per source: its deadlines, their notices, the people, the insert."""
    considered = 0
    for source in deadlines.sources():
        open_now = source.open_deadlines(today=today)
        considered += len(open_now)
        if not open_now:
            continue
        sent = set(
            Notification.objects.filter(source=source.name, object_id__in=[d.key for d in open_now]).values_list(
                "object_id", "due_on", "recipient_id", "stage"
            )
        )
        as_tasks: list[dict[str, Any]] = [
            {
                "id": d.key,
                "due_on": d.due_on,
                "owner_id": d.owner_id,
                "institution_id": d.institution_id,
                "department_id": d.department_id,
                "institution__path": d.institution_path,
            }
            for d in open_now
        ]
        people = _people_for(as_tasks)
        rows = []
        for task in as_tasks:
            stages = stages_due(
                due_on=task["due_on"],
                today=today,
                reminder_days=source.reminder_days,
                supervisor_after=source.supervisor_after_days,
                discipline_after=source.discipline_after_days,
            )
            if source.announce and task["owner_id"]:
                stages.insert(0, deadlines.NOTICE)
            for stage in stages:
                recipients = {task["owner_id"]} if stage == deadlines.NOTICE else _recipients(stage, task, people)
                for recipient in sorted(recipients):
                    if (task["id"], task["due_on"], recipient, stage) not in sent:
                        rows.append((task["id"], task["due_on"], recipient, stage))
        _insert_from_source(source.name, rows, scan, timezone.now())
    return considered


def _insert_from_source(
    name: str, rows: list[tuple[int, datetime.date, int, str]], scan: ScanRun, now: datetime.datetime
) -> None:
    """One notification per deadline, stage and recipient, skipping those that exist, ``SCAN_BATCH``
    a statement."""
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            cursor.execute(
                f"""
                INSERT INTO {table} (source, object_id, due_on, recipient_id, stage, scan_id, created_at,
                                     email_status, email_attempts, email_error, task_ids, task_count)
                SELECT %s, o, d, r, s, %s, %s, %s, 0, '', '{{}}', 0
                FROM unnest(%s::bigint[], %s::date[], %s::bigint[], %s::varchar[]) AS x(o, d, r, s)
                ON CONFLICT DO NOTHING
                """,  # noqa: S608 - the table name is the model's, every value is a parameter
                [name, scan.pk, now, Notification.Email.PENDING, *map(list, zip(*batch, strict=True))],
            )


def _needs_generation(cycle: Mapping[str, Any], now: datetime.datetime) -> bool:
    """Never generated (the message was lost), or generated long enough ago that holders,
    departments and approved controls may have changed since."""
    generated = cycle["tasks_generated_at"]
    return generated is None or now - generated > datetime.timedelta(
        hours=settings.RISK_REGISTRY_CYCLE_REGENERATE_HOURS
    )


def cycles_needing_generation(*, now: datetime.datetime) -> list[int]:
    cycles = Cycle.objects.filter(state=Cycle.State.RUNNING).values("id", "tasks_generated_at")
    return [cycle["id"] for cycle in cycles if _needs_generation(cycle, now)]
