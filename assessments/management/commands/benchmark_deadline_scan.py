"""Benchmark the deadline scan on a province-sized cycle (not a test: it prints figures).

    createdb -h 127.0.0.1 -U postgres rr_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/rr_bench
    python manage.py migrate
    python manage.py benchmark_deadline_scan            # 10,000 institutions, 500,000 tasks, 5 % due

The first run writes the data with COPY (a few minutes); later runs reuse it. The scans run in a
transaction that is rolled back, so every run measures the same first scan and the same second
(idempotent) one. A small cycle (1 % of the size) is scanned too, to show that the number of
queries does not grow with the number of tasks. Refuses a database whose name lacks "bench".
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from assessments.completion import tasks_refresh
from assessments.models import Cycle, Phase, Task
from assessments.scan import deadline_scan
from assessments.services import default_phases
from controls.models import Control
from risk_registry.models import RiskPoint
from risk_registry.organisation.copy import Copier
from risk_registry.organisation.models import GradeLevel, Institution, RiskType

ROOT = "bench-province"
AS_OF = datetime.datetime(2026, 6, 15, 9, 0)
# Four months on, the open tasks due between mid-July and the week ahead (about 200,000, most
# overdue by more than a week: owner, supervisor and discipline office each told) reach a stage
# at once, none reminded before: the first scan of a busy day, about as large as the issue's
# first scan in June on the generated province (611k notifications).
BUSY_AS_OF = datetime.datetime(2026, 10, 10, 9, 0)
DEPARTMENTS_PER_INSTITUTION = 3
POSITIONS_PER_DEPARTMENT = 6


def _copy(table: str, columns: Iterable[str], rows: Iterable[tuple]) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - our table names
        return cursor.fetchone()[0]


def _reset_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608


class _Counter:
    """Counts the queries (a ``connection.execute_wrapper``). Not Django's CaptureQueriesContext:
    that renders every statement with its parameters as text, which for the busiest day's arrays
    of hundreds of thousands of ids cost more than the statements themselves."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _server_cpu() -> float | None:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far, read from
    /proc when the server runs on this machine (else None): under load, wall time mostly says how
    busy the machine is, CPU time what the scan cost."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Command(BaseCommand):
    help = "Generate a province-sized cycle with COPY (once) and time the deadline scan over it."

    def add_arguments(self, parser):
        parser.add_argument("--institutions", type=int, default=10_000)
        parser.add_argument("--tasks", type=int, default=500_000)
        parser.add_argument("--due-share", type=float, default=0.05, help="share of tasks near or past due")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--busy",
            action="store_true",
            help=f"scan as of the busiest day ({BUSY_AS_OF:%Y-%m-%d}): about half the tasks near or past due at once, "
            "none reminded before (the first scan of a busy day)",
        )
        parser.add_argument("--runs", type=int, default=1, help="measure this many times; prints the median too")

    def handle(self, *args, institutions, tasks, due_share, seed, busy, runs, **options):
        name = connection.settings_dict["NAME"]
        if connection.vendor != "postgresql" or "bench" not in name:
            raise CommandError(f"run it on a dedicated PostgreSQL database whose name contains 'bench' (not {name!r})")
        self.random = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.today = AS_OF.date()
        if not Institution.objects.filter(code=ROOT).exists():
            started = time.monotonic()
            with transaction.atomic():
                self.generate(institutions, tasks, due_share)
            self.stdout.write(f"generated in {time.monotonic() - started:.0f} s")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        big = Cycle.objects.get(institution__code=ROOT)
        small = Cycle.objects.exclude(pk=big.pk).get(name="bench-small")
        as_of = BUSY_AS_OF if busy else AS_OF
        self.stdout.write(
            f"data: {Institution.objects.filter(path__startswith=big.institution.path).count():,} institutions, "
            f"{Task.objects.filter(cycle=big).count():,} tasks in the big cycle, "
            f"{Task.objects.filter(cycle=small).count():,} in the small one; scan as of {as_of:%Y-%m-%d %H:%M}"
        )
        now = timezone.make_aware(as_of)
        timings: dict[str, list[float]] = {}
        cpus: dict[str, list[float]] = {}  # this process's CPU plus its backend's, per scan
        for _ in range(runs):
            with transaction.atomic():
                for label, cycle in (("small cycle", small), ("big cycle", big)):
                    for run in ("first scan", "second scan"):
                        queries = _Counter()
                        server = _server_cpu()
                        with connection.execute_wrapper(queries):
                            started, cpu = time.monotonic(), time.process_time()
                            result = deadline_scan(now=now, cycle_ids=[cycle.pk])
                            # What a commit would check: the foreign keys are deferred to the end of
                            # the transaction, which this benchmark rolls back. Checked now, and timed.
                            with connection.cursor() as cursor:
                                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                            seconds, cpu = time.monotonic() - started, time.process_time() - cpu
                        server_after = _server_cpu()
                        server = server_after - server if server is not None and server_after is not None else None
                        timings.setdefault(f"{label:<12} {run:<12}", []).append(seconds)
                        cpus.setdefault(f"{label:<12} {run:<12}", []).append(cpu + (server or 0))
                        self.stdout.write(
                            f"{label:<12} {run:<12} {queries.count:>3} queries  {seconds:7.2f} s  "
                            f"cpu {cpu:6.2f} s here + {server if server is not None else float('nan'):6.2f} s server  "
                            f"{result.considered:>7,} deadlines near or past due  "
                            f"{len(result.created):>7,} notifications  {result.task_notices:>7,} task stages recorded  "
                            f"{result.reconciled:>6,} reconciled"
                        )
                transaction.set_rollback(True)  # leave the data as it was: the next run measures the same
        if runs > 1:
            for row, measured in timings.items():
                self.stdout.write(
                    f"{row} median of {runs}: {statistics.median(measured):.2f} s  (all: "
                    + ", ".join(f"{s:.2f}" for s in measured)
                    + f"); cpu median {statistics.median(cpus[row]):.2f} s (all: "
                    + ", ".join(f"{s:.2f}" for s in cpus[row])
                    + ")"
                )

    # --- data ------------------------------------------------------------------------------------

    def generate(self, institution_count: int, task_count: int, due_share: float) -> None:
        province = _Province(random=self.random, today=self.today, due_share=due_share)
        province.write_institutions(institution_count)
        province.write_departments_and_positions()
        province.write_people()
        big, small = province.write_cycles()
        province.write_points_and_controls(controls_needed=task_count // 4)  # 4 periods a control
        made = _copy("assessments_task", TASK_COLUMNS, province.task_rows(big, task_count, None))
        small_institutions = {
            pk for pk in province.ids if province.paths[pk].startswith(province.paths[province.cities[0]])
        }
        made_small = _copy(
            "assessments_task", TASK_COLUMNS, province.task_rows(small, task_count // 100, small_institutions)
        )
        for table in (
            "organisation_institution",
            "organisation_department",
            "positions_position",
            "auth_user",
            "organisation_membership",
            "risk_registry_riskpoint",
            "controls_control",
        ):
            _reset_sequence(table)
        # Stored completion as the services keep it (the COPY wrote every task open): else the first
        # scan's reconciliation would write some 135,000 tasks and measure that instead.
        tasks_refresh(Task.objects.filter(cycle__in=(big, small)))
        self.stdout.write(
            f"wrote {len(province.ids):,} institutions, {len(province.departments):,} departments, "
            f"{len(province.positions):,} positions, {province.user_count:,} users, "
            f"{len(province.point_rows):,} risk points and controls, {made:,} + {made_small:,} tasks"
        )


TASK_COLUMNS = (
    "cycle_id",
    "phase_id",
    "kind",
    "key",
    "year",
    "institution_id",
    "department_id",
    "position_id",
    "control_id",
    "period_start",
    "due_on",
    "owner_id",
)
RISK_POINT_COLUMNS = (  # after the id; the others get their defaults (risk_registry.organisation.copy.Copier)
    "institution_id",
    "department_id",
    "position_id",
    "year",
    "risk_type_id",
    "found_by",
    "description",
    "likelihood",
    "severity",
    "level_id",
    "state",
)
USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
)
# The register's tasks of an institution, with the role that owns each.
REGISTER_TASKS = (
    ("register_define", "discipline"),
    ("register_approve", "principal"),
    ("register_notice", "discipline"),
    ("register_file", "principal"),
    ("self_assessment", "principal"),
)
PASSWORD = "!"  # noqa: S105 - an unusable password: nobody logs in as these
JOINED = datetime.datetime(2026, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))  # the product's TIME_ZONE


class _Province:
    """The generated province, written table by table with COPY; keeps the ids the next table needs."""

    def __init__(self, *, random: random.Random, today: datetime.date, due_share: float) -> None:
        self.random = random
        self.today = today
        self.due_share = due_share
        self.ids: list[int] = []
        self.cities: list[int] = []
        self.paths: dict[int, str] = {}
        self.departments: list[tuple[int, int]] = []  # (department, institution)
        self.positions: list[tuple[int, int, int]] = []  # (position, department, institution)
        self.holder_of: dict[int, int] = {}
        self.head_of: dict[int, int] = {}
        self.principal_of: dict[int, int] = {}
        self.discipline_of: dict[int, int] = {}
        self.user_count = 0
        self.phase_of: dict[tuple[Cycle, str], int] = {}
        self.point_rows: list[tuple[int, int, int, int]] = []  # (point, institution, department, position)
        self.first_control = 0

    def write_institutions(self, count: int) -> None:
        """A province, 100 cities, the rest counties/bureaus spread under the cities."""
        first = _next_id("organisation_institution")
        ids = self.ids = list(range(first, first + count))
        self.cities = ids[1:101]
        parents: dict[int, int | None] = {ids[0]: None}
        for pk in self.cities:
            parents[pk] = ids[0]
        for i, pk in enumerate(ids[101:]):
            parents[pk] = self.cities[i % len(self.cities)]
        self.paths = {ids[0]: f"/{ids[0]}/"}
        for pk in ids[1:]:
            self.paths[pk] = f"{self.paths[parents[pk] or ids[0]]}{pk}/"
        _copy(
            "organisation_institution",
            ("id", "code", "name", "kind", "path", "depth", "parent_id"),
            (
                (
                    pk,
                    ROOT if pk == ids[0] else f"bench-{pk}",
                    f"单位{pk}",
                    "bureau",
                    path,
                    path.count("/") - 2,
                    parents[pk],
                )
                for pk, path in self.paths.items()
            ),
        )

    def write_departments_and_positions(self) -> None:
        first_dept = _next_id("organisation_department")
        self.departments = [
            (first_dept + i * DEPARTMENTS_PER_INSTITUTION + n, pk)
            for i, pk in enumerate(self.ids)
            for n in range(DEPARTMENTS_PER_INSTITUTION)
        ]
        _copy(
            "organisation_department",
            ("id", "institution_id", "name", "kind", '"order"'),
            ((d, inst, f"科室{d}", "office", 0) for d, inst in self.departments),
        )
        first_position = _next_id("positions_position")
        self.positions = [
            (first_position + j * POSITIONS_PER_DEPARTMENT + n, dept, inst)
            for j, (dept, inst) in enumerate(self.departments)
            for n in range(POSITIONS_PER_DEPARTMENT)
        ]
        _copy(
            "positions_position",
            ("id", "title", "kind", "is_key_post", "duties", "department_id", "institution_id"),
            ((p, f"岗位{p}", "general", False, "", d, i) for p, d, i in self.positions),
        )

    def write_people(self) -> None:
        """One user per position (its holder), one head per department, one principal and one
        discipline officer per institution; their memberships."""
        first_user = _next_id("auth_user")
        self.holder_of = {p[0]: first_user + n for n, p in enumerate(self.positions)}
        self.head_of = {d: first_user + len(self.positions) + n for n, (d, _i) in enumerate(self.departments)}
        base = first_user + len(self.positions) + len(self.departments)
        self.principal_of = {pk: base + n for n, pk in enumerate(self.ids)}
        self.discipline_of = {pk: base + len(self.ids) + n for n, pk in enumerate(self.ids)}
        users = [*self.holder_of.values(), *self.head_of.values(), *self.principal_of.values()]
        users += self.discipline_of.values()
        self.user_count = len(users)
        _copy(
            "auth_user",
            USER_COLUMNS,
            (
                (u, PASSWORD, False, f"bench{u}", "某", "张", f"bench{u}@example.gov", False, True, JOINED)
                for u in users
            ),
        )
        first_membership = _next_id("organisation_membership")
        memberships: list[tuple[int, int, str, int | None]] = [
            (self.head_of[d], inst, "dept_head", d) for d, inst in self.departments
        ]
        memberships += [(self.principal_of[pk], pk, "principal", None) for pk in self.ids]
        memberships += [(self.discipline_of[pk], pk, "discipline", None) for pk in self.ids]
        _copy(
            "organisation_membership",
            ("id", "user_id", "institution_id", "role", "department_id"),
            ((first_membership + n, *m) for n, m in enumerate(memberships)),
        )

    def write_cycles(self) -> tuple[Cycle, Cycle]:
        """The big cycle over the province and a small one over the first city (ORM: a few rows)."""
        root = Institution.objects.get(pk=self.ids[0])
        launcher = root.memberships.get(role="discipline").user
        big = Cycle.objects.create(
            institution=root, year=2026, name="bench", launched_by=launcher, tasks_generated_at=timezone.now()
        )
        small = Cycle.objects.create(
            institution_id=self.cities[0],
            year=2026,
            name="bench-small",
            launched_by=launcher,
            tasks_generated_at=timezone.now(),
        )
        for cycle in (big, small):
            Phase.objects.bulk_create(
                Phase(cycle=cycle, order=n, kind=p.kind, name=p.name, starts_on=p.starts_on, due_on=p.due_on)
                for n, p in enumerate(default_phases(2026), start=1)
            )
        self.phase_of = {(c, p.kind): p.pk for c in (big, small) for p in c.phases.all()}
        return big, small

    def write_points_and_controls(self, *, controls_needed: int) -> None:
        """Risk points with one control each, for the control runs (more than the tasks need)."""
        level = GradeLevel.objects.order_by("id").first()
        risk_type = RiskType.objects.filter(institution=None).order_by("id").first()
        if level is None or risk_type is None:
            raise CommandError("migrate first: the grading presets and risk types are missing")
        first_point, self.first_control = _next_id("risk_registry_riskpoint"), _next_id("controls_control")
        for n in range(controls_needed):
            pid, dept, inst = self.positions[n * len(self.positions) // controls_needed]
            self.point_rows.append((first_point + n, inst, dept, pid))
        states = ("submitted", "reviewed", "approved", "issued")
        # Copier fills every column the benchmark does not name with the field's default, so a
        # column added to the models later does not break the COPY.
        points = Copier(RiskPoint, RISK_POINT_COLUMNS)
        points.write(
            (
                pk,
                inst,
                dept,
                pid,
                2026,
                risk_type.pk,
                "self",
                "风险",
                2,
                2,
                level.pk,
                self.random.choice(states),
            )
            for pk, inst, dept, pid in self.point_rows
        )
        points.finish()
        controls = Copier(Control, ("risk_point_id", "line", "measure", "frequency"))
        controls.write(
            (self.first_control + n, row[0], "monitoring", "抽查", "quarterly") for n, row in enumerate(self.point_rows)
        )
        controls.finish()

    def due(self) -> datetime.date:
        if self.random.random() < self.due_share:  # near or past due: the scan's work
            return self.today + datetime.timedelta(days=self.random.randint(-10, 7))
        return self.today + datetime.timedelta(days=self.random.randint(30, 190))

    def task_rows(self, cycle: Cycle, count: int, institutions: set[int] | None) -> Iterator[tuple]:
        """``count`` tasks of ``cycle``: self-checks up to 40 %, department reviews to 45 %, the
        registers' tasks to 60 %, control runs for the rest (of ``institutions`` only, when given)."""
        kinds = (
            (count * 2 // 5, self._self_checks(cycle, institutions)),
            (count * 9 // 20, self._department_reviews(cycle, institutions)),
            (count * 3 // 5, self._register_tasks(cycle, institutions)),
            (count, self._control_runs(cycle, institutions)),
        )
        made = 0
        for up_to, rows in kinds:
            if made >= up_to:
                continue
            for row in rows:
                yield row
                made += 1
                if made >= up_to:
                    break

    def _task(self, cycle: Cycle, phase: str, kind: str, key: str, inst: int, **columns) -> tuple:
        return (
            cycle.pk,
            self.phase_of[(cycle, phase)],
            kind,
            key,
            2026,
            inst,
            columns.get("department"),
            columns.get("position"),
            columns.get("control"),
            columns.get("period_start"),
            self.due(),
            columns["owner"],
        )

    def _self_checks(self, cycle: Cycle, institutions: set[int] | None) -> Iterator[tuple]:
        for pid, dept, inst in self.positions:
            if institutions is None or inst in institutions:
                yield self._task(
                    cycle,
                    "inventory",
                    "self_check",
                    f"self_check:{pid}",
                    inst,
                    department=dept,
                    position=pid,
                    owner=self.holder_of[pid],
                )

    def _department_reviews(self, cycle: Cycle, institutions: set[int] | None) -> Iterator[tuple]:
        for dept, inst in self.departments:
            if institutions is None or inst in institutions:
                yield self._task(
                    cycle,
                    "inventory",
                    "dept_review",
                    f"dept_review:{dept}",
                    inst,
                    department=dept,
                    owner=self.head_of[dept],
                )

    def _register_tasks(self, cycle: Cycle, institutions: set[int] | None) -> Iterator[tuple]:
        owners = {"discipline": self.discipline_of, "principal": self.principal_of}
        for inst in self.ids:
            if institutions is not None and inst not in institutions:
                continue
            for kind, role in REGISTER_TASKS:
                phase = "inspection" if kind == "self_assessment" else "controls"
                yield self._task(cycle, phase, kind, f"{kind}:{inst}", inst, owner=owners[role][inst])

    def _control_runs(self, cycle: Cycle, institutions: set[int] | None) -> Iterator[tuple]:
        periods = [datetime.date(2026, month, 1) for month in (1, 4, 7, 10)]
        for n, (_pk, inst, dept, pid) in enumerate(self.point_rows):
            if institutions is not None and inst not in institutions:
                continue
            control = self.first_control + n
            for start in periods:
                yield self._task(
                    cycle,
                    "monitoring",
                    "control_run",
                    f"control_run:{control}:{start:%Y%m%d}",
                    inst,
                    department=dept,
                    position=pid,
                    control=control,
                    period_start=start,
                    owner=self.holder_of[pid],
                )
