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
import random
import time
from collections.abc import Iterable

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Cycle, Notification, Phase, Task
from assessments.scan import deadline_scan
from assessments.services import default_phases
from risk_registry.organisation.models import GradeLevel, Institution, RiskType

ROOT = "bench-province"
AS_OF = datetime.datetime(2026, 6, 15, 9, 0)
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


class Command(BaseCommand):
    help = "Generate a province-sized cycle with COPY (once) and time the deadline scan over it."

    def add_arguments(self, parser):
        parser.add_argument("--institutions", type=int, default=10_000)
        parser.add_argument("--tasks", type=int, default=500_000)
        parser.add_argument("--due-share", type=float, default=0.05, help="share of tasks near or past due")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, institutions, tasks, due_share, seed, **options):
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
        self.stdout.write(
            f"data: {Institution.objects.filter(path__startswith=big.institution.path).count():,} institutions, "
            f"{Task.objects.filter(cycle=big).count():,} tasks in the big cycle, "
            f"{Task.objects.filter(cycle=small).count():,} in the small one; scan as of {AS_OF:%Y-%m-%d %H:%M}"
        )
        now = timezone.make_aware(AS_OF)
        with transaction.atomic():
            for label, cycle in (("small cycle", small), ("big cycle", big)):
                for run in ("first scan", "second scan"):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.monotonic()
                        result = deadline_scan(now=now, cycle_ids=[cycle.pk])
                        seconds = time.monotonic() - started
                    self.stdout.write(
                        f"{label:<12} {run:<12} {len(queries):>3} queries  {seconds:7.2f} s  "
                        f"{result.considered:>7,} open tasks near or past due  {len(result.created):>7,} notifications"
                    )
            transaction.set_rollback(True)  # leave the data as it was: the next run measures the same

    # --- data ------------------------------------------------------------------------------------

    def generate(self, institution_count: int, task_count: int, due_share: float) -> None:
        level = GradeLevel.objects.order_by("id").first()
        risk_type = RiskType.objects.filter(institution=None).order_by("id").first()
        password = "!"  # noqa: S105 - an unusable password: nobody logs in as these
        joined = timezone.make_aware(datetime.datetime(2026, 1, 1))

        # Institutions: a province, 100 cities, the rest counties/bureaus spread under the cities.
        first = _next_id("risk_registry_institution")
        ids = list(range(first, first + institution_count))
        cities = ids[1:101]
        paths = {ids[0]: f"/{ids[0]}/"}
        parents = {ids[0]: None}
        for pk in cities:
            parents[pk] = ids[0]
        for i, pk in enumerate(ids[101:]):
            parents[pk] = cities[i % len(cities)]
        for pk in ids[1:]:
            paths[pk] = f"{paths[parents[pk]]}{pk}/"
        _copy(
            "risk_registry_institution",
            ("id", "code", "name", "kind", "path", "depth", "parent_id"),
            (
                (
                    pk,
                    ROOT if pk == ids[0] else f"bench-{pk}",
                    f"单位{pk}",
                    "bureau",
                    paths[pk],
                    paths[pk].count("/") - 2,
                    parents[pk],
                )
                for pk in ids
            ),
        )
        departments = []
        first_dept = _next_id("risk_registry_department")
        for i, pk in enumerate(ids):
            for n in range(DEPARTMENTS_PER_INSTITUTION):
                departments.append((first_dept + i * DEPARTMENTS_PER_INSTITUTION + n, pk))
        _copy(
            "risk_registry_department",
            ("id", "institution_id", "name", "kind", '"order"'),
            ((d, inst, f"科室{d}", "office", 0) for d, inst in departments),
        )
        positions = []
        first_position = _next_id("positions_position")
        for j, (dept, inst) in enumerate(departments):
            for n in range(POSITIONS_PER_DEPARTMENT):
                positions.append((first_position + j * POSITIONS_PER_DEPARTMENT + n, dept, inst))
        _copy(
            "positions_position",
            ("id", "title", "kind", "is_key_post", "duties", "department_id", "institution_id"),
            ((p, f"岗位{p}", "general", False, "", d, i) for p, d, i in positions),
        )
        # One user per position (its holder), one head per department, one principal and one
        # discipline officer per institution.
        first_user = _next_id("auth_user")
        holder_of = {p[0]: first_user + n for n, p in enumerate(positions)}
        head_of = {d: first_user + len(positions) + n for n, (d, _i) in enumerate(departments)}
        base = first_user + len(positions) + len(departments)
        principal_of = {pk: base + n for n, pk in enumerate(ids)}
        discipline_of = {pk: base + len(ids) + n for n, pk in enumerate(ids)}
        users = [*holder_of.values(), *head_of.values(), *principal_of.values(), *discipline_of.values()]
        _copy(
            "auth_user",
            (
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
            ),
            (
                (u, password, False, f"bench{u}", "某", "张", f"bench{u}@example.gov", False, True, joined)
                for u in users
            ),
        )
        first_membership = _next_id("risk_registry_membership")
        memberships = [(u, inst, "dept_head", d) for d, inst in departments for u in [head_of[d]]]
        memberships += [(principal_of[pk], pk, "principal", None) for pk in ids]
        memberships += [(discipline_of[pk], pk, "discipline", None) for pk in ids]
        _copy(
            "risk_registry_membership",
            ("id", "user_id", "institution_id", "role", "department_id"),
            ((first_membership + n, *m) for n, m in enumerate(memberships)),
        )

        # The cycles (ORM: a handful of rows) and their tasks (COPY).
        root = Institution.objects.get(pk=ids[0])
        launcher = root.memberships.get(role="discipline").user
        big = Cycle.objects.create(
            institution=root, year=2026, name="bench", launched_by=launcher, tasks_generated_at=timezone.now()
        )
        small = Cycle.objects.create(
            institution_id=cities[0],
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
        phase_of = {(c, p.kind): p.pk for c in (big, small) for p in c.phases.all()}

        # Risk points with one control each for the control runs (4 periods a control).
        controls_needed = task_count // 4  # more than the tasks left need: the generator stops at the count
        first_point, first_control = _next_id("risk_registry_riskpoint"), _next_id("controls_control")
        point_rows = []
        for n in range(controls_needed):
            pid, dept, inst = positions[n * len(positions) // controls_needed]
            point_rows.append((first_point + n, inst, dept, pid))
        _copy(
            "risk_registry_riskpoint",
            (
                "id",
                "institution_id",
                "department_id",
                "position_id",
                "year",
                "risk_type_id",
                "found_by",
                "description",
                "manifestation",
                "likelihood",
                "severity",
                "level_id",
                "state",
                "needs_regrading",
                "regrading_reason",
                "version",
                "created_at",
                "updated_at",
            ),
            (
                (
                    pk,
                    inst,
                    dept,
                    pid,
                    2026,
                    risk_type.pk,
                    "self",
                    "风险",
                    "",
                    2,
                    2,
                    level.pk,
                    self.random.choice(("submitted", "reviewed", "approved", "issued")),
                    False,
                    "",
                    0,
                    joined,
                    joined,
                )
                for pk, inst, dept, pid in point_rows
            ),
        )
        _copy(
            "controls_control",
            ("id", "risk_point_id", "line", "measure", "owner", "frequency", "evidence"),
            (
                (first_control + n, row[0], "monitoring", "抽查", "", "quarterly", "")
                for n, row in enumerate(point_rows)
            ),
        )

        def due() -> datetime.date:
            if self.random.random() < due_share:  # near or past due: the scan's work
                return self.today + datetime.timedelta(days=self.random.randint(-10, 7))
            return self.today + datetime.timedelta(days=self.random.randint(30, 190))

        def task_rows(cycle: Cycle, count: int, limit_institutions: set[int] | None):
            made = 0
            chosen = [p for p in positions if limit_institutions is None or p[2] in limit_institutions]
            for pid, dept, inst in chosen:  # self-checks
                if made >= count * 2 // 5:
                    break
                yield (
                    cycle.pk,
                    phase_of[(cycle, "inventory")],
                    "self_check",
                    f"self_check:{pid}",
                    2026,
                    inst,
                    dept,
                    pid,
                    None,
                    None,
                    due(),
                    holder_of[pid],
                )
                made += 1
            for d, inst in departments:  # department reviews
                if limit_institutions is not None and inst not in limit_institutions:
                    continue
                if made >= count * 9 // 20:
                    break
                yield (
                    cycle.pk,
                    phase_of[(cycle, "inventory")],
                    "dept_review",
                    f"dept_review:{d}",
                    2026,
                    inst,
                    d,
                    None,
                    None,
                    None,
                    due(),
                    head_of[d],
                )
                made += 1
            for inst in ids:  # the register and the self-assessment
                if limit_institutions is not None and inst not in limit_institutions:
                    continue
                if made >= count * 3 // 5:
                    break
                for kind, owner in (
                    ("register_define", discipline_of),
                    ("register_approve", principal_of),
                    ("register_notice", discipline_of),
                    ("register_file", principal_of),
                    ("self_assessment", principal_of),
                ):
                    phase = "inspection" if kind == "self_assessment" else "controls"
                    yield (
                        cycle.pk,
                        phase_of[(cycle, phase)],
                        kind,
                        f"{kind}:{inst}",
                        2026,
                        inst,
                        None,
                        None,
                        None,
                        None,
                        due(),
                        owner[inst],
                    )
                    made += 1
            periods = [(datetime.date(2026, m, 1), datetime.date(2026, m + 2, 28)) for m in (1, 4, 7, 10)]
            for n, (_pk, inst, dept, pid) in enumerate(point_rows):  # control runs
                if limit_institutions is not None and inst not in limit_institutions:
                    continue
                for start, _end in periods:
                    if made >= count:
                        return
                    yield (
                        cycle.pk,
                        phase_of[(cycle, "monitoring")],
                        "control_run",
                        f"control_run:{first_control + n}:{start:%Y%m%d}",
                        2026,
                        inst,
                        dept,
                        pid,
                        first_control + n,
                        start,
                        due(),
                        holder_of[pid],
                    )
                    made += 1

        columns = (
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
        made = _copy("assessments_task", columns, task_rows(big, task_count, None))
        small_institutions = {pk for pk in ids if paths[pk].startswith(paths[cities[0]])}
        made_small = _copy("assessments_task", columns, task_rows(small, task_count // 100, small_institutions))
        for table in (
            "risk_registry_institution",
            "risk_registry_department",
            "positions_position",
            "auth_user",
            "risk_registry_membership",
            "risk_registry_riskpoint",
            "controls_control",
        ):
            _reset_sequence(table)
        Notification.objects.filter(task__cycle__in=(big, small)).delete()
        self.stdout.write(
            f"wrote {len(ids):,} institutions, {len(departments):,} departments, {len(positions):,} positions, "
            f"{len(users):,} users, {len(point_rows):,} risk points and controls, {made:,} + {made_small:,} tasks"
        )
