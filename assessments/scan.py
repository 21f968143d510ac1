"""The deadline scan: one short pass over the open tasks near or past their due date, as of a moment.

First it reconciles the stored completion (``assessments.completion.tasks_reconcile``, one UPDATE:
the open tasks near or past their due date and not yet reported, the done ones not yet due, and
a twelfth of the other open tasks of the running cycles and of the window's overdue done ones),
so a task changed behind the services is right again before anyone is reminded of it.
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
people told, as a ``TaskNotice`` (unique per task and stage). A scan holds a lock per cycle
(``_lock_cycles``) for its transaction, so a second scan, a concurrent one in another process, or a
retried task runs after it, sees what it recorded and records nothing new. From the records this
scan inserted, each recipient gets one digest per kind of stage (提醒
``remind``, 督导 ``supervise``, 通报 ``report``): a ``Notification`` that lists the tasks, most
urgent first, at most ``RISK_REGISTRY_DIGEST_TASKS`` of them, and counts them all. All of it is
one SQL statement (``SCAN_SQL``) over the candidate tasks: the busiest day (a province's first
scan with half its tasks overdue: 417,000 task records, 163,000 digests) sends no row to Python
and back. A task whose 通报 is recorded can send nothing more: the scan's window leaves it out.

Other features' deadlines (``risk_registry.workflow.deadlines``: the warning ledger's 限时回告) go
through the same stages and recipients, each source with its own days, one notification per
deadline (a notice is a document its recipient answers, issued one at a time): see ``_scan_sources``.

A fixed number of queries, whatever the number of tasks: the cycles, their locks, the scan's row,
the reconciliation (one UPDATE), ``SCAN_SQL``, the deadline sources' own, the
ids of the rows it created, and the scan's row again.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from assessments.completion import tasks_reconcile
from assessments.models import Cycle, Notification, ScanRun, Task, TaskNotice
from risk_registry.organisation.models import Institution, Membership, Role
from risk_registry.organisation.paths import path_ids, path_ids_sql
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


# One statement records every stage the window's tasks reached and writes the digests: the rows
# never travel to Python. Its parts, in order:
# - ``candidate``: the window's open tasks not yet reported (the ORM's query, its SQL embedded);
# - ``reached``: each stage reached today (``stages_due`` in SQL: the cycle's reminder days, its
#   escalation days, its grace) and ``fresh``: those not recorded yet;
# - ``heads``, ``leaders``: the people in charge, a sorted array per department or institution;
#   ``chain``: the discipline and superior offices on the path of each institution that escalates,
#   ``nearest``: the nearest one, and ``alone``: where that office is one person, the nearest one
#   above with someone else in it, for a task that person owns (``_People.discipline_for`` in SQL;
#   from the offices alone, not from every escalating stage);
# - ``told``: each fresh stage with its recipients (``_recipients`` in SQL), sorted and each once: the
#   people in charge come sorted and distinct from their arrays, and the owner of a 督导 is put before
#   or after them by two comparisons, sorted in with them only when it falls in between (rare: a
#   subquery per task for all 206,000 of the busiest day's cost more than their grouping). The
#   inner query that chooses them ends in ``OFFSET 0``, which keeps PostgreSQL from merging it into
#   the outer one: merged, each of the outer ``CASE``'s up to seven mentions of ``others`` was the
#   whole inner ``CASE`` again, its arrays built anew each time (scan5: 0.1 s of the busiest day);
# - ``won``: the task notices, a plain INSERT: the scan holds its cycles' lock (``_lock_cycles``),
#   so no other scan records a stage of these tasks between this statement's snapshot and its
#   end, and ``fresh`` already left out what earlier scans recorded. The unique (task, stage)
#   stays, a guard: a stage recorded twice would be an error (the scan retried), never a second
#   message. It returns nothing: the statement counts the records from ``told`` (the same rows,
#   the same filter), and PostgreSQL runs a data-modifying CTE that nothing reads to its end after
#   the main query, from ``told`` stored whole. Read by a count (``RETURNING``), it ran row by row
#   interleaved with ``told``'s joins and stored 417,000 returned ids: 0.2-0.3 s more of the
#   busiest day's scan (scan5, docs/performance.md). ``digest`` returns nothing either;
# - ``digest``: one notification per recipient and kind of stage from the same rows (``told``),
#   its tasks most urgent first (due date, then id), at most the bound listed, all counted: one sort
#   of the rows by recipient, kind, due date and id feeds the grouping (an aggregate's own ORDER BY
#   sorts each of the 163,000 groups again on PostgreSQL 15). Each digest's recipient is locked as
#   a foreign key's check would lock them at commit (``FOR KEY SHARE``; a user deleted meanwhile is
#   left out, or their delete waits and then removes their digests: migration 0014's trigger), by
#   one index probe per digest in recipient order, the grouping's own order: a person's second
#   and third digest find the lock already theirs. (Before scan5: a set of the 623,000 rows'
#   recipients made distinct by hashing, joined to every user, locked, then sorted and joined to
#   the digests, about 0.3 s more of the busiest day's scan.)
SCAN_SQL = """
WITH candidate (id, cycle_id, due_on, owner_id, institution_id, department_id) AS MATERIALIZED ({candidates}),
due AS (
    SELECT t.*, GREATEST(t.due_on, c.grace_until) - %(today)s::date AS days_left,
           c.reminder_days, c.supervisor_after_days, c.discipline_after_days
    FROM candidate t JOIN {cycles} c ON c.id = t.cycle_id
),
reached (task_id, stage, due_on, owner_id, institution_id, department_id) AS (
    SELECT id, %(remind)s || '-' || (
               SELECT min(day::integer) FROM jsonb_array_elements_text(reminder_days) AS day
               WHERE day::integer >= days_left
           ), due_on, owner_id, institution_id, department_id
    FROM due WHERE days_left >= 0
    UNION ALL
    SELECT id, %(supervise)s, due_on, owner_id, institution_id, department_id
    FROM due WHERE days_left < 0 AND -days_left >= supervisor_after_days
    UNION ALL
    SELECT id, %(report)s, due_on, owner_id, institution_id, department_id
    FROM due WHERE days_left < 0 AND -days_left >= discipline_after_days
),
fresh AS MATERIALIZED (
    SELECT r.* FROM reached r
    WHERE r.stage IS NOT NULL
      AND NOT EXISTS (SELECT FROM {notices} n WHERE n.task_id = r.task_id AND n.stage = r.stage)
),
heads AS (
    SELECT department_id, array_agg(DISTINCT user_id ORDER BY user_id) AS users FROM {members}
    WHERE role = %(head)s AND department_id IN (SELECT department_id FROM fresh) GROUP BY department_id
),
leaders AS (
    SELECT institution_id, array_agg(DISTINCT user_id ORDER BY user_id) AS users FROM {members}
    WHERE role = ANY(%(leaders)s) AND institution_id IN (SELECT institution_id FROM fresh) GROUP BY institution_id
),
offices AS (
    SELECT institution_id, array_agg(DISTINCT user_id ORDER BY user_id) AS users FROM {members}
    WHERE role = ANY(%(offices)s) GROUP BY institution_id
),
chain AS MATERIALIZED (
    SELECT i.id AS institution_id, up.depth, o.users
    FROM {institutions} i
    CROSS JOIN LATERAL unnest({path_ids}) WITH ORDINALITY AS up(office_id, depth)
    JOIN offices o ON o.institution_id = up.office_id
    WHERE i.id IN (SELECT institution_id FROM fresh WHERE stage IN (%(supervise)s, %(report)s))
),
nearest AS (
    SELECT DISTINCT ON (institution_id) institution_id, users FROM chain ORDER BY institution_id, depth DESC
),
alone AS (
    SELECT DISTINCT ON (n.institution_id) n.institution_id, n.users[1] AS owner_id,
           array_remove(c.users, n.users[1]) AS users
    FROM nearest n JOIN chain c ON c.institution_id = n.institution_id
    WHERE cardinality(n.users) = 1 AND array_remove(c.users, n.users[1]) <> '{{}}'
    ORDER BY n.institution_id, c.depth DESC
),
discipline AS (
    SELECT f.task_id, f.stage, f.due_on, f.owner_id, f.department_id, f.institution_id,
           CASE WHEN n.users <@ ARRAY[f.owner_id] THEN a.users ELSE array_remove(n.users, f.owner_id) END AS office
    FROM fresh f
    LEFT JOIN nearest n ON n.institution_id = f.institution_id
    LEFT JOIN alone a ON a.institution_id = f.institution_id AND a.owner_id = f.owner_id
),
told AS (
    SELECT s.task_id, s.stage, s.due_on, CASE
        WHEN s.stage <> %(supervise)s THEN s.others
        WHEN s.owner_id IS NULL THEN COALESCE(s.others, '{{}}')
        WHEN cardinality(s.others) IS NULL THEN ARRAY[s.owner_id]
        WHEN s.others[cardinality(s.others)] < s.owner_id THEN s.others || s.owner_id
        WHEN s.others[1] > s.owner_id THEN s.owner_id || s.others
        ELSE ARRAY(SELECT person FROM unnest(s.others || s.owner_id) AS person ORDER BY person)
    END AS recipients
    FROM (
        SELECT f.task_id, f.stage, f.due_on, f.owner_id, CASE f.stage
            WHEN %(report)s THEN f.office
            WHEN %(supervise)s THEN COALESCE(
                NULLIF(array_remove(h.users, f.owner_id), '{{}}'),
                NULLIF(array_remove(l.users, f.owner_id), '{{}}'),
                f.office
            )
            ELSE array_remove(ARRAY[f.owner_id], NULL)
        END AS others
        FROM discipline f
        LEFT JOIN heads h ON h.department_id = f.department_id
        LEFT JOIN leaders l ON l.institution_id = f.institution_id
        OFFSET 0
    ) AS s
),
won AS (
    INSERT INTO {notices} (task_id, stage, scan_id, recipients)
    SELECT task_id, stage, %(scan)s, recipients FROM told WHERE cardinality(recipients) > 0
),
digest AS (
    INSERT INTO {notifications} (recipient_id, stage, task_ids, task_count, source, scan_id, created_at,
                                 email_status, email_attempts, email_error)
    SELECT g.recipient, g.kind, g.task_ids[1:%(bound)s], g.task_count, '', %(scan)s, %(now)s, %(pending)s, 0, ''
    FROM (
        SELECT recipient, kind, array_agg(task_id) AS task_ids, count(*) AS task_count
        FROM (
            SELECT t.task_id, unnest(t.recipients) AS recipient,
                   CASE WHEN t.stage IN (%(supervise)s, %(report)s) THEN t.stage ELSE %(remind)s END AS kind, t.due_on
            FROM told t WHERE cardinality(t.recipients) > 0
            ORDER BY recipient, kind, t.due_on, t.task_id
        ) AS told_of
        GROUP BY recipient, kind
    ) AS g
    CROSS JOIN LATERAL (SELECT u.id FROM {users} u WHERE u.id = g.recipient FOR KEY SHARE) AS p
    ORDER BY g.recipient, g.kind
)
SELECT (SELECT count(*) FROM candidate), (SELECT count(*) FROM told WHERE cardinality(recipients) > 0)
"""


def _record_and_digest(
    candidates: QuerySet[Task], scan: ScanRun, today: datetime.date, *, created_at: datetime.datetime
) -> tuple[int, int]:
    """Run ``SCAN_SQL`` over ``candidates``; return how many tasks it considered and how many task
    stages it recorded (the digests it wrote are the notifications of ``scan``)."""
    columns = ("id", "cycle_id", "due_on", "owner_id", "institution_id", "department_id")
    try:
        query, query_params = candidates.order_by().values_list(*columns).query.sql_with_params()
    except EmptyResultSet:  # no running cycle: nothing to read
        return 0, 0
    # The ORM's positional parameters, named like the statement's (a literal %% stays one).
    names = {f"c{index}": value for index, value in enumerate(query_params)}
    query = query.replace("%%", "%%%%") % tuple(f"%({name})s" for name in names)
    # The lock a foreign key's check would take at commit, one per record, taken here once per task
    # read: a task deleted meanwhile is skipped (or its delete waits for this scan, then takes the
    # records with it: the trigger of migration 0013). See docs/cycle.md, "The records' keys".
    query += f' FOR KEY SHARE OF "{Task._meta.db_table}"'
    sql = SCAN_SQL.format(
        candidates=query,
        cycles=Cycle._meta.db_table,
        notices=TaskNotice._meta.db_table,
        notifications=Notification._meta.db_table,
        members=Membership._meta.db_table,
        institutions=Institution._meta.db_table,
        users=_users_table(),
        path_ids=path_ids_sql("i.path"),
    )
    params = {
        **names,
        "today": today,
        "now": created_at,
        "scan": scan.pk,
        "remind": REMIND,
        "supervise": SUPERVISE,
        "report": REPORT,
        "head": Role.DEPT_HEAD,
        "leaders": [Role.LEADERSHIP, Role.PRINCIPAL],
        "offices": [Role.DISCIPLINE, Role.SUPERIOR],
        "bound": settings.RISK_REGISTRY_DIGEST_TASKS,
        "pending": Notification.Email.PENDING,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        considered, recorded = cursor.fetchone()
    return considered, recorded


def _window(cycles: Sequence[Mapping[str, Any]], today: datetime.date) -> Q:
    """The tasks of ``cycles`` due within their largest reminder distance or overdue, not yet
    reported: a task whose 通报 is recorded has nothing more to send, so the scan neither reads nor
    reconciles it."""
    parts = Q(pk__in=[])
    for cycle in cycles:
        horizon = today + datetime.timedelta(days=max(cycle["reminder_days"] or [0]))
        parts |= Q(cycle_id=cycle["id"], due_on__lte=horizon)
    return parts & ~Q(Exists(TaskNotice.objects.filter(task_id=OuterRef("pk"), stage=REPORT)))


def _lock_cycles(cycle_ids: Sequence[int]) -> None:
    """Wait for, then hold until the transaction ends, each cycle's scan lock (an advisory lock
    keyed by the cycle table and the cycle's id), in id order so that two scans never deadlock.
    Two scans of a cycle run one after the other: the second starts its statements after the first
    committed, so it sees every stage the first recorded and records none of them again. This is
    what lets the scan insert its task records with a plain INSERT (no conflict check, no ordering
    of 417,000 rows for it, the digests written from the same rows): measured in performance.md,
    "Round 4 (scan2)"."""
    if not cycle_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s::regclass::oid::integer, id)"
            " FROM (SELECT DISTINCT id FROM unnest(%s::integer[]) AS id ORDER BY id) AS cycles",
            [Cycle._meta.db_table, list(cycle_ids)],
        )


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
    _lock_cycles([cycle["id"] for cycle in cycles])
    scan = ScanRun.objects.create(as_of=now)
    window = _window(cycles, today)
    # Every scan: the window's open tasks (about to be reminded) and its done ones not yet due
    # (undone behind the services, their reminder must not be missed). The window's done tasks
    # already overdue (82,000 on the busiest day) join the slice: reconciled within the hour.
    reconciled = tasks_reconcile(
        cycle_ids=[cycle["id"] for cycle in cycles],
        window=window,
        every=Q(done=False) | Q(due_on__gte=today),
        turn=scan.pk,
    )
    tasks_considered, task_notices = _record_and_digest(
        Task.objects.filter(window, done=False), scan, today, created_at=timezone.now()
    )
    considered = tasks_considered + _scan_sources(scan, today)
    created = list(Notification.objects.filter(scan=scan).order_by("id").values_list("id", flat=True))
    ScanRun.objects.filter(pk=scan.pk).update(
        finished_at=timezone.now(), tasks_considered=considered, notifications_created=len(created)
    )
    return ScanResult(
        scan_id=scan.pk,
        as_of=now,
        today=today,
        considered=considered,
        tasks_considered=tasks_considered,
        created=created,
        task_notices=task_notices,
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
    users = _users_table()
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            columns = list(map(list, zip(*batch, strict=True)))
            # the recipients locked as in SCAN_SQL (``digest``): the key is no database constraint
            cursor.execute(
                f"""
                WITH people AS MATERIALIZED (SELECT id FROM {users} WHERE id = ANY(%s::bigint[]) FOR KEY SHARE)
                INSERT INTO {table} (source, object_id, due_on, recipient_id, stage, scan_id, created_at,
                                     email_status, email_attempts, email_error, task_ids, task_count)
                SELECT %s, o, d, r, s, %s, %s, %s, 0, '', '{{}}', 0
                FROM unnest(%s::bigint[], %s::date[], %s::bigint[], %s::varchar[]) AS x(o, d, r, s)
                WHERE r IN (SELECT id FROM people)
                ON CONFLICT DO NOTHING
                """,  # noqa: S608 - the table names are the models', every value is a parameter
                [sorted(set(columns[2])), name, scan.pk, now, Notification.Email.PENDING, *columns],
            )


def records_orphaned_remove() -> tuple[int, int, int]:
    """Remove the task records whose task is gone and the notifications whose recipient is gone,
    and clear the scan of the records and digests whose scan is gone; return the three counts.
    Their keys are no database constraints (see ``TaskNotice``, ``Notification.recipient``): no
    product path leaves any of them (the tests delete cycles, tasks, users and scans the product's
    ways, and race a delete against a scan), so a count above zero says rows were deleted behind
    the product with the triggers off. ``reconcile_stored`` runs it."""
    tasks, scans, users = Task._meta.db_table, ScanRun._meta.db_table, _users_table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TaskNotice._meta.db_table} n WHERE NOT EXISTS (SELECT FROM {tasks} t WHERE t.id = n.task_id)"  # noqa: S608 - the models' table names
        )
        records = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {Notification._meta.db_table} n"  # noqa: S608 - the models' table names
            f" WHERE NOT EXISTS (SELECT FROM {users} u WHERE u.id = n.recipient_id)"
        )
        notifications = cursor.rowcount
        scans_gone = 0
        for model in (TaskNotice, Notification):
            cursor.execute(
                f"UPDATE {model._meta.db_table} r SET scan_id = NULL WHERE r.scan_id IS NOT NULL"  # noqa: S608
                f" AND NOT EXISTS (SELECT FROM {scans} s WHERE s.id = r.scan_id)"
            )
            scans_gone += cursor.rowcount
    return records, notifications, scans_gone


def _users_table() -> str:
    return Notification._meta.get_field("recipient").related_model._meta.db_table


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
