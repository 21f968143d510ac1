"""When a task is done: derived from the real work, in SQL, for any number of tasks at once.

``done_expression()`` is one ``CASE`` over the task kinds, each arm an ``EXISTS`` on the rows
that are the work (risk-point states, the register's filed versions, control runs, the
self-assessment). It is evaluated by the database whenever a page or the scan asks, so a task is
never stale and never ticked by hand: a point sent back to draft opens its self-check again.

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

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When

from assessments.models import SelfAssessment, Task, UnitOutcome
from controls.models import ControlRun, Rule
from risk_registry.models import RegisterVersion, RiskPoint, RiskPointState

STATE_ORDER = [state for state, _ in RiskPointState.choices]


def states_before(state: str) -> list[str]:
    """The states out of draft that come before ``state``."""
    return STATE_ORDER[1 : STATE_ORDER.index(state)]


def states_from(state: str) -> list[str]:
    return STATE_ORDER[STATE_ORDER.index(state) :]


def _points(**scope: object) -> QuerySet[RiskPoint]:
    return RiskPoint.objects.filter(year=OuterRef("year"), **scope)


def _register_reached(state: str) -> Q:
    mine = {"institution_id": OuterRef("institution_id")}
    reached = Exists(_points(**mine).filter(state__in=states_from(state)))
    behind = Exists(_points(**mine).filter(state__in=states_before(state)))
    return reached & ~behind


def done_expression() -> Case:
    """A boolean SQL expression over a Task queryset: is the real work of the task done?"""
    position = {"position_id": OuterRef("position_id")}
    department = {"department_id": OuterRef("department_id")}
    return Case(
        When(  # the self-report is in: at least one point submitted, and no draft left behind
            Q(kind=Task.Kind.SELF_CHECK)
            & Exists(_points(**position).exclude(state=RiskPointState.DRAFT))
            & ~Exists(_points(**position).filter(state=RiskPointState.DRAFT)),
            then=Value(True),
        ),
        When(
            Q(kind=Task.Kind.DEPT_REVIEW)
            & Exists(_points(**department).filter(state__in=states_from(RiskPointState.REVIEWED)))
            & ~Exists(_points(**department).filter(state=RiskPointState.SUBMITTED)),
            then=Value(True),
        ),
        When(Q(kind=Task.Kind.REGISTER_DEFINE) & _register_reached(RiskPointState.DEFINED), then=Value(True)),
        When(Q(kind=Task.Kind.REGISTER_APPROVE) & _register_reached(RiskPointState.APPROVED), then=Value(True)),
        When(Q(kind=Task.Kind.REGISTER_NOTICE) & _register_reached(RiskPointState.IN_NOTICE), then=Value(True)),
        When(
            kind=Task.Kind.REGISTER_FILE,
            then=Exists(
                RegisterVersion.objects.filter(
                    register__institution_id=OuterRef("institution_id"), register__year=OuterRef("year")
                )
            ),
        ),
        When(
            kind=Task.Kind.CONTROL_RUN,
            then=Exists(
                ControlRun.objects.filter(
                    control_id=OuterRef("control_id"),
                    ran_on__gte=OuterRef("period_start"),
                    ran_on__lte=OuterRef("due_on"),
                )
            ),
        ),
        When(
            kind=Task.Kind.SELF_ASSESSMENT,
            then=Exists(
                SelfAssessment.objects.filter(cycle_id=OuterRef("cycle_id"), institution_id=OuterRef("institution_id"))
            ),
        ),
        When(
            kind=Task.Kind.RECTIFICATION,
            then=Exists(UnitOutcome.objects.filter(task_id=OuterRef("pk"), done_at__isnull=False)),
        ),
        When(
            kind=Task.Kind.RULES,
            then=Exists(
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
    """``queryset`` of tasks annotated with ``is_done``."""
    return queryset.annotate(is_done=done_expression())
