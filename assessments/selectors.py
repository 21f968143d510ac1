"""Reads of the annual cycle: inbox, progress board, notification texts, year-over-year changes.

Every function runs a fixed number of queries whatever the number of rows; completion is the
stored ``Task.done`` (kept by ``assessments.completion``), counted on an index, never a loop.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from assessments import access as cycle_access
from assessments.models import Cycle, Notification, Phase, Task, TaskTally
from risk_registry import access
from risk_registry.models import RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import Department, Institution
from risk_registry.organisation.paths import child_id_sql
from risk_registry.workflow import deadlines

AT_RISK_DAYS = 7
OPEN_TASK_LIMIT = 100


# --- texts ----------------------------------------------------------------------------------------


def task_title(task: Task) -> str:
    """What the task asks, naming its target. Expects the target relations to be joined."""
    kind = task.kind
    if kind == Task.Kind.SELF_CHECK:
        return _("Self-check the risks of %(position)s") % {"position": task.position.title if task.position else ""}
    if kind == Task.Kind.DEPT_REVIEW:
        return _("Review the risk points of %(department)s") % {
            "department": task.department.name if task.department else ""
        }
    if kind == Task.Kind.RULES:
        return _("Record the rules of %(department)s (建章立制)") % {
            "department": task.department.name if task.department else ""
        }
    if kind == Task.Kind.CONTROL_RUN:
        return _("Record how the control ran, %(start)s – %(end)s: %(measure)s") % {
            "start": task.period_start,
            "end": task.due_on,
            "measure": task.control.measure[:60] if task.control else "",
        }
    labels: dict[str, str] = {
        Task.Kind.REGISTER_DEFINE: _("Define the levels of the register of %(institution)s"),
        Task.Kind.REGISTER_APPROVE: _("Approve the register of %(institution)s"),
        Task.Kind.REGISTER_NOTICE: _("Publish the register of %(institution)s for notice"),
        Task.Kind.REGISTER_FILE: _("Sign and file the register of %(institution)s"),
        Task.Kind.SELF_ASSESSMENT: _("Self-assessment of %(institution)s"),
        Task.Kind.RECTIFICATION: _("Rectify the findings of the unit assessment of %(institution)s"),
    }
    return labels[kind] % {"institution": task.institution.name}


def task_url(task: Task) -> str:
    """Where the owner does the work of the task."""
    if task.kind == Task.Kind.SELF_CHECK and task.position_id:
        return reverse("position_detail", args=[task.position_id])
    if task.kind == Task.Kind.DEPT_REVIEW and task.department_id:
        return reverse("department_detail", args=[task.department_id])
    if task.kind == Task.Kind.RULES:
        return reverse("rule_list", args=[task.institution.code])
    if task.kind == Task.Kind.CONTROL_RUN and task.control_id:
        return reverse("control_run_create", args=[task.control_id])
    if task.kind == Task.Kind.SELF_ASSESSMENT:
        return reverse("self_assessment", args=[task.cycle_id, task.institution.code])
    if task.kind == Task.Kind.RECTIFICATION:
        return reverse("unit_assessment", args=[task.cycle_id, task.institution.code])
    try:  # the register page of the review workflow, where it exists
        return reverse("register_detail", args=[task.institution.code, task.year])
    except NoReverseMatch:
        return reverse("institution_detail", args=[task.institution.code])


def stage_label(stage: str, *, due_on: datetime.date, today: datetime.date, written_report: bool = False) -> str:
    """What a notice says: the real due date and the days left (or overdue) as of ``today``, the
    day it is shown or sent, never the stage's nominal days ("7天后截止" on a task due in 3 days),
    which are wrong once the notice is read a day later or the task was created late. A deadline
    is met on its due date, so it is overdue from the day after. ``written_report``: the deadline
    of another feature's source is a written report its recipient owes (a warning notice's
    限时回告), and its supervisor stage tells the recipient's supervisor: the label says so."""
    left = (due_on - today).days
    due = formats.date_format(due_on, "DATE_FORMAT")
    if stage == deadlines.NOTICE:
        return _("New: answer by %(due)s") % {"due": due}
    if left < 0:
        overdue = {"due": due, "days": -left}
        if stage == "supervise":
            if written_report:
                return (
                    _(
                        "Written report not received, overdue by %(days)d day(s) (due on %(due)s):"
                        " the recipient's supervisor is informed"
                    )
                    % overdue
                )
            return _("Overdue by %(days)d day(s) (due on %(due)s): the supervisor is informed") % overdue
        if stage == "report":
            if written_report:
                return (
                    _(
                        "Written report not received, overdue by %(days)d day(s) (due on %(due)s):"
                        " reported to the discipline office"
                    )
                    % overdue
                )
            return _("Overdue by %(days)d day(s) (due on %(due)s): reported to the discipline office") % overdue
        return _("Overdue by %(days)d day(s) (due on %(due)s)") % overdue
    if left == 0:
        return _("Due today (%(due)s)") % {"due": due}
    return _("Due on %(due)s (%(days)d day(s) left)") % {"due": due, "days": left}


@dataclass(frozen=True)
class NotificationText:
    subject: str
    title: str
    stage: str
    url: str


INBOX_DIGEST_LINES = 3  # a digest's tasks the inbox shows; its page and its e-mail list them all


def describe_sources(notifications: Sequence[Notification]) -> None:
    """Set ``described`` on the rows of other features' deadline sources: one query per source.
    A row whose object is gone (or whose source is no longer registered) gets a plain text."""
    keys: dict[str, set[int]] = defaultdict(set)
    for notification in notifications:
        if not notification.is_digest and notification.object_id is not None:
            keys[notification.source].add(notification.object_id)
    described: dict[str, Mapping[int, deadlines.Described]] = {}
    for name, ids in keys.items():
        source = deadlines.source_named(name)
        described[name] = source.describe(ids) if source else {}
    for notification in notifications:
        if not notification.is_digest:
            notification.described = described.get(notification.source, {}).get(notification.object_id or 0)


def describe_digests(notifications: Sequence[Notification], *, today: datetime.date, lines: int | None = None) -> None:
    """Set ``tasks`` on the digests: their first ``lines`` listed tasks (all listed when None), in
    the digest's order, each with its title, URL and what the notice says of it as of ``today``
    (``label``). One query for the tasks of all the digests. A task deleted since is left out."""
    digests = [n for n in notifications if n.is_digest]
    wanted = {pk for n in digests for pk in n.task_ids[:lines]}
    found = with_targets(Task.objects.all()).in_bulk(wanted) if wanted else {}
    for task in found.values():
        task.title = task_title(task)
        task.url = task_url(task)
    for notification in digests:
        notification.tasks = [found[pk] for pk in notification.task_ids[:lines] if pk in found]
        for task in notification.tasks:
            task.label = stage_label(notification.stage, due_on=task.due_on, today=today)


def describe_notifications(
    notifications: Sequence[Notification], *, today: datetime.date | None = None, lines: int | None = None
) -> None:
    """What the inbox, the notification page, the e-mail and the scan command show of each
    notification: ``text`` (and ``described`` / ``tasks``, above), in a fixed number of queries."""
    today = today or timezone.localdate()
    describe_sources(notifications)
    describe_digests(notifications, today=today, lines=lines)
    for notification in notifications:
        notification.text = notification_text(notification, today=today)


def _digest_title(kind: str, count: int) -> str:
    if kind == "supervise":
        return ngettext(
            "%(count)d overdue task: the supervisor is informed",
            "%(count)d overdue tasks: the supervisor is informed",
            count,
        ) % {"count": count}
    if kind == "report":
        return ngettext(
            "%(count)d overdue task: reported to the discipline office",
            "%(count)d overdue tasks: reported to the discipline office",
            count,
        ) % {"count": count}
    return ngettext("%(count)d task due soon", "%(count)d tasks due soon", count) % {"count": count}


def digest_kind_label(kind: str) -> str:
    """The badge of a digest of several tasks: the kind of stage (each task says its own date)."""
    labels = {
        "supervise": pgettext("digest", "Supervision"),
        "report": pgettext("digest", "Reported"),
    }
    return labels.get(kind, pgettext("digest", "Reminder"))


def notification_text(notification: Notification, *, today: datetime.date | None = None) -> NotificationText:
    """The notice's text as of ``today`` (default: today; the scan command passes the day it scans
    as of). A digest of one task reads as that task's notice; a digest of several is titled by
    their count and kind and links to its page, which lists them (``describe_digests`` first)."""
    today = today or timezone.localdate()
    if not notification.is_digest:  # another feature's deadline: described by its source
        found = getattr(notification, "described", None)
        due_on = notification.due_on or today
        source = deadlines.source_named(notification.source)
        stage = stage_label(
            notification.stage,
            due_on=due_on,
            today=today,
            written_report=bool(getattr(source, "written_report", False)),
        )
        title = found.title if found else _("A deadline that no longer exists")
        return NotificationText(
            subject=f"[{stage}] {title}", title=title, stage=stage, url=found.url if found else reverse("inbox")
        )
    tasks = getattr(notification, "tasks", [])
    if notification.task_count == 1 and tasks:
        task = tasks[0]
        return NotificationText(
            subject=f"[{task.label}] {task.title}", title=task.title, stage=task.label, url=task.url
        )
    title = _digest_title(notification.stage, notification.task_count)
    stage = digest_kind_label(notification.stage)
    url = reverse("notification_detail", args=[notification.pk])
    return NotificationText(subject=f"[{stage}] {title}", title=title, stage=stage, url=url)


# A task's relations as its title, link and rows read them. Its institution and phase always exist and
# are joined; the department, post, control and owner are there by the task's kind (nullable) and
# are read by prefetch, a small query each, and none when no task has one. Joined as well, the seven
# tables cost PostgreSQL 8 ms of planning for a query that ran in 0.3 ms (EXPLAIN of the city
# office's inbox at province scale, docs/performance.md "Province pages, round 4").
TASK_JOINS = ("institution", "phase")
TASK_TARGETS = ("department", "position", "control", "owner")


def with_targets(tasks: QuerySet[Task], *, owner: bool = True) -> QuerySet[Task]:
    """``tasks`` with what ``task_title``, ``task_url`` and the task rows read (``TASK_JOINS``,
    ``TASK_TARGETS``); ``owner=False`` where the caller knows the owner."""
    targets = TASK_TARGETS if owner else tuple(name for name in TASK_TARGETS if name != "owner")
    return tasks.select_related(*TASK_JOINS).prefetch_related(*targets)


# --- inbox ------------------------------------------------------------------------------------------


def unread_notification_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return cycle_access.notifications_of(user).filter(read_at__isnull=True).count()


@dataclass
class Inbox:
    open_tasks: list[Task]
    done_tasks: list[Task]
    notifications: list[Notification]
    today: datetime.date


def inbox_for(*, user, today: datetime.date) -> Inbox:
    """The user's own tasks of running cycles (open first, by due date) and recent notifications."""
    # The owner is the user: not read. Each of these two small queries joins four tables (the task, its
    # cycle, phase and institution: ``with_targets``); with every relation joined they were eight,
    # PostgreSQL's limit for searching every join order (``join_collapse_limit``), and planning took
    # 8-25 ms where execution took under one.
    mine = with_targets(cycle_access.own_tasks_of(user), owner=False).select_related("cycle")
    mine = mine.filter(cycle__state=Cycle.State.RUNNING)
    waiting = with_targets(open_tasks_of(user), owner=False).select_related("cycle")
    open_tasks = list(waiting.order_by("due_on", "id")[:OPEN_TASK_LIMIT])
    done_tasks = list(mine.filter(done=True).order_by("-due_on", "-id")[:20])
    notifications = list(cycle_access.notifications_of(user).order_by("-created_at", "-id")[:50])
    for task in open_tasks + done_tasks:
        task.owner = user
        task.title = task_title(task)
        task.url = task_url(task)
        task.left = task.days_left(today)
        task.overdue = -task.left
    describe_notifications(notifications, today=today, lines=INBOX_DIGEST_LINES)
    return Inbox(open_tasks=open_tasks, done_tasks=done_tasks, notifications=notifications, today=today)


@dataclass
class NotificationPage:
    notification: Notification
    today: datetime.date
    more_url: str  # where the tasks the digest could not list are: the inbox, or the cycle's board


def notification_page(notification: Notification, *, user, today: datetime.date) -> NotificationPage:
    """One notification of ``user`` with every task it lists (the caller found it through
    ``cycle_access.notifications_of``)."""
    describe_notifications([notification], today=today)
    tasks = getattr(notification, "tasks", [])
    if tasks and any(task.owner_id != user.pk for task in tasks):
        more_url = reverse("cycle_board", args=[tasks[0].cycle_id])
    else:
        more_url = reverse("inbox") + "#cycle-tasks"
    return NotificationPage(notification=notification, today=today, more_url=more_url)


# --- progress board ---------------------------------------------------------------------------------


@dataclass
class BoardRow:
    label: str
    url: str = ""
    total: int = 0
    done: int = 0
    overdue: int = 0
    at_risk: int = 0

    def add(self, row: Mapping[str, int]) -> None:
        """Add a grouped row of ``_counts`` or ``_tally_counts``."""
        self.total += row["tasks"]
        self.done += row["done_count"]
        self.overdue += row["overdue"]
        self.at_risk += row["at_risk"]

    def counts(self) -> dict[str, int]:
        return {"tasks": self.total, "done_count": self.done, "overdue": self.overdue, "at_risk": self.at_risk}

    @property
    def done_percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class Board:
    cycle: Cycle
    phases: list[Phase]
    node: Institution
    department: Department | None
    rows: list[BoardRow]
    total: BoardRow
    open_tasks: list[Task] = field(default_factory=list)
    today: datetime.date | None = None


def cycles_for_list(*, user) -> QuerySet[Cycle]:
    return (
        cycle_access.cycles_visible_to(user).select_related("institution").order_by("-year", "institution__path")[:100]
    )


def _counts(tasks: QuerySet, today: datetime.date, *group) -> QuerySet:
    """The board's four figures of tasks, counted one by one, per ``group``."""
    soon = today + datetime.timedelta(days=AT_RISK_DAYS)
    return (
        tasks.values(*group)
        .annotate(
            tasks=Count("id"),
            done_count=Count("id", filter=Q(done=True)),
            overdue=Count("id", filter=Q(done=False, due_on__lt=today)),
            at_risk=Count("id", filter=Q(done=False, due_on__gte=today, due_on__lte=soon)),
        )
        .order_by()
    )


def _tally_counts(tallies: QuerySet[TaskTally], today: datetime.date, *group) -> QuerySet:
    """The same figures summed from the tasks' tallies: a tally keeps its tasks' due date, so the
    open ones (``total - done``) are overdue or due soon by it."""
    soon = today + datetime.timedelta(days=AT_RISK_DAYS)
    open_tasks = F("total") - F("done")
    return (
        tallies.filter(total__gt=0)
        .values(*group)
        .annotate(
            tasks=Sum("total"),
            done_count=Sum("done"),
            overdue=Coalesce(Sum(open_tasks, filter=Q(due_on__lt=today)), 0),
            at_risk=Coalesce(Sum(open_tasks, filter=Q(due_on__gte=today, due_on__lte=soon)), 0),
        )
        .order_by()
    )


def _rows_by_person(tasks: QuerySet[Task], today: datetime.date) -> dict[object, BoardRow]:
    """At a department: one row per owner."""
    rows: dict[object, BoardRow] = {}
    for row in _counts(tasks, today, "owner_id", "owner__last_name", "owner__first_name", "owner__username"):
        label = f"{row['owner__last_name']}{row['owner__first_name']}" or row["owner__username"] or _("No owner")
        rows.setdefault(row["owner_id"], BoardRow(label=label)).add(row)
    return rows


def _open_tasks(tasks: QuerySet[Task], today: datetime.date) -> list[Task]:
    """The first open tasks by due date, titled for the page."""
    open_tasks = list(with_targets(tasks).filter(done=False).order_by("due_on", "id")[:OPEN_TASK_LIMIT])
    for task in open_tasks:
        task.title = task_title(task)
        task.left = task.days_left(today)
        task.overdue = -task.left
    return open_tasks


def _rows_by_unit(*, user, cycle: Cycle, today: datetime.date, node: Institution, base: str) -> dict[object, BoardRow]:
    """At an institution: a row per department of its own (and its register), then a row per
    child institution with the child's whole subtree rolled up.

    Three grouped queries whatever the size of the subtree: the node's own tasks by department
    (a few hundred at most, from the index ``task_cycle_institution``); below it, the institutions
    whose every task the user sees from their tallies (``TaskTally``: a city's 8,000 instead of
    its 310,000 tasks), and the tasks the user sees elsewhere (own, a headed department's) one by
    one, as ``progress_by_institution`` reads them. Both are summed per child in SQL."""
    own = _counts(cycle_access.tasks_visible_to(user).filter(cycle=cycle, institution=node), today, "department_id")
    below = Q(institution__path__startswith=node.path) & ~Q(institution_id=node.pk)
    child = child_id_sql("institution__path", node.path)
    whole = cycle_access.q_institutions_seen_wholly(user, "institution__")
    tallied: list[Mapping] = []
    if whole is not None:
        tallies = TaskTally.objects.filter(whole, below, cycle=cycle).annotate(child=child)
        tallied = list(_tally_counts(tallies, today, "child"))
    elsewhere = cycle_access.tasks_seen_elsewhere(user).filter(below, cycle=cycle).annotate(child=child)
    counted = [*tallied, *_counts(elsewhere, today, "child")]
    children = Institution.objects.filter(pk__in={int(row["child"]) for row in counted}).order_by("path")
    departments = dict(Department.objects.filter(institution=node).values_list("id", "name"))
    rows: dict[object, BoardRow] = {}
    for row in sorted(own, key=lambda r: r["department_id"] or 0):
        dept = row["department_id"]
        label = departments.get(dept, "") if dept else _("The institution's register")
        url = f"{base}?institution={node.code}&department={dept}" if dept else ""
        rows.setdefault(("d", dept), BoardRow(label=label, url=url)).add(row)
    for institution in children:  # in the order of their paths
        rows[("i", institution.pk)] = BoardRow(label=institution.name, url=f"{base}?institution={institution.code}")
    for row in counted:
        rows[("i", int(row["child"]))].add(row)
    return rows


def cycle_board(
    *, user, cycle: Cycle, today: datetime.date, node: Institution | None = None, department: Department | None = None
) -> Board:
    """Progress of the cycle as the user may see it.

    At an institution (``node``, default the cycle's): one row for the institution's own tasks
    per department (and one for its register), then one row per child institution with its whole
    subtree rolled up, side by side. At a department: one row per person, and the open tasks.
    """
    node = node or cycle.institution
    base = reverse("cycle_board", args=[cycle.pk])
    open_tasks: list[Task] = []
    if department is not None:
        tasks = cycle_access.tasks_visible_to(user).filter(cycle=cycle, department=department)
        rows = _rows_by_person(tasks, today)
        open_tasks = _open_tasks(tasks, today)
    else:
        rows = _rows_by_unit(user=user, cycle=cycle, today=today, node=node, base=base)
    total = BoardRow(label=_("Total"))
    for row in rows.values():
        total.add(row.counts())
    return Board(
        cycle=cycle,
        phases=list(cycle.phases.all()),
        node=node,
        department=department,
        rows=list(rows.values()),
        total=total,
        open_tasks=open_tasks,
        today=today,
    )


# --- year over year -------------------------------------------------------------------------------


@dataclass
class YearChange:
    kind: str  # "carried", "changed", "new", "dropped"
    point: RiskPoint
    before: RiskPoint | None = None
    fields: list[str] = field(default_factory=list)


COMPARED = ("description", "likelihood", "severity", "level_id", "position_id", "risk_type_id")
CHANGE_KINDS = ("changed", "new", "dropped", "carried")  # the page's order, and its filter's values
CHANGES_PAGE = 50  # rows of the changes page at once, as every list's page


@dataclass
class YearChanges:
    """A page of what changed in a register from one year to the next, with every kind counted."""

    rows: list[YearChange]
    counts: dict[str, int]  # every change of the register by kind, whatever the page and the filter
    page: Page


def year_changes(*, user, institution: Institution, year: int, kind: str = "", page: str | None = None) -> YearChanges:
    """What changed in ``institution``'s register from ``year`` to the next: each point of the next
    year new, changed (the fields of ``COMPARED`` that differ from its source) or carried over
    unchanged, and each point of ``year`` not carried over; ``kind`` keeps one kind. Classified
    from narrow rows (ids and the compared fields of both years), then the page's ``CHANGES_PAGE``
    points read whole: four queries whatever the register's size (a big bureau's 4,700 points,
    each read with five joined rows and drawn, took 0.5–1.3 s)."""
    visible = access.risk_points_visible_to(user).filter(institution=institution)
    sources = [f"carried_from__{name}" for name in COMPARED]
    found: list[tuple[str, int, int, int | None, list[str]]] = []  # kind, department, point, source, fields
    carried: set[int] = set()
    following = visible.filter(year=year + 1).order_by()
    for pk, department, source, *values in following.values_list(
        "pk", "department_id", "carried_from_id", *COMPARED, *sources
    ):
        if source is None:
            found.append(("new", department, pk, None, []))
            continue
        carried.add(source)
        now, then = values[: len(COMPARED)], values[len(COMPARED) :]
        differing = [name for name, a, b in zip(COMPARED, now, then, strict=True) if a != b]
        found.append(("changed" if differing else "carried", department, pk, source, differing))
    previous = visible.filter(year=year).exclude(state=RiskPointState.DRAFT).order_by()
    found += [
        ("dropped", dept, pk, None, []) for pk, dept in previous.values_list("pk", "department_id") if pk not in carried
    ]
    counts = {name: 0 for name in CHANGE_KINDS}
    for row in found:
        counts[row[0]] += 1
    order = {name: rank for rank, name in enumerate(CHANGE_KINDS)}
    kept = sorted((row for row in found if not kind or row[0] == kind), key=lambda r: (order[r[0]], r[1] or 0, r[2]))
    shown = Paginator(kept, CHANGES_PAGE).get_page(page)
    joins = ("level", "position", "department", "risk_type")
    points = visible.filter(pk__in=[row[2] for row in shown]).select_related(*joins).in_bulk()
    befores = RiskPoint.objects.filter(pk__in=[row[3] for row in shown if row[3]]).select_related("level").in_bulk()
    rows = [
        YearChange(change, points[pk], befores.get(source) if source else None, fields)
        for change, _department, pk, source, fields in shown
    ]
    return YearChanges(rows=rows, counts=counts, page=shown)


# --- dashboards ------------------------------------------------------------------------------------


@dataclass
class InstitutionProgress:
    """An institution's own tasks in the year's cycle (not its subtree's), as on the cycle board."""

    cycle_id: int
    total: int = 0
    done: int = 0
    overdue: int = 0
    filed_on_time: bool | None = None  # None: no filing task

    @property
    def done_percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @cached_property
    def url(self) -> str:  # read three times by a row of the comparison
        return reverse("cycle_board", args=[self.cycle_id])


def progress_by_institution(
    *, user, year: int, today: datetime.date, institution_ids: list[int] | None = None, within: str | None = None
) -> dict[int, InstitutionProgress]:
    """Per institution (of ``institution_ids``, or of the subtree at the path ``within``, or every
    one the user's tasks reach): its own tasks of the year (done, overdue, from the stored
    completion) and whether its register was filed by the filing task's date. Two grouped queries
    whatever the number of institutions: the institutions whose every task the user sees (a subtree
    the user oversees, an institution the user leads) from their tallies (``TaskTally``, a few
    rows per institution instead of every task), and the tasks the user sees elsewhere (its own, a
    department's it heads) one by one, as ``tasks_visible_to`` gives them."""
    whole = cycle_access.q_institutions_seen_wholly(user, "institution__")
    narrow = Q()
    if institution_ids is not None:
        narrow &= Q(institution_id__in=institution_ids)
    if within is not None:
        narrow &= Q(institution__path__startswith=within)
    filed_in_time = RegisterVersion.objects.filter(
        register__institution_id=OuterRef("institution_id"),
        register__year=OuterRef("year"),
        signed_at__date__lte=OuterRef("due_on"),
    )
    # The board's figures (``_tally_counts``, ``_counts``) with the filing's two, per institution.
    by = ("institution_id", "cycle_id")
    tallies = (
        _tally_counts(
            (TaskTally.objects.filter(whole) if whole is not None else TaskTally.objects.none()).filter(
                narrow, year=year
            ),
            today,
            *by,
        )
        .annotate(
            filing_count=Coalesce(Sum("total", filter=Q(filing=True)), 0),
            # the EXISTS in the filter, after the flag: evaluated for the filing tallies only
            filed=Coalesce(Sum("total", filter=Q(filing=True) & Q(Exists(filed_in_time))), 0),
        )
        .order_by(*by)
    )
    filing = Q(kind=Task.Kind.REGISTER_FILE)
    elsewhere = (
        _counts(cycle_access.tasks_seen_elsewhere(user).filter(narrow, year=year), today, *by)
        .annotate(
            filing_count=Count("id", filter=filing),
            filed=Count("id", filter=filing & Q(Exists(filed_in_time))),
        )
        .order_by(*by)
    )
    progress: dict[int, InstitutionProgress] = {}
    for row in [*tallies, *elsewhere]:
        item = progress.setdefault(row["institution_id"], InstitutionProgress(cycle_id=row["cycle_id"]))
        item.total += row["tasks"]
        item.done += row["done_count"]
        item.overdue += row["overdue"]
        if row["filing_count"]:
            item.filed_on_time = bool(row["filed"]) and (item.filed_on_time is not False)
    return progress


def open_tasks_of(user) -> QuerySet[Task]:
    """The user's own open tasks of running cycles: what the one inbox lists and counts."""
    return cycle_access.own_tasks_of(user).filter(cycle__state=Cycle.State.RUNNING, done=False)


def my_task_counts(*, user, today: datetime.date) -> dict[str, int]:
    """The user's own open tasks, those overdue, and the control runs due within a week: one query."""
    soon = today + datetime.timedelta(days=AT_RISK_DAYS)
    runs = Q(kind=Task.Kind.CONTROL_RUN)
    return cycle_access.own_tasks_of(user).aggregate(
        open=Count("id", filter=Q(done=False)),
        overdue=Count("id", filter=Q(done=False, due_on__lt=today)),
        runs_due=Count("id", filter=runs & Q(done=False, due_on__lte=soon)),
        runs_overdue=Count("id", filter=runs & Q(done=False, due_on__lt=today)),
    )


# --- control runs: which period a run counts for ------------------------------------------------


@dataclass(frozen=True)
class RunPeriod:
    """A period of a control-run task of a running cycle: a run dated inside it completes it."""

    start: datetime.date
    end: datetime.date
    done: bool

    def holds(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end


def control_run_periods(control_id: int) -> list[RunPeriod]:
    """The control's run periods in running cycles, earliest first: one query."""
    rows = (
        Task.objects.filter(kind=Task.Kind.CONTROL_RUN, control_id=control_id)
        .filter(cycle__state=Cycle.State.RUNNING, period_start__isnull=False)
        .order_by("period_start", "id")
        .values("period_start", "due_on", "done")
    )
    return [RunPeriod(start=r["period_start"], end=r["due_on"], done=r["done"]) for r in rows if r["period_start"]]


def current_run_period(periods: Sequence[RunPeriod], today: datetime.date) -> RunPeriod | None:
    """The period a run recorded today is asked for: the earliest open one (an overdue period
    first, since its task still waits), else none."""
    return next((p for p in periods if not p.done and p.start <= today), None) or next(
        (p for p in periods if not p.done), None
    )
