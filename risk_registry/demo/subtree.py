"""A big generated subtree for the dashboards' benchmark (``manage.py seed_subtree``).

One county-level root (a discipline committee) with ``institutions`` institutions under it,
bureaus and villages in turn, each grading with one of four presets (一级最高, 三级最高, A/B/C,
four levels), with departments, positions, one holder per institution, risk points spread over
levels, states, risk types and likelihood × severity, two controls per point, and a running
cycle launched by the root's discipline office with its tasks generated. Rows are written with
``bulk_create`` in batches: a thousand institutions (20,000 points, 40,000 controls) take a few
minutes at most. Meant for a database of its own (never the test database's size in the suite).

Accounts (unusable passwords; the benchmark logs them in directly): ``{prefix}.discipline`` (the
root's discipline office), ``{prefix}.superior`` (the root's superior office), ``{prefix}.leader``
(leadership of the first institution), ``{prefix}.head`` (head of its first department) and
``{prefix}.holder`` (holder of its first position); every other institution's first position has
a holder ``{prefix}.h{n}``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from itertools import cycle as round_robin

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from assessments.models import Cycle, Phase
from assessments.services import PhaseSpec, cycle_generate_tasks, cycle_launch
from controls.models import Control
from controls.services import control_quality_refresh
from positions.models import Holding, Position, PositionUserObjectPermission
from positions.services import HOLD_PERMISSION
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import (
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    RiskType,
    Role,
)
from risk_registry.organisation.presets import GRADING_PRESETS
from risk_registry.organisation.services import grading_scheme_create
from risk_registry.organisation.users import User

PRESETS = ("level-1-highest", "level-3-highest", "abc", "four-levels")
KINDS = (Institution.Kind.BUREAU, Institution.Kind.VILLAGE)
DEPARTMENTS = ("领导班子", "办公室", "业务股", "财务股")
# States a register goes through; the approved ones get control-run tasks from the cycle.
STATES = (
    RiskPointState.DRAFT,
    RiskPointState.SUBMITTED,
    RiskPointState.REVIEWED,
    RiskPointState.DEFINED,
    RiskPointState.APPROVED,
    RiskPointState.ISSUED,
)
FREQUENCIES = (Control.Frequency.YEARLY, Control.Frequency.HALF_YEARLY, Control.Frequency.AS_NEEDED)
BATCH = 2000

# The demo's cycle phases, in days from today: some tasks overdue, some due soon.
PHASES = (
    (Phase.Kind.PUBLICITY, "宣传发动", -80, -61),
    (Phase.Kind.INVENTORY, "清权查险", -60, 3),
    (Phase.Kind.CONTROLS, "措施防控", 4, 40),
    (Phase.Kind.MONITORING, "建章立制·运行监控", 41, 100),
    (Phase.Kind.INSPECTION, "检查考核·修正完善", 101, 120),
)


@dataclass
class Subtree:
    root: Institution
    cycle: Cycle | None
    counts: dict[str, int] = field(default_factory=dict)


def _users(names: list[str]) -> dict[str, User]:
    User.objects.bulk_create([User(username=name, password=make_password(None)) for name in names], batch_size=BATCH)
    return {u.username: u for u in User.objects.filter(username__in=names)}


@transaction.atomic
def subtree_seed(
    *,
    prefix: str = "bench",
    institutions: int = 1000,
    positions: int = 10,
    points: int = 20,
    year: int | None = None,
    today: datetime.date | None = None,
    with_cycle: bool = True,
) -> Subtree:
    """Create the subtree (see the module's docstring); refused when the root's code exists."""
    today = today or timezone.localdate()
    year = year or today.year
    if Institution.objects.filter(code=f"{prefix}-root").exists():
        raise ValueError(f"{prefix}-root exists already")
    root = Institution.objects.create(
        code=f"{prefix}-root", name=f"基准县纪委监委（{prefix}）", kind=Institution.Kind.DISCIPLINE_COMMITTEE
    )
    root.path, root.depth = f"/{root.pk}/", 0
    definitions = {p["code"]: p for p in GRADING_PRESETS}
    root.grading_scheme = grading_scheme_create(definition=definitions[PRESETS[0]], institution=root)
    root.save(update_fields=["path", "depth", "grading_scheme"])

    # Institutions, then their paths (which need their ids).
    children = Institution.objects.bulk_create(
        [
            Institution(
                code=f"{prefix}-{n}",
                name=f"基准{'局' if KINDS[n % 2] == Institution.Kind.BUREAU else '村'}{n + 1:04d}",
                kind=KINDS[n % 2],
                parent=root,
                depth=1,
            )
            for n in range(institutions)
        ],
        batch_size=BATCH,
    )
    for child in children:
        child.path = f"{root.path}{child.pk}/"

    # One scheme each (a copy of one of four presets), levels by scheme.
    schemes: dict[int, GradingScheme] = {}
    for n, child in enumerate(children):
        schemes[child.pk] = grading_scheme_create(definition=definitions[PRESETS[n % 4]], institution=child)
        child.grading_scheme = schemes[child.pk]
    Institution.objects.bulk_update(children, ["path", "grading_scheme"], batch_size=BATCH)
    levels: dict[tuple[int, str], GradeLevel] = {
        (level.scheme_id, level.code): level
        for level in GradeLevel.objects.filter(scheme__in=[s.pk for s in schemes.values()])
    }

    departments = Department.objects.bulk_create(
        [
            Department(
                institution=child,
                name=name,
                kind=Department.Kind.LEADERSHIP if d == 0 else Department.Kind.OFFICE,
                order=d,
            )
            for child in children
            for d, name in enumerate(DEPARTMENTS)
        ],
        batch_size=BATCH,
    )
    by_institution: dict[int, list[Department]] = {}
    for department in departments:
        by_institution.setdefault(department.institution_id, []).append(department)

    posts = Position.objects.bulk_create(
        [
            Position(
                institution=child,
                department=by_institution[child.pk][0 if p < 2 else 1 + p % 3],
                title=f"岗位{p + 1}",
                kind=(Position.Kind.PRINCIPAL, Position.Kind.DEPUTY)[p] if p < 2 else Position.Kind.GENERAL,
                is_key_post=p < 4,
            )
            for child in children
            for p in range(positions)
        ],
        batch_size=BATCH,
    )
    posts_of: dict[int, list[Position]] = {}
    for post in posts:
        posts_of.setdefault(post.institution_id, []).append(post)

    # People: the root's two offices, the first institution's leadership, head and holder; one
    # holder for the first post of every other institution.
    first = children[0]
    names = {
        "discipline": f"{prefix}.discipline",
        "superior": f"{prefix}.superior",
        "leader": f"{prefix}.leader",
        "head": f"{prefix}.head",
        "holder": f"{prefix}.holder",
    }
    holder_names = [names["holder"]] + [f"{prefix}.h{n}" for n in range(1, len(children))]
    users = _users([*names.values(), *holder_names[1:]])
    Membership.objects.bulk_create(
        [
            Membership(user=users[names["discipline"]], institution=root, role=Role.DISCIPLINE),
            Membership(user=users[names["superior"]], institution=root, role=Role.SUPERIOR),
            Membership(user=users[names["leader"]], institution=first, role=Role.LEADERSHIP),
            Membership(
                user=users[names["head"]],
                institution=first,
                role=Role.DEPT_HEAD,
                department=by_institution[first.pk][1],
            ),
        ]
    )
    held = [
        (users[name], posts_of[child.pk][min(2, positions - 1)])
        for name, child in zip(holder_names, children, strict=True)
    ]
    Holding.objects.bulk_create(
        [Holding(user=user, position=post, started_on=today - datetime.timedelta(days=400)) for user, post in held],
        batch_size=BATCH,
    )
    app_label, codename = HOLD_PERMISSION.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    PositionUserObjectPermission.objects.bulk_create(
        [PositionUserObjectPermission(user=user, permission=permission, content_object=post) for user, post in held],
        batch_size=BATCH,
    )

    # Risk points: spread over the matrix (hence the levels), states and risk types.
    risk_types = round_robin(list(RiskType.objects.filter(institution=None).order_by("order", "pk")))
    states = round_robin(STATES)
    batch: list[RiskPoint] = []
    made = 0
    for child in children:
        scheme = schemes[child.pk]
        size_l, size_s = len(scheme.likelihood_labels), len(scheme.severity_labels)
        child_posts = posts_of[child.pk]
        for p in range(points):
            post = child_posts[p % len(child_posts)]
            likelihood, severity = 1 + (p * 7 + child.pk) % size_l, 1 + (p * 3 + child.pk // 2) % size_s
            batch.append(
                RiskPoint(
                    institution=child,
                    department_id=post.department_id,
                    position=post,
                    year=year,
                    risk_type=next(risk_types),
                    description=f"基准风险点{p + 1}：{post.title}履职中的廉政风险",
                    likelihood=likelihood,
                    severity=severity,
                    level=levels[(scheme.pk, scheme.level_code_for(likelihood, severity))],
                    state=next(states),
                )
            )
        if len(batch) >= BATCH:
            made += _points_and_controls(batch)
            batch = []
    if batch:
        made += _points_and_controls(batch)

    launched = _cycle(by=users[names["discipline"]], root=root, year=year, today=today) if with_cycle else None
    return Subtree(
        root=root,
        cycle=launched,
        counts={
            "institutions": len(children),
            "departments": len(departments),
            "positions": len(posts),
            "risk_points": made,
            "controls": 2 * made,
            "tasks": launched.tasks.count() if launched else 0,
        },
    )


def _points_and_controls(batch: list[RiskPoint]) -> int:
    created = RiskPoint.objects.bulk_create(batch, batch_size=BATCH)
    Control.objects.bulk_create(
        [
            Control(
                risk_point=point,
                line=line,
                measure=f"{'事前' if c == 0 else '事中'}防控：{point.description[:20]}",
                owner="股室负责人",
                frequency=FREQUENCIES[(point.pk + c) % len(FREQUENCIES)],
            )
            for point in created
            for c, line in enumerate((Control.Line.PREVENTION, Control.Line.MONITORING))
        ],
        batch_size=BATCH,
    )
    control_quality_refresh(RiskPoint.objects.filter(pk__in=[point.pk for point in created]))
    return len(created)


def _cycle(*, by: User, root: Institution, year: int, today: datetime.date) -> Cycle:
    """The year's cycle of the whole subtree, launched by its discipline office, tasks generated."""
    phases = [
        PhaseSpec(kind, name, today + datetime.timedelta(days=start), today + datetime.timedelta(days=end))
        for kind, name, start, end in PHASES
    ]
    launched = cycle_launch(by=by, institution=root, year=year, phases=phases, today=phases[0].starts_on, enqueue=False)
    cycle_generate_tasks(cycle_id=launched.pk)
    return launched
