"""A generated province for the pages' benchmark (``manage.py seed_province``).

At scale 1: the province's discipline committee, 10 cities, 10 counties each (city and county
nodes are discipline committees) and 99 units under every county (bureaus, townships, villages,
public institutions in turn): 10,111 institutions; about 52 posts per unit (one bureau per city
with 1,100, whose register holds some 4,700 points), one holder each, 4.3 points per post
(2.2 M), 2.2 controls per point (4.9 M), one audit entry per point, a register per unit, notice
comments, level proposals, control runs, warning items and the year's cycle launched by the
province's office with its tasks (built by the cycle's own ``cycle_tasks_build``, written by
COPY). Every unit grades with its own copy of one of four presets.
``scale`` shrinks the numbers of units, counties and cities (in that order) for tests and trials.

Rows go in by COPY (``risk_registry.organisation.copy``) with ids chosen here, inside one transaction;
``fast`` turns off foreign-key triggers for the load (``session_replication_role = replica``,
the ids are consistent by construction; the tests load with the checks on and force them).
Every unit's register is at a stage (submitted … issued) with one point in ten still a draft.

Accounts, all with the password ``PASSWORD``: ``prov.province`` (the province's discipline
office), ``prov.superior`` (superior office of the province), ``prov.city`` (the first city's
discipline office), ``prov.bureau`` (discipline office stationed in the first city's big
bureau), ``prov.leader`` (its leadership), ``prov.head`` (head of its second department),
``prov.holder`` (holder of its third post); generated people are ``h<position id>`` (holders),
``l<institution id>`` (leadership), ``d<department id>`` (heads), ``j<institution id>``
(discipline offices of cities and counties).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from assessments.models import Task
from assessments.services import PhaseSpec, cycle_launch, cycle_tasks_build
from controls.models import Control, ControlRun
from integrity_warnings.ladder import SubjectKind
from integrity_warnings.models import WarningChannel, WarningGrade, WarningItem
from positions.models import Holding, Position, PositionUserObjectPermission
from positions.services import HOLD_PERMISSION
from risk_registry.demo.subtree import PHASES
from risk_registry.models import LevelProposal, NoticeComment, Register, RiskPoint, RiskPointState
from risk_registry.organisation.copy import Copier
from risk_registry.organisation.models import (
    AuditEntry,
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

PASSWORD = "province-2026"  # noqa: S105 (a benchmark's known test password, printed by the command)
PRESETS = ("level-1-highest", "level-3-highest", "abc", "four-levels")
UNIT_KINDS = (
    (Institution.Kind.BUREAU, "局"),
    (Institution.Kind.TOWNSHIP, "镇"),
    (Institution.Kind.VILLAGE, "村"),
    (Institution.Kind.PUBLIC_INSTITUTION, "中心"),
)
UNIT_DEPARTMENTS = ("领导班子", "办公室", "审批股", "财务股", "执法大队", "监督股")
OFFICE_DEPARTMENTS = ("领导班子", "办公室", "监督检查室")
POSTS_PER_UNIT = (20, 40, 52, 60, 88)  # 52 on average
BIG_UNIT_POSTS = 1100
# A unit's register stage; one point in ten is still a draft whatever the stage.
STAGES = (
    RiskPointState.SUBMITTED,
    RiskPointState.REVIEWED,
    RiskPointState.DEFINED,
    RiskPointState.APPROVED,
    RiskPointState.IN_NOTICE,
    RiskPointState.ISSUED,
    RiskPointState.ISSUED,
)
# Words the descriptions are made of: search terms of two and three characters find some of them.
DUTIES = ("行政审批", "收费管理", "项目招标", "资金拨付", "执法检查", "物资采购", "人事任免", "工程验收")
RISKS = (
    "违规办理，吃拿卡要",
    "优亲厚友，暗箱操作",
    "虚报冒领，截留挪用",
    "泄露信息，串通投标",
    "以权谋私，收受礼金",
    "降低标准，放宽条件",
)
# Most measures apply each time the power is used; one in 40 is yearly. Either way the cycle gives
# every control of an approved point one control-run task in the monitoring phase: 3.2 M tasks at
# scale 1 (2.5 M of them control runs), five times the issue's province, whose registers were less
# far along.
FREQUENCIES = (Control.Frequency.YEARLY, *(Control.Frequency.EACH_TIME,) * 39)
LINES = (Control.Line.PREVENTION, Control.Line.MONITORING, Control.Line.DISPOSITION)


@dataclass(frozen=True)
class Shape:
    cities: int
    counties: int  # per city
    units: int  # per county

    @classmethod
    def for_scale(cls, scale: float) -> Shape:
        """Units per county shrink first, then counties, then cities (10 × 10 × 99 at 1)."""
        return cls(
            cities=max(1, min(10, round(10_000 * scale))),
            counties=max(1, min(10, round(1_000 * scale))),
            units=max(1, round(99 * scale)),
        )


@dataclass
class Node:
    """An institution as generated: ids of its departments and posts are consecutive."""

    id: int
    parent_id: int | None
    code: str
    name: str
    kind: str
    path: str
    depth: int
    preset: int
    office: bool  # a discipline committee (province, city, county)
    posts: int = 0
    stage: str = RiskPointState.SUBMITTED
    scheme_id: int = 0
    level_first: int = 0
    department_first: int = 0
    departments: int = 0
    post_first: int = 0
    point_first: int = 0
    points: int = 0
    leader_id: int = 0
    discipline_id: int = 0  # its own office (committees) or the nearest one above (units)


@dataclass
class Province:
    root: Node
    counts: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # persona → user name


def points_of_post(post_index: int) -> int:
    return 5 if post_index % 10 < 3 else 4


def controls_of_point(point_id: int) -> int:
    return 3 if point_id % 5 == 0 else 2


@transaction.atomic
def province_seed(
    *,
    scale: float = 1.0,
    year: int | None = None,
    fast: bool = True,
    big_posts: int = BIG_UNIT_POSTS,
    say: Callable[[str], None] = print,
) -> Province:
    """Generate the province (see the module's docstring); refused on a database holding data."""
    if Institution.objects.exists() or User.objects.exists():
        raise ValueError("the database holds institutions or users already: seed_province needs a database of its own")
    today = timezone.localdate()
    year = year or today.year
    if fast:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    return _Generator(Shape.for_scale(scale), year=year, today=today, big_posts=big_posts, say=say).run()


class _Generator:
    def __init__(self, shape: Shape, *, year: int, today: datetime.date, big_posts: int, say: Callable[[str], None]):
        self.shape, self.year, self.today, self.say, self.big_posts = shape, year, today, say, big_posts
        self.nodes: list[Node] = []
        self.counts: dict[str, int] = {}
        self.password = make_password(PASSWORD)
        self.risk_types = list(
            RiskType.objects.filter(institution=None, is_active=True)
            .order_by("order", "pk")
            .values_list("pk", flat=True)
        )
        self.users = Copier(User, ["username", "password"])
        self.accounts: dict[str, str] = {}

    def run(self) -> Province:
        self.institutions()
        self.schemes()
        self.organisation()
        self.people()
        self.points()
        self.register_records()
        self.finish()  # the cycle's services insert through the ORM: sequences first
        self.cycle()
        self.finish()
        return Province(root=self.nodes[0], counts=self.counts, accounts=self.accounts)

    def finish(self) -> None:
        for value in self.__dict__.values():
            for copier in value if isinstance(value, tuple) else (value,):
                if isinstance(copier, Copier):
                    copier.finish()

    def _count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + n
        self.say(f"  {name}: {self.counts[name]}")

    # --- the tree --------------------------------------------------------------------------------

    def institutions(self) -> None:
        copier = Copier(Institution, ["parent_id", "code", "name", "kind", "path", "depth", "grading_scheme_id"])
        self.institution_copier = copier

        def add(parent: Node | None, code: str, name: str, kind: str, office: bool, preset: int) -> Node:
            pk = copier.take()
            node = Node(
                id=pk,
                parent_id=parent.id if parent else None,
                code=code,
                name=name,
                kind=kind,
                path=f"{parent.path if parent else '/'}{pk}/",
                depth=parent.depth + 1 if parent else 0,
                preset=preset,
                office=office,
            )
            self.nodes.append(node)
            return node

        committee = Institution.Kind.DISCIPLINE_COMMITTEE
        root = add(None, "prov", "某省纪委监委", committee, True, 0)
        root.posts = 12
        n = 0
        for c in range(self.shape.cities):
            city = add(root, f"c{c + 1}", f"第{c + 1}市纪委监委", committee, True, 0)
            city.posts = 12
            for k in range(self.shape.counties):
                county = add(city, f"c{c + 1}-{k + 1}", f"第{c + 1}市第{k + 1}县纪委监委", committee, True, 0)
                county.posts = 12
                for u in range(self.shape.units):
                    kind, suffix = UNIT_KINDS[n % len(UNIT_KINDS)]
                    big = k == 0 and u == 0
                    unit = add(
                        county,
                        f"c{c + 1}-{k + 1}-{u + 1}",
                        f"第{c + 1}市第{k + 1}县" + ("市场监督管理局" if big else f"第{u + 1}{suffix}"),
                        Institution.Kind.BUREAU if big else kind,
                        False,
                        n % len(PRESETS),
                    )
                    unit.posts = self.big_posts if big else POSTS_PER_UNIT[n % len(POSTS_PER_UNIT)]
                    unit.stage = STAGES[n % len(STAGES)]
                    n += 1
        self.root = root
        self.big = self.nodes[3]  # the first city's first county's first unit

    def schemes(self) -> None:
        """A template scheme per preset (the root's own is the first), then a copy per institution."""
        definitions = {p["code"]: p for p in GRADING_PRESETS}
        root_row = Institution(
            pk=self.root.id, code=self.root.code, name=self.root.name, kind=self.root.kind, path=self.root.path
        )
        # The root goes in first: the templates belong to it.
        self.institution_copier.write(
            [(self.root.id, None, self.root.code, self.root.name, self.root.kind, self.root.path, 0, None)]
        )
        templates = [grading_scheme_create(definition=definitions[code], institution=root_row) for code in PRESETS]
        levels: dict[int, list[dict[str, Any]]] = {
            t.pk: [dict(row) for row in GradeLevel.objects.filter(scheme=t).order_by("pk").values()] for t in templates
        }
        self.cells: list[dict[tuple[int, int], int]] = []  # per preset: (likelihood, severity) → level index
        self.sizes: list[tuple[int, int]] = []
        for t in templates:
            codes = [row["code"] for row in levels[t.pk]]
            self.cells.append(
                {(li + 1, si + 1): codes.index(code) for li, row in enumerate(t.matrix) for si, code in enumerate(row)}
            )
            self.sizes.append((len(t.likelihood_labels), len(t.severity_labels)))
        schemes = Copier(
            GradingScheme,
            [
                "institution_id",
                "code",
                "name",
                "description",
                "source",
                "likelihood_labels",
                "severity_labels",
                "matrix",
            ],
        )
        level_columns = ["scheme_id", "code", "name", "rank", "colour", "supervisor_role", "supervision", "band"]
        grade_levels = Copier(GradeLevel, level_columns)
        self.root.scheme_id, self.root.level_first = templates[0].pk, min(r["id"] for r in levels[templates[0].pk])
        scheme_rows, level_rows = [], []
        for node in self.nodes[1:]:
            t = templates[node.preset]
            node.scheme_id = schemes.take()
            scheme_rows.append(
                (
                    node.scheme_id,
                    node.id,
                    t.code,
                    t.name,
                    t.description,
                    t.source,
                    Jsonb(t.likelihood_labels),
                    Jsonb(t.severity_labels),
                    Jsonb(t.matrix),
                )
            )
            node.level_first = grade_levels.take(len(levels[t.pk]))
            for i, row in enumerate(levels[t.pk]):
                level_rows.append((node.level_first + i, node.scheme_id, *(row[c] for c in level_columns[1:])))
        self.institution_copier.write(
            (n.id, n.parent_id, n.code, n.name, n.kind, n.path, n.depth, n.scheme_id) for n in self.nodes[1:]
        )
        Institution.objects.filter(pk=self.root.id).update(grading_scheme_id=self.root.scheme_id, depth=0)
        schemes.write(scheme_rows)
        grade_levels.write(level_rows)
        self.schemes_copier, self.levels_copier = schemes, grade_levels
        self._count("institutions", len(self.nodes))

    def organisation(self) -> None:
        departments = Copier(Department, ["institution_id", "name", "kind", "order"])
        posts = Copier(Position, ["institution_id", "department_id", "title", "kind", "is_key_post", "duties"])
        self.departments_copier, self.posts_copier = departments, posts
        for node in self.nodes:
            names = OFFICE_DEPARTMENTS if node.office else UNIT_DEPARTMENTS
            node.departments = len(names)
            node.department_first = departments.take(len(names))
            node.post_first = posts.take(node.posts)
        departments.write(
            (
                node.department_first + d,
                node.id,
                name,
                Department.Kind.LEADERSHIP if d == 0 else Department.Kind.OFFICE,
                d,
            )
            for node in self.nodes
            for d, name in enumerate(OFFICE_DEPARTMENTS if node.office else UNIT_DEPARTMENTS)
        )
        posts.write(
            (
                node.post_first + p,
                node.id,
                self.department_of(node, p),
                f"{DUTIES[p % len(DUTIES)][:2]}岗位{p + 1}",
                (Position.Kind.PRINCIPAL, Position.Kind.DEPUTY)[p] if p < 2 else Position.Kind.GENERAL,
                p < 6,
                f"负责{DUTIES[p % len(DUTIES)]}工作",
            )
            for node in self.nodes
            for p in range(node.posts)
        )
        self._count("departments", departments.count)
        self._count("positions", posts.count)

    @staticmethod
    def department_of(node: Node, post_index: int) -> int:
        d = 0 if post_index < 2 else 1 + post_index % (node.departments - 1)
        return node.department_first + d

    # --- people ----------------------------------------------------------------------------------

    def people(self) -> None:
        """A holder per post, leadership per unit, a head per department, an office per committee."""
        users, memberships = self.users, Copier(Membership, ["user_id", "institution_id", "role", "department_id"])
        self.memberships_copier = memberships
        big = self.big
        personas = {
            "holder": ("h", big.post_first + 2),
            "head": ("d", big.department_first + 1),
            "leader": ("l", big.id),
            "city": ("j", self.nodes[1].id),
            "province": ("j", self.root.id),
        }
        renamed = {f"{prefix}{pk}": f"prov.{persona}" for persona, (prefix, pk) in personas.items()}
        self.accounts = {persona: f"prov.{persona}" for persona in (*personas, "bureau", "superior")}
        user_rows: list[tuple] = []
        membership_rows: list[tuple] = []

        def user(name: str) -> int:
            pk = users.take()
            user_rows.append((pk, renamed.get(name, name), self.password))
            return pk

        def member(user_id: int, institution_id: int, role: str, department_id: int | None = None) -> None:
            membership_rows.append((memberships.take(), user_id, institution_id, role, department_id))

        self.post_holder_first = users.next_id  # holders' ids follow the posts' order
        for node in self.nodes:
            for p in range(node.posts):
                user(f"h{node.post_first + p}")
        by_id = {node.id: node for node in self.nodes}
        for node in self.nodes:
            if node.office:
                node.discipline_id = user(f"j{node.id}")
                member(node.discipline_id, node.id, Role.DISCIPLINE)
            else:
                node.discipline_id = by_id[node.parent_id].discipline_id if node.parent_id else 0
            node.leader_id = user(f"l{node.id}")
            member(node.leader_id, node.id, Role.LEADERSHIP)
            for d in range(1, node.departments):
                member(user(f"d{node.department_first + d}"), node.id, Role.DEPT_HEAD, node.department_first + d)
        member(user("prov.bureau"), big.id, Role.DISCIPLINE)
        member(user("prov.superior"), self.root.id, Role.SUPERIOR)
        users.write(user_rows)
        memberships.write(membership_rows)
        self._count("users", users.count)
        self._count("memberships", memberships.count)

        holdings = Copier(Holding, ["user_id", "position_id", "started_on"])
        permissions = Copier(PositionUserObjectPermission, ["permission_id", "user_id", "content_object_id"])
        self.holdings_copier, self.permissions_copier = holdings, permissions
        app_label, codename = HOLD_PERMISSION.split(".")
        permission = Permission.objects.get(content_type__app_label=app_label, codename=codename).pk
        started = self.today - datetime.timedelta(days=400)
        total = self.posts_copier.count
        first_post = self.nodes[0].post_first
        holdings.write((holdings.take(), self.post_holder_first + i, first_post + i, started) for i in range(total))
        permissions.write(
            (permissions.take(), permission, self.post_holder_first + i, first_post + i) for i in range(total)
        )
        self._count("holdings", holdings.count)

    def holder_of(self, node: Node, post_index: int) -> int:
        return self.post_holder_first + (node.post_first + post_index - self.nodes[0].post_first)

    # --- the registers ---------------------------------------------------------------------------

    def point_rows(self) -> Iterator[tuple]:
        for node in self.nodes:
            if node.office:
                continue
            size_l, size_s = self.sizes[node.preset]
            cells = self.cells[node.preset]
            pk = node.point_first
            for p in range(node.posts):
                post = node.post_first + p
                duty = DUTIES[p % len(DUTIES)]
                for k in range(points_of_post(p)):
                    likelihood, severity = 1 + (pk * 7 + k) % size_l, 1 + (pk * 3 + p) % size_s
                    state = RiskPointState.DRAFT if pk % 10 == 0 else node.stage
                    yield (
                        pk,
                        node.id,
                        node.path,
                        self.department_of(node, p),
                        post,
                        self.year,
                        self.risk_types[pk % len(self.risk_types)],
                        f"{duty}中{RISKS[(pk + k) % len(RISKS)]}（{node.name}岗位{p + 1}第{k + 1}项）",
                        likelihood,
                        severity,
                        node.level_first + cells[(likelihood, severity)],
                        state,
                        self.holder_of(node, p),
                    )
                    pk += 1

    def points(self) -> None:
        points = Copier(
            RiskPoint,
            [
                "institution_id",
                "institution_path",
                "department_id",
                "position_id",
                "year",
                "risk_type_id",
                "description",
                "likelihood",
                "severity",
                "level_id",
                "state",
                "created_by_id",
            ],
        )
        self.points_copier = points
        for node in self.nodes:
            if not node.office:
                node.points = sum(points_of_post(p) for p in range(node.posts))
                node.point_first = points.take(node.points)
        points.write(self.point_rows())
        self._count("risk_points", points.count)

        controls = Copier(Control, ["risk_point_id", "line", "measure", "owner", "frequency"])
        self.controls_copier = controls
        controls.write(
            (
                controls.take(),
                pk,
                LINES[c],
                f"{('事前', '事中', '事后')[c]}防控：{description[:24]}",
                "股室负责人",
                FREQUENCIES[(pk * 3 + c) % len(FREQUENCIES)],
            )
            for pk, _i, _path, _d, _p, _y, _t, description, *_ in self.point_rows()
            for c in range(controls_of_point(pk))
        )
        self._count("controls", controls.count)

        audit = Copier(
            AuditEntry, ["actor_id", "institution_id", "action", "target_type", "target_id", "summary", "private"]
        )
        self.audit_copier = audit
        label = RiskPoint._meta.label_lower
        audit.write(
            (
                audit.take(),
                holder,
                institution,
                "risk_point.create" if state == RiskPointState.DRAFT else "risk_point.submit",
                label,
                pk,
                description[:120],
                state == RiskPointState.DRAFT,
            )
            for pk, institution, _path, _d, _p, _y, _t, description, _l, _s, _lv, state, holder in self.point_rows()
        )
        self._count("audit_entries", audit.count)

    def register_records(self) -> None:
        """A register per unit; comments in notice, proposals on defined points, control runs on issued ones."""
        registers = Copier(Register, ["institution_id", "year", "notice_starts_on", "notice_ends_on"])
        comments = Copier(NoticeComment, ["register_id", "risk_point_id", "author_id", "text"])
        proposals = Copier(
            LevelProposal,
            ["risk_point_id", "likelihood", "severity", "level_id", "reason", "proposed_by_id", "proposed_at"],
        )
        runs = Copier(ControlRun, ["control_id", "ran_on", "description", "recorded_by_id"])
        warnings = Copier(
            WarningItem,
            [
                "institution_id",
                "number",
                "channel_id",
                "received_on",
                "facts",
                "subject_kind",
                "grade_id",
                "created_by_id",
            ],
        )
        self.records = (registers, comments, proposals, runs, warnings)
        units = [node for node in self.nodes if not node.office]
        published = (RiskPointState.IN_NOTICE, RiskPointState.ISSUED)
        register_of: dict[int, int] = {}
        rows = []
        for node in units:
            register_of[node.id] = registers.take()
            notice = node.stage in published
            start = self.today - datetime.timedelta(days=10) if notice else None
            rows.append(
                (
                    register_of[node.id],
                    node.id,
                    self.year,
                    start,
                    start + datetime.timedelta(days=14) if start else None,
                )
            )
        registers.write(rows)
        comments.write(
            (
                comments.take(),
                register_of[node.id],
                node.point_first + 1 + i,
                self.holder_of(node, i),
                f"建议细化第{i + 1}项防控措施",
            )
            for node in units
            if node.stage in published
            for i in range(3)
        )
        now = timezone.now()
        proposals.write(
            (
                proposals.take(),
                pk,
                1,
                1,
                node.level_first + self.cells[node.preset][(1, 1)],
                "风险等级偏低，建议提级",
                node.discipline_id,
                now,
            )
            for node in units
            if node.stage == RiskPointState.DEFINED
            for pk in range(node.point_first + 1, node.point_first + node.points, 50)
        )
        # The first control of every third issued point ran once: control ids follow the points'.
        first_control: dict[int, int] = {}
        control_id = self.controls_copier.first_id
        for node in units:
            for pk in range(node.point_first, node.point_first + node.points):
                if node.stage == RiskPointState.ISSUED and pk % 3 == 1 and pk % 10:
                    first_control[pk] = control_id
                control_id += controls_of_point(pk)
        holder_of_point = {}
        for node in units:
            pk = node.point_first
            for p in range(node.posts):
                for _k in range(points_of_post(p)):
                    if pk in first_control:
                        holder_of_point[pk] = self.holder_of(node, p)
                    pk += 1
        runs.write(
            (
                runs.take(),
                control,
                self.today - datetime.timedelta(days=pk % 60),
                "按要求开展并留痕",
                holder_of_point[pk],
            )
            for pk, control in first_control.items()
        )
        channel = (
            WarningChannel.objects.filter(institution=None).order_by("order", "pk").values_list("pk", flat=True).first()
        )
        if channel is not None:
            third = WarningGrade.objects.get(institution__isnull=True, rank=3)  # the default scale's 三级
            warnings.write(
                (
                    warnings.take(),
                    node.id,
                    f"{self.year}-{i + 1:03d}",
                    channel,
                    self.today - datetime.timedelta(days=i * 30),
                    "反映该单位存在违规收费问题",
                    SubjectKind.INSTITUTION,
                    third.pk,
                    node.discipline_id,
                )
                for node in units
                for i in range(2)
            )
        for name, copier in zip(
            ("registers", "notice_comments", "level_proposals", "control_runs", "warning_items"),
            self.records,
            strict=True,
        ):
            self._count(name, copier.count)

    def cycle(self) -> None:
        """The year's cycle of the whole province, launched by its office, tasks built and copied."""
        office = User.objects.get(username=self.accounts["province"])
        root = Institution.objects.get(pk=self.root.id)
        phases = [
            PhaseSpec(
                kind, name, self.today + datetime.timedelta(days=start), self.today + datetime.timedelta(days=end)
            )
            for kind, name, start, end in PHASES
        ]
        launched = cycle_launch(
            by=office, institution=root, year=self.year, phases=phases, today=phases[0].starts_on, enqueue=False
        )
        columns = [
            f.attname
            for f in Task._meta.concrete_fields
            if not f.primary_key and not f.generated and not getattr(f, "auto_now_add", False)
        ]
        tasks = Copier(Task, columns)
        self.tasks_copier = tasks
        tasks.write((tasks.take(), *(getattr(task, name) for name in columns)) for task in cycle_tasks_build(launched))
        launched.tasks_generated_at = timezone.now()
        launched.save(update_fields=["tasks_generated_at"])
        self._count("tasks", tasks.count)
