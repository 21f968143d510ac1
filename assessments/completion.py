"""When a task is done: derived from the real work, in SQL, for any number of tasks at once.

``done_expression()`` is one ``CASE`` over the task kinds, each arm an ``EXISTS`` on the rows
that are the work (risk-point states, the register's filed versions, control runs, the
self-assessment). It is the single definition of "done", and never ticked by hand: a point sent
back to draft opens its self-check again.

Its value is stored on the task (``Task.done``, ``done_at``) so that boards and dashboards count
an index instead of evaluating the expression per task. ``tasks_refresh`` recomputes it for a
bounded set of tasks in one UPDATE (only the rows whose value changes are written); the services
that complete or undo work call it — directly in this feature (self-assessment, rectification,
generation), through ``risk_registry.organisation.work`` from the layers below (points, filing,
control runs, rules: ``work_changed`` here is the listener). The deadline scan reconciles the tasks
it is about to remind of, and a twelfth of the other open tasks of running cycles, before it
computes stages (``tasks_reconcile``), so a value written behind the services (or lost to two
concurrent transactions, each seeing only its own change) never sends a reminder and is right
again within an hour; ``manage.py reconcile_stored`` reconciles every task.

The rules, for the points of the task's institution / department / position and year:
- self-check: the position has a point that left draft (submitted or later);
- department review: the department has a point reviewed or later, and none waits as submitted;
- define / approve / notice: some point has reached defined / approved / in notice, and none
  (of those out of draft) is still before that state;
- filing: the institution's register of the year has a filed version;
- control run: a run of the control is dated within the task's period;
- self-assessment: the institution's self-assessment of the cycle exists;
- rules (建章立制): a rule of the task's department, in force, was recorded or revised within the
  task's period;
- rectification (整改 after a unit assessment): the institution reported it done.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, Case, DateTimeField, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from assessments.models import RECONCILE_SLICES, Cycle, SelfAssessment, Task, UnitOutcome
from controls.models import ControlRun, Rule
from risk_registry.models import RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation import work

STATE_ORDER = [state for state, _ in RiskPointState.choices]


def states_before(state: str) -> list[str]:
    """The states out of draft that come before ``state``."""
    return STATE_ORDER[1 : STATE_ORDER.index(state)]


def states_from(state: str) -> list[str]:
    return STATE_ORDER[STATE_ORDER.index(state) :]


class Probe(Exists):
    """``EXISTS`` read for each outer row by an index. ``OFFSET 0`` keeps PostgreSQL from planning it
    as a hashed subplan (``EXISTS`` turned into ``= ANY``), which reads the whole inner table once
    per statement whatever the number of outer rows: for the scan's reconciliation every risk
    point, some ten passes, even when a few thousand tasks are checked. The rows are the same."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def _points(**scope: object) -> QuerySet[RiskPoint]:
    return RiskPoint.objects.filter(year=OuterRef("year"), **scope)


def _register_reached(state: str, exists: type[Exists]) -> Q:
    mine = {"institution_id": OuterRef("institution_id")}
    reached = exists(_points(**mine).filter(state__in=states_from(state)))
    behind = exists(_points(**mine).filter(state__in=states_before(state)))
    return reached & ~behind


def done_expression(*, per_task: bool = False) -> Case:
    """A boolean SQL expression over a Task queryset: is the real work of the task done?

    ``per_task``: every ``EXISTS`` is a ``Probe`` (index probes for each task, only the arm of its
    kind evaluated), so its cost follows the number of tasks, not of risk points: for a bounded set
    of tasks among many points (the scan's window). Without it PostgreSQL may hash whole tables,
    cheaper for a large share of all tasks (``reconcile_stored``). Both are the same definition."""
    exists: type[Exists] = Probe if per_task else Exists
    position = {"position_id": OuterRef("position_id")}
    department = {"department_id": OuterRef("department_id")}
    return Case(
        When(  # the self-report is in: at least one point submitted, and no draft left behind
            Q(kind=Task.Kind.SELF_CHECK)
            & exists(_points(**position).exclude(state=RiskPointState.DRAFT))
            & ~exists(_points(**position).filter(state=RiskPointState.DRAFT)),
            then=Value(True),
        ),
        When(
            Q(kind=Task.Kind.DEPT_REVIEW)
            & exists(_points(**department).filter(state__in=states_from(RiskPointState.REVIEWED)))
            & ~exists(_points(**department).filter(state=RiskPointState.SUBMITTED)),
            then=Value(True),
        ),
        When(Q(kind=Task.Kind.REGISTER_DEFINE) & _register_reached(RiskPointState.DEFINED, exists), then=Value(True)),
        When(Q(kind=Task.Kind.REGISTER_APPROVE) & _register_reached(RiskPointState.APPROVED, exists), then=Value(True)),
        When(Q(kind=Task.Kind.REGISTER_NOTICE) & _register_reached(RiskPointState.IN_NOTICE, exists), then=Value(True)),
        When(
            kind=Task.Kind.REGISTER_FILE,
            then=exists(
                RegisterVersion.objects.filter(
                    register__institution_id=OuterRef("institution_id"), register__year=OuterRef("year")
                )
            ),
        ),
        When(
            kind=Task.Kind.CONTROL_RUN,
            then=exists(
                ControlRun.objects.filter(
                    control_id=OuterRef("control_id"),
                    ran_on__gte=OuterRef("period_start"),
                    ran_on__lte=OuterRef("due_on"),
                )
            ),
        ),
        When(
            kind=Task.Kind.SELF_ASSESSMENT,
            then=exists(
                SelfAssessment.objects.filter(cycle_id=OuterRef("cycle_id"), institution_id=OuterRef("institution_id"))
            ),
        ),
        When(
            kind=Task.Kind.RECTIFICATION,
            then=exists(UnitOutcome.objects.filter(task_id=OuterRef("pk"), done_at__isnull=False)),
        ),
        When(
            kind=Task.Kind.RULES,
            then=exists(
                Rule.objects.filter(department_id=OuterRef("department_id"), repealed_on__isnull=True).filter(
                    Q(recorded_on__gte=OuterRef("period_start"), recorded_on__lte=OuterRef("due_on"))
                    | Q(revised_on__gte=OuterRef("period_start"), revised_on__lte=OuterRef("due_on"))
                )
            ),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def with_done(queryset):
    """``queryset`` of tasks annotated with ``is_done``, derived now (the tests compare it with the
    stored ``done``; pages read the stored value)."""
    return queryset.annotate(is_done=done_expression())


# --- the stored value ---------------------------------------------------------------------------

POINT_KINDS = (
    Task.Kind.SELF_CHECK,
    Task.Kind.DEPT_REVIEW,
    Task.Kind.REGISTER_DEFINE,
    Task.Kind.REGISTER_APPROVE,
    Task.Kind.REGISTER_NOTICE,
)


def tasks_refresh(tasks: QuerySet[Task], *, per_task: bool = False) -> int:
    """Store ``done_expression()`` on ``tasks`` (a bounded set: an institution's tasks of a year,
    a control's runs, a cycle) in one UPDATE that writes only the rows whose value changes: a task
    that becomes done gets ``done_at`` now, one that opens again loses it. Returns the rows changed.
    ``per_task``: see ``done_expression``."""
    return (
        tasks.order_by()
        .exclude(done=done_expression(per_task=per_task))
        .update(
            done=Case(When(done=True, then=Value(False)), default=Value(True)),
            done_at=Case(
                When(done=False, then=Value(timezone.now())), default=Value(None), output_field=DateTimeField()
            ),
        )
    )


def tasks_refresh_for(
    *, institution_ids: Iterable[int] = (), year: int | None = None, kinds: Iterable[str] | None = None
) -> int:
    """The tasks of ``institution_ids`` (of ``year``; of ``kinds``), refreshed."""
    tasks = Task.objects.filter(institution_id__in=list(institution_ids))
    if year is not None:
        tasks = tasks.filter(year=year)
    if kinds is not None:
        tasks = tasks.filter(kind__in=list(kinds))
    return tasks_refresh(tasks)


def work_changed(
    what: str, *, institution_ids: list[int], year: int | None = None, ids: list[int] | None = None
) -> int:
    """The listener of ``risk_registry.organisation.work``: refresh the tasks whose completion reads
    what changed (registered in ``AssessmentsConfig.ready``)."""
    if what == work.CONTROL_RUNS:
        return tasks_refresh(Task.objects.filter(kind=Task.Kind.CONTROL_RUN, control_id__in=ids or []))
    kinds = {
        work.POINTS: POINT_KINDS,
        work.FILING: (Task.Kind.REGISTER_FILE,),
        work.RULES: (Task.Kind.RULES,),
    }[what]
    return tasks_refresh_for(institution_ids=institution_ids, year=year, kinds=kinds)


def tasks_reconcile(
    *, cycle_ids: Iterable[int] | None = None, window: Q | None = None, every: Q | None = None, turn: int = 0
) -> int:
    """The scan's step, one UPDATE: one slice (``turn`` modulo ``RECONCILE_SLICES``, by id, on the
    index ``task_cycle_slice``) of the open tasks of running cycles (of ``cycle_ids``), and of the
    tasks of ``window`` (those the scan reads) the ones of ``every`` (about to be reminded of or
    escalated) every scan, the others in their slice; each set to its derived value. Every open
    task is reconciled within ``RECONCILE_SLICES`` scans: the whole set every scan cost 0.6–0.9 s for
    the 25,000 open tasks of a 1,000-institution county under load, so a province's 600,000 would
    take the scan far past its budget. One statement, ``window`` written in it once (its
    anti-join on the task records is one pass), its ``EXISTS`` probed per task by index
    (``done_expression(per_task=True)``): hashed, they read every risk point of the database each
    scan (some ten passes), whatever the number of tasks; probed, the scan costs in its tasks.
    Returns how many were stale."""
    in_slice = Q(slice_of_id=turn % RECONCILE_SLICES)
    chosen = in_slice & Q(done=False)
    if window is not None:
        chosen |= window & (in_slice | every) if every is not None else window
    tasks = Task.objects.alias(slice_of_id=F("id") % RECONCILE_SLICES).filter(chosen)
    tasks = tasks.filter(cycle__state=Cycle.State.RUNNING)
    if cycle_ids is not None:
        tasks = tasks.filter(cycle_id__in=list(cycle_ids))
    return tasks_refresh(tasks, per_task=True)
