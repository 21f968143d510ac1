"""Services that write the annual cycle: launch, edit, generate its tasks, self-assess, close and
roll over to next year's draft register. Each state change writes its audit entry."""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from assessments import access as cycle_access
from assessments.completion import tasks_refresh
from assessments.models import Cycle, Phase, SelfAssessment, Task
from config.queue import enqueue_on_commit
from controls.models import Control
from positions.models import Holding
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Department, Institution, Membership, Role
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.services import apply_changes, audit_record
from risk_registry.services import risk_points_copy

logger = logging.getLogger(__name__)
CYCLE_GENERATE_TASKS = "assessments.tasks.cycle_generate_tasks"

# The five phases (seed 002 三、实施步骤 dates, seed 004 篇1), as (kind, name, start, due) with
# (month, day) in the cycle's year. Names and dates are the cycle's own once launched.
DEFAULT_PHASES = (
    (Phase.Kind.PUBLICITY, "宣传发动", (3, 1), (3, 31)),
    (Phase.Kind.INVENTORY, "清权查险", (4, 1), (5, 31)),
    (Phase.Kind.CONTROLS, "措施防控", (6, 1), (8, 31)),
    (Phase.Kind.MONITORING, "建章立制·运行监控", (9, 1), (11, 30)),
    (Phase.Kind.INSPECTION, "检查考核·修正完善", (12, 1), (12, 31)),
)
CONTROL_RUN_STATES = (RiskPointState.APPROVED, RiskPointState.IN_NOTICE, RiskPointState.ISSUED)
# The states whose content the leadership approved (审定): what an unfiled register carries over.
APPROVED_STATES = CONTROL_RUN_STATES
MAX_REMINDER_DAYS = 60
# Calendar months per period of a control that runs monthly, quarterly or half-yearly.
MONTHS_PER_PERIOD: dict[str, int] = {
    Control.Frequency.MONTHLY: 1,
    Control.Frequency.QUARTERLY: 3,
    Control.Frequency.HALF_YEARLY: 6,
}
# A cycle's phases lie around its year: preparation may start in the last quarter of the year
# before, the year-end inspection and revision may run into the spring of the year after.
YEAR_OPENS = (10, 1)  # (month, day) of the year before
YEAR_CLOSES = (4, 30)  # (month, day) of the year after


@dataclass(frozen=True)
class PhaseSpec:
    kind: str
    name: str
    starts_on: datetime.date
    due_on: datetime.date


def default_phases(year: int) -> list[PhaseSpec]:
    return [
        PhaseSpec(kind, name, datetime.date(year, *start), datetime.date(year, *due))
        for kind, name, start, due in DEFAULT_PHASES
    ]


def _validate_schedule(reminder_days: Iterable[int], supervisor_after: int, discipline_after: int) -> list[int]:
    days = sorted({int(day) for day in reminder_days}, reverse=True)
    if any(day < 0 or day > MAX_REMINDER_DAYS for day in days):
        raise ValidationError(
            _("Reminders are between 0 and %(max)d days before the due date.") % {"max": MAX_REMINDER_DAYS}
        )
    if supervisor_after < 1:
        raise ValidationError(_("The supervisor is told at the earliest one day after the due date."))
    if discipline_after < supervisor_after:
        raise ValidationError(_("The discipline office is told after the supervisor, not before."))
    return days


def _validate_phases(phases: list[PhaseSpec]) -> None:
    if [p.kind for p in phases] != [kind for kind, *_rest in DEFAULT_PHASES]:
        raise ValidationError(_("A cycle has the five phases, in order."))
    for phase in phases:
        if not phase.name.strip():
            raise ValidationError(_("Every phase needs a name."))
        if phase.due_on < phase.starts_on:
            raise ValidationError(_("Phase %(name)s ends before it starts.") % {"name": phase.name})
    for earlier, later in pairwise(phases):
        if later.starts_on < earlier.starts_on:
            raise ValidationError(_("Phases follow each other: %(name)s starts too early.") % {"name": later.name})


def phases_check_year(year: int, phases: list[PhaseSpec]) -> None:
    """Refuse phases that belong to another year than the cycle's (a 2027 cycle with 2026's dates).

    Every date lies between 1 October of the year before and 30 April of the year after, the
    first phase starts by the end of the year and the last ends in it or later.
    """
    opens, closes = datetime.date(year - 1, *YEAR_OPENS), datetime.date(year + 1, *YEAR_CLOSES)
    for phase in phases:
        for day in (phase.starts_on, phase.due_on):
            if not opens <= day <= closes:
                raise ValidationError(
                    _(
                        "The dates of phase %(name)s (%(day)s) do not belong to %(year)d: the phases of a "
                        "%(year)d cycle lie between %(opens)s and %(closes)s."
                    )
                    % {
                        "name": phase.name,
                        "day": formats.date_format(day, "SHORT_DATE_FORMAT"),
                        "year": year,
                        "opens": formats.date_format(opens, "SHORT_DATE_FORMAT"),
                        "closes": formats.date_format(closes, "SHORT_DATE_FORMAT"),
                    },
                    code="wrong_year",
                )
    if phases and (phases[0].starts_on.year > year or phases[-1].due_on.year < year):
        raise ValidationError(
            _("The phases of a %(year)d cycle must cover %(year)d.") % {"year": year}, code="wrong_year"
        )


def _spread_dates(starts_on: datetime.date, due_on: datetime.date, fraction: float) -> datetime.date:
    return starts_on + datetime.timedelta(days=round((due_on - starts_on).days * fraction))


def phases_first_deadline(phases: list[PhaseSpec]) -> datetime.date:
    """The earliest due date the phases give a task (see ``cycle_tasks_build``): the self-checks
    at mid-inventory, department reviews at its end, the register's definition at a quarter of
    措施防控, a weekly control run a week into the monitoring, the self-assessment at the end."""
    by_kind = {phase.kind: phase for phase in phases}
    inventory, register = by_kind[Phase.Kind.INVENTORY], by_kind[Phase.Kind.CONTROLS]
    monitoring, inspection = by_kind[Phase.Kind.MONITORING], by_kind[Phase.Kind.INSPECTION]
    return min(
        _spread_dates(inventory.starts_on, inventory.due_on, 0.5),
        _spread_dates(register.starts_on, register.due_on, 0.25),
        min(monitoring.starts_on + datetime.timedelta(days=6), monitoring.due_on),
        inspection.due_on,
    )


@transaction.atomic
def cycle_launch(
    *,
    by,
    institution: Institution,
    year: int,
    name: str = "",
    phases: list[PhaseSpec] | None = None,
    reminder_days: Iterable[int] | None = None,
    supervisor_after_days: int | None = None,
    discipline_after_days: int | None = None,
    confirm_late: bool = False,
    today: datetime.date | None = None,
    enqueue: bool = True,
) -> Cycle:
    """Launch a year's cycle for ``institution`` and its subtree; tasks are generated after commit
    (``enqueue=False``: the caller generates them itself, as the demo seed does).

    One running cycle per part of the tree and year: a cycle of an ancestor or a descendant for
    the same year would give the same people the same tasks twice.

    The phases must belong to ``year``. A launch whose first deadline is already past (as of
    ``today``, default: the current date) would make tasks overdue at once and fire a burst of
    escalations: it is refused unless ``confirm_late``, and then the cycle gets a grace period
    (``grace_until``, ``RISK_REGISTRY_CYCLE_LATE_GRACE_DAYS`` from today) before which the scan
    counts no task as due.
    """
    if not cycle_access.can_launch_cycle(by, institution):
        raise PermissionDenied
    phases = phases or default_phases(year)
    _validate_phases(phases)
    phases_check_year(year, phases)
    today = today or timezone.localdate()
    first_deadline = phases_first_deadline(phases)
    grace_until = None
    if first_deadline < today:
        if not confirm_late:
            raise ValidationError(
                _(
                    "Deadlines of this cycle are already past (the first on %(day)s): its tasks would be "
                    "overdue at once. Move the phases, or confirm the late launch: tasks then get %(days)d "
                    "days of grace before any reminder or escalation."
                )
                % {
                    "day": formats.date_format(first_deadline, "SHORT_DATE_FORMAT"),
                    "days": settings.RISK_REGISTRY_CYCLE_LATE_GRACE_DAYS,
                },
                code="late",
            )
        grace_until = today + datetime.timedelta(days=settings.RISK_REGISTRY_CYCLE_LATE_GRACE_DAYS)
    defaults = Cycle()
    days = _validate_schedule(
        defaults.reminder_days if reminder_days is None else reminder_days,
        supervisor_after_days or defaults.supervisor_after_days,
        discipline_after_days or defaults.discipline_after_days,
    )
    ancestors = [int(pk) for pk in institution.path.strip("/").split("/")]
    overlapping = Cycle.objects.filter(year=year).filter(
        Q(institution_id__in=ancestors) | Q(institution__path__startswith=institution.path)
    )
    if overlapping.exists():
        raise ValidationError(_("A cycle of %(year)s already covers this institution.") % {"year": year})
    cycle = Cycle.objects.create(
        institution=institution,
        year=year,
        name=name.strip() or _("Integrity risk prevention and control, %(year)s") % {"year": year},
        reminder_days=days,
        supervisor_after_days=supervisor_after_days or defaults.supervisor_after_days,
        discipline_after_days=discipline_after_days or defaults.discipline_after_days,
        grace_until=grace_until,
        launched_by=by,
    )
    Phase.objects.bulk_create(
        Phase(cycle=cycle, order=n, kind=p.kind, name=p.name.strip(), starts_on=p.starts_on, due_on=p.due_on)
        for n, p in enumerate(phases, start=1)
    )
    audit_record(
        actor=by,
        action="cycle.launch",
        target=cycle,
        institution=institution,
        summary=cycle.name,
        changes={"late": {"first_deadline": str(first_deadline), "grace_until": str(grace_until)}}
        if grace_until
        else {},
    )
    if enqueue:
        enqueue_on_commit(CYCLE_GENERATE_TASKS, cycle.pk)
    return cycle


@transaction.atomic
def cycle_update(
    *,
    by,
    cycle: Cycle,
    name: str,
    phases: list[PhaseSpec],
    reminder_days: Iterable[int],
    supervisor_after_days: int,
    discipline_after_days: int,
) -> Cycle:
    """Rename, re-date and re-schedule a running cycle; due dates of its tasks follow (regenerated)."""
    if not cycle_access.can_manage_cycle(by, cycle):
        raise PermissionDenied
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if not cycle.is_running:
        raise ValidationError(_("A closed cycle cannot be changed."))
    _validate_phases(phases)
    phases_check_year(cycle.year, phases)
    days = _validate_schedule(reminder_days, supervisor_after_days, discipline_after_days)
    changes = apply_changes(
        cycle,
        {
            "name": name.strip() or cycle.name,
            "reminder_days": days,
            "supervisor_after_days": supervisor_after_days,
            "discipline_after_days": discipline_after_days,
        },
    )
    existing = list(cycle.phases.order_by("order"))
    for phase, spec in zip(existing, phases, strict=True):
        phase_changes = apply_changes(
            phase, {"name": spec.name.strip(), "starts_on": spec.starts_on, "due_on": spec.due_on}
        )
        if phase_changes:
            phase.save(update_fields=["name", "starts_on", "due_on"])
            changes.update({f"{phase.kind}.{field}": [str(v) for v in pair] for field, pair in phase_changes.items()})
    if changes:
        cycle.tasks_generated_at = None  # the scan regenerates if the message below is lost
        cycle.save()
        audit_record(
            actor=by,
            action="cycle.update",
            target=cycle,
            institution=cycle.institution,
            summary=cycle.name,
            changes=changes,
        )
        enqueue_on_commit(CYCLE_GENERATE_TASKS, cycle.pk)
    return cycle


# --- task generation ---------------------------------------------------------------------------


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, 1)


def control_periods(
    frequency: str, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, datetime.date]]:
    """The periods of the monitoring phase in which a control of ``frequency`` must run once.

    Weekly: 7-day periods from the phase start; monthly, quarterly, half-yearly: calendar months
    (1, 3, 6 of them) from the phase start's month; yearly, each time and as needed: the whole
    phase (it must run, and be recorded, at least once). Every period is clipped to the phase.
    """
    if frequency == Control.Frequency.WEEKLY:
        periods, day = [], start
        while day <= end:
            periods.append((day, min(day + datetime.timedelta(days=6), end)))
            day += datetime.timedelta(days=7)
        return periods
    months = MONTHS_PER_PERIOD.get(frequency)
    if months is None:
        return [(start, end)]
    periods, month_start = [], datetime.date(start.year, start.month, 1)
    while month_start <= end:
        following = _add_months(month_start, months)
        periods.append((max(month_start, start), min(following - datetime.timedelta(days=1), end)))
        month_start = following
    return periods


def _spread(phase: Phase, fraction: float) -> datetime.date:
    return _spread_dates(phase.starts_on, phase.due_on, fraction)


class _Owners:
    """Who owns what in a subtree, from one query of memberships (no query per task)."""

    def __init__(self, institutions: dict[int, str], memberships: Iterable[Mapping[str, Any]]) -> None:
        self.paths = institutions
        self.by_role: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.heads: dict[int, list[int]] = defaultdict(list)
        for m in memberships:
            if m["role"] == Role.DEPT_HEAD:
                self.heads[m["department_id"]].append(m["user_id"])
            else:
                self.by_role[(m["role"], m["institution_id"])].append(m["user_id"])

    def first(self, role: str, institution_id: int) -> int | None:
        users = self.by_role.get((role, institution_id))
        return min(users) if users else None

    def discipline(self, institution_id: int) -> int | None:
        """The institution's discipline office, else the nearest one above it."""
        for pk in reversed(path_ids(self.paths.get(institution_id, f"/{institution_id}/"))):
            for role in (Role.DISCIPLINE, Role.SUPERIOR):
                user = self.first(role, pk)
                if user:
                    return user
        return None

    def leader(self, institution_id: int) -> int | None:
        return (
            self.first(Role.PRINCIPAL, institution_id)
            or self.first(Role.LEADERSHIP, institution_id)
            or self.discipline(institution_id)
        )

    def head(self, department_id: int | None) -> int | None:
        users = self.heads.get(department_id) if department_id is not None else None
        return min(users) if users else None


def _current_holders(subtree: QuerySet[Institution]) -> dict[int, tuple[int, int, int]]:
    """position → (user, department, institution) of its earliest open holding."""
    holders: dict[int, tuple[int, int, int]] = {}
    for h in (
        Holding.objects.filter(ended_on__isnull=True, position__institution__in=subtree)
        .order_by("started_on", "id")
        .values("position_id", "user_id", "position__department_id", "position__institution_id")
    ):
        holders.setdefault(
            h["position_id"], (h["user_id"], h["position__department_id"], h["position__institution_id"])
        )
    return holders


class _TaskPlan:
    """The tasks of one cycle, phase by phase, from a fixed number of queries (none per task)."""

    def __init__(self, cycle: Cycle) -> None:
        self.cycle = cycle
        self.phases = {phase.kind: phase for phase in cycle.phases.all()}
        self.subtree = Institution.objects.filter(path__startswith=cycle.institution.path)
        self.owners = _Owners(
            dict(self.subtree.values_list("id", "path")),
            Membership.objects.filter(
                Q(institution__path__startswith=cycle.institution.path)
                | Q(institution_id__in=path_ids(cycle.institution.path))
            ).values("user_id", "role", "institution_id", "department_id"),
        )
        self.holders = _current_holders(self.subtree)
        self.tasks: list[Task] = []

    def add(
        self, phase: Phase, kind: str, key: str, institution_id: int, due_on: datetime.date, owner_id, **targets
    ) -> None:
        self.tasks.append(
            Task(
                cycle=self.cycle,
                phase=phase,
                kind=kind,
                key=key,
                year=self.cycle.year,
                institution_id=institution_id,
                due_on=due_on,
                owner_id=owner_id,
                **targets,
            )
        )

    def add_inventory(self, departments: Iterable[Mapping[str, Any]]) -> None:
        """A self-check per held position (mid-phase), a review per department (phase end)."""
        inventory = self.phases[Phase.Kind.INVENTORY]
        for position_id, (user_id, department_id, institution_id) in self.holders.items():
            self.add(
                inventory,
                Task.Kind.SELF_CHECK,
                f"self_check:{position_id}",
                institution_id,
                _spread(inventory, 0.5),
                user_id,
                department_id=department_id,
                position_id=position_id,
            )
        for d in departments:
            self.add(
                inventory,
                Task.Kind.DEPT_REVIEW,
                f"dept_review:{d['id']}",
                d["institution_id"],
                inventory.due_on,
                self.owners.head(d["id"]) or self.owners.leader(d["institution_id"]),
                department_id=d["id"],
            )

    def add_registers(self, institution_ids: list[int]) -> None:
        """The register's four steps spread over the controls phase, and the self-assessment."""
        register = self.phases[Phase.Kind.CONTROLS]
        inspection = self.phases[Phase.Kind.INSPECTION]
        owners = self.owners
        for institution_id in institution_ids:
            for kind, fraction, owner in (
                (Task.Kind.REGISTER_DEFINE, 0.25, owners.discipline(institution_id)),
                (Task.Kind.REGISTER_APPROVE, 0.5, owners.leader(institution_id)),
                (Task.Kind.REGISTER_NOTICE, 0.75, owners.discipline(institution_id)),
                (Task.Kind.REGISTER_FILE, 1.0, owners.leader(institution_id)),
            ):
                self.add(register, kind, f"{kind}:{institution_id}", institution_id, _spread(register, fraction), owner)
            self.add(
                inspection,
                Task.Kind.SELF_ASSESSMENT,
                f"self_assessment:{institution_id}",
                institution_id,
                inspection.due_on,
                owners.leader(institution_id),
            )

    def add_rules(self, departments: Iterable[Mapping[str, Any]]) -> None:
        """建章立制: each department records its rules (制度目录) by the end of the 建章立制 phase;
        a rule recorded or revised since the cycle's first phase began counts (seed 000 篇1 (四))."""
        monitoring = self.phases[Phase.Kind.MONITORING]
        start = min(phase.starts_on for phase in self.phases.values())
        for d in departments:
            self.add(
                monitoring,
                Task.Kind.RULES,
                f"rules:{d['id']}",
                d["institution_id"],
                monitoring.due_on,
                self.owners.head(d["id"]) or self.owners.discipline(d["institution_id"]),
                department_id=d["id"],
                period_start=start,
            )

    def add_control_runs(self) -> None:
        """One run per period of every approved control, owned by the point's holder (else its head)."""
        monitoring = self.phases[Phase.Kind.MONITORING]
        controls = Control.objects.filter(
            risk_point__institution__in=self.subtree,
            risk_point__year=self.cycle.year,
            risk_point__state__in=CONTROL_RUN_STATES,
        ).values(
            "id", "frequency", "risk_point__position_id", "risk_point__department_id", "risk_point__institution_id"
        )
        for c in controls:
            position_id = c["risk_point__position_id"]
            holder = self.holders.get(position_id) if position_id is not None else None
            owner = holder[0] if holder else self.owners.head(c["risk_point__department_id"])
            for start, end in control_periods(c["frequency"], monitoring.starts_on, monitoring.due_on):
                self.add(
                    monitoring,
                    Task.Kind.CONTROL_RUN,
                    f"control_run:{c['id']}:{start:%Y%m%d}",
                    c["risk_point__institution_id"],
                    end,
                    owner,
                    department_id=c["risk_point__department_id"],
                    position_id=position_id,
                    control_id=c["id"],
                    period_start=start,
                )


def cycle_tasks_build(cycle: Cycle) -> list[Task]:
    """The tasks the cycle's phases imply for today's organisation (unsaved; see the generator).

    The 宣传发动 phase (plan, leading group, training) leaves no record in the product, so it
    has dates but no tasks.
    """
    plan = _TaskPlan(cycle)
    departments = list(Department.objects.filter(institution__in=plan.subtree).values("id", "institution_id"))
    plan.add_inventory(departments)
    plan.add_registers(sorted({d["institution_id"] for d in departments}))
    plan.add_rules(departments)
    plan.add_control_runs()
    return plan.tasks


def cycle_generate_tasks(*, cycle_id: int, batch_size: int = 2000) -> int:
    """Create the cycle's tasks, or bring them up to date: safe to run any number of times.

    The unique (cycle, key) decides: an existing task keeps its id and its notifications, and
    gets today's owner (a rotation hands the self-check to the new holder) and the phase's current
    due date. Returns the number of tasks the cycle implies now.
    """
    cycle = Cycle.objects.select_related("institution").filter(pk=cycle_id, state=Cycle.State.RUNNING).first()
    if cycle is None:
        return 0  # closed or deleted since the message was sent: nothing to do
    tasks = cycle_tasks_build(cycle)
    with transaction.atomic():
        Task.objects.bulk_create(
            tasks,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["cycle", "key"],
            update_fields=["owner", "due_on", "phase", "period_start"],
        )
        # new tasks, and moved periods and due dates: their stored completion, in one UPDATE
        tasks_refresh(Task.objects.filter(cycle_id=cycle.pk))
        Cycle.objects.filter(pk=cycle.pk).update(tasks_generated_at=timezone.now())
    return len(tasks)


# --- the work of the inspection phase ------------------------------------------------------------


@transaction.atomic
def self_assessment_submit(*, by, cycle: Cycle, institution: Institution, summary: str) -> SelfAssessment:
    """Record an institution's self-assessment in a cycle (once; the unique key refuses a second)."""
    if not cycle_access.can_submit_self_assessment(by, institution):
        raise PermissionDenied
    if not summary.strip():
        raise ValidationError(_("Write the self-assessment."))
    if not institution.is_within(cycle.institution):
        raise ValidationError(_("The institution is not part of this cycle."))
    if SelfAssessment.objects.filter(cycle=cycle, institution=institution).exists():
        raise ValidationError(_("The self-assessment has already been submitted."))
    assessment = SelfAssessment.objects.create(
        cycle=cycle, institution=institution, summary=summary.strip(), submitted_by=by
    )
    audit_record(
        actor=by, action="self_assessment.submit", target=assessment, institution=institution, summary=str(cycle)
    )
    tasks_refresh(Task.objects.filter(cycle=cycle, institution=institution, kind=Task.Kind.SELF_ASSESSMENT))
    return assessment


@transaction.atomic
def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all, or those of ``ids``); others' are never touched."""
    rows = cycle_access.notifications_of(user).filter(read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


# --- closing a cycle: the next year starts from this year's filed register (PDCA) ------------------


@dataclass(frozen=True)
class RolloverResult:
    registers: int
    points: int
    controls: int
    unfiled_points: int = 0  # of ``points``: carried from registers that were never filed


@dataclass(frozen=True)
class UnfiledRegister:
    """An institution of the cycle that has not filed its register of the year."""

    institution: Institution
    approved: int  # points whose approved state a forced close carries over
    not_approved: int  # points that never reached approval: they stay in the year's register


def cycle_unfiled_registers(cycle: Cycle) -> list[UnfiledRegister]:
    """The institutions of the cycle that should have filed and have not, with their points
    counted (one query). An institution should file when it has departments (the cycle gave it
    the register tasks) or points of the year."""
    year = cycle.year
    filed = RegisterVersion.objects.filter(register__institution_id=OuterRef("pk"), register__year=year)
    points = RiskPoint.objects.filter(institution_id=OuterRef("pk"), year=year)
    departments = Department.objects.filter(institution_id=OuterRef("pk"))
    rows = (
        Institution.objects.filter(path__startswith=cycle.institution.path)
        .filter(Exists(departments) | Exists(points))
        .exclude(Exists(filed))
        .annotate(
            approved=Count("risk_points", filter=Q(risk_points__year=year, risk_points__state__in=APPROVED_STATES)),
            points=Count("risk_points", filter=Q(risk_points__year=year)),
        )
        .order_by("path")
    )
    return [UnfiledRegister(row, row.approved, row.points - row.approved) for row in rows]


def _filed_point_ids(cycle: Cycle) -> dict[int, list[int]]:
    """Per institution of the cycle, the ids of the points in its latest filed version."""
    latest: dict[int, tuple[int, list[int]]] = {}
    versions = RegisterVersion.objects.filter(
        register__year=cycle.year, register__institution__path__startswith=cycle.institution.path
    ).values_list("register__institution_id", "number", "snapshot")
    for institution_id, number, snapshot in versions:
        if institution_id not in latest or number > latest[institution_id][0]:
            latest[institution_id] = (number, [point["id"] for point in snapshot.get("points", [])])
    return {institution_id: ids for institution_id, (_number, ids) in latest.items()}


def _unfiled_point_ids(cycle: Cycle, unfiled: list[UnfiledRegister]) -> dict[int, list[int]]:
    """Per unfiled institution, its points of the year in their last approved state."""
    ids: dict[int, list[int]] = {u.institution.pk: [] for u in unfiled}
    for pk, institution_id in (
        RiskPoint.objects.filter(institution_id__in=ids, year=cycle.year, state__in=APPROVED_STATES)
        .order_by("id")
        .values_list("pk", "institution_id")
    ):
        ids[institution_id].append(pk)
    return ids


@dataclass(frozen=True)
class RolloverPreview:
    """What closing the cycle would carry over, shown before the close button."""

    unfiled: list[UnfiledRegister]
    filed_points: int
    unfiled_points: int  # carried only when the close is forced
    filed_institutions: int = 0  # each gets next year's register
    not_approved_points: int = 0  # of the unfiled institutions, never carried over

    @property
    def institutions(self) -> int:
        """The institutions that get next year's register when the close goes through (forced or
        not: a forced close gives every unfiled institution one too)."""
        return self.filed_institutions + len(self.unfiled)

    @property
    def points(self) -> int:
        """The points a close carries over: the filed ones, and those of the unfiled institutions
        in their approved state (only a forced close happens while some are unfiled)."""
        return self.filed_points + self.unfiled_points


def cycle_rollover_preview(cycle: Cycle) -> RolloverPreview:
    unfiled = cycle_unfiled_registers(cycle)
    filed = _filed_point_ids(cycle)
    return RolloverPreview(
        unfiled=unfiled,
        filed_points=sum(len(ids) for ids in filed.values()),
        unfiled_points=sum(u.approved for u in unfiled),
        filed_institutions=len(filed),
        not_approved_points=sum(u.not_approved for u in unfiled),
    )


def unfiled_refusal(cycle: Cycle, unfiled: list[UnfiledRegister]) -> ValidationError:
    names = "、".join(u.institution.name for u in unfiled)
    return ValidationError(
        _(
            "%(count)d institutions have not filed their %(year)d register: %(names)s. Close the cycle when "
            "they have, or close it anyway with a reason: their approved points are then carried over, "
            "marked as carried from an unfiled register."
        )
        % {"count": len(unfiled), "year": cycle.year, "names": names},
        code="unfiled",
    )


@transaction.atomic
def cycle_close(*, by, cycle: Cycle, force_reason: str = "") -> RolloverResult:
    """Close the cycle and start next year's draft registers from this year's registers.

    Each point of an institution's latest filed version is copied into next year as a draft
    carried over from it (``carried_from``), with its controls, for the holders to re-check; a
    point already carried over is not copied again, so closing is safe to repeat after a failure.

    Nothing is left behind silently: while an institution of the cycle has not filed, closing is
    refused with the list of them. The launching office may close anyway with ``force_reason``;
    then each unfiled institution's points in their last approved state (approved, in notice,
    issued) are carried over too, marked ``carried_unfiled``, and the points that never reached
    approval are named in the audit entry. Bulk writes: one audit entry per register carried
    over, listing the points, instead of one per row.
    """
    if not cycle_access.can_manage_cycle(by, cycle):
        raise PermissionDenied
    cycle = Cycle.objects.select_for_update().select_related("institution").get(pk=cycle.pk)
    if not cycle.is_running:
        raise ValidationError(_("The cycle is already closed."))
    force_reason = force_reason.strip()
    unfiled = cycle_unfiled_registers(cycle)
    if unfiled and not force_reason:
        raise unfiled_refusal(cycle, unfiled)
    next_year = cycle.year + 1
    filed = _filed_point_ids(cycle)
    from_unfiled = _unfiled_point_ids(cycle, unfiled)
    all_ids = [pk for ids in (*filed.values(), *from_unfiled.values()) for pk in ids]
    already = set(
        RiskPoint.objects.filter(carried_from_id__in=all_ids, year=next_year).values_list("carried_from_id", flat=True)
    )
    sources = list(RiskPoint.objects.filter(pk__in=set(all_ids) - already).select_related("created_by"))
    unfiled_ids = {pk for ids in from_unfiled.values() for pk in ids}
    copies = list(
        risk_points_copy(
            points=[p for p in sources if p.pk not in unfiled_ids],
            year=next_year,
            state=RiskPointState.DRAFT,
            carried=True,
            author=by,
        ).values()
    )
    unfiled_copies = list(
        risk_points_copy(
            points=[p for p in sources if p.pk in unfiled_ids],
            year=next_year,
            state=RiskPointState.DRAFT,
            carried=True,
            carried_unfiled=True,
            author=by,
        ).values()
    )
    carried_by_institution: dict[int, list[int]] = defaultdict(list)
    for copy in (*copies, *unfiled_copies):
        carried_by_institution[copy.institution_id].append(copy.pk)
    Register.objects.bulk_create(
        [Register(institution_id=institution_id, year=next_year) for institution_id in (*filed, *from_unfiled)],
        ignore_conflicts=True,
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=by,
            action="register.carry_over",
            target_type=Register._meta.label_lower,
            target_id=register_id,
            institution_id=institution_id,
            summary=(
                _("%(count)d points carried over from the unfiled %(year)s register")
                if institution_id in from_unfiled
                else _("%(count)d points carried over from %(year)s")
            )
            % {"count": len(ids), "year": cycle.year},
            changes={"points": ids, "unfiled": institution_id in from_unfiled},
        )
        for institution_id, register_id in Register.objects.filter(
            institution_id__in=carried_by_institution, year=next_year
        ).values_list("institution_id", "id")
        for ids in [carried_by_institution[institution_id]]
    )
    cycle.state = Cycle.State.CLOSED
    cycle.closed_by = by
    cycle.closed_at = timezone.now()
    cycle.close_reason = force_reason if unfiled else ""
    cycle.save(update_fields=["state", "closed_by", "closed_at", "close_reason"])
    all_copies = [*copies, *unfiled_copies]
    controls = Control.objects.filter(risk_point__in=all_copies).count()
    result = RolloverResult(
        registers=len(carried_by_institution),
        points=len(all_copies),
        controls=controls,
        unfiled_points=len(unfiled_copies),
    )
    changes: dict = {"carried_over": [result.registers, result.points, result.controls]}
    if unfiled:
        left: dict[int, list[int]] = defaultdict(list)
        for pk, institution_id in (
            RiskPoint.objects.filter(institution_id__in=from_unfiled, year=cycle.year)
            .exclude(state__in=APPROVED_STATES)
            .order_by("id")
            .values_list("pk", "institution_id")
        ):
            left[institution_id].append(pk)
        changes["forced"] = {
            "reason": force_reason,
            "unfiled": [
                {
                    "institution": u.institution.pk,
                    "carried": from_unfiled[u.institution.pk],
                    "not_approved": left.get(u.institution.pk, []),
                }
                for u in unfiled
            ],
        }
    audit_record(
        actor=by,
        action="cycle.close",
        target=cycle,
        institution=cycle.institution,
        summary=cycle.name,
        changes=changes,
    )
    return result
