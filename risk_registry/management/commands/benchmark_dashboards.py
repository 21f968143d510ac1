"""``python manage.py benchmark_dashboards [--rounds 30] [--grow 0] [--write docs/performance.md]``.

Times each dashboard as a whole page (Django's test client: view, queries, template) for the demo
county's users (``seed_demo``), and prints p50 / p95 and the number of queries per page. With
``--grow N`` it first adds N institutions under the oversight user's root, each with a department,
a position and six points, inside a transaction that is rolled back at the end (nothing stays): the
query count must not move. ``--write`` puts the table, with the machine it ran on, in a Markdown
file (between its markers, the rest of the file kept). Nothing is asserted (the tests do that); the
database is the one the settings name.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Cycle
from positions.models import Position
from risk_registry.management.benchmarking import load_text, machine, write_section
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Department, GradeLevel, Institution, Membership, RiskType, Role
from risk_registry.organisation.services import grading_scheme_adopt_preset, institution_create

PAGES = (
    ("home page (for comparison)", "holder", "/"),
    ("oversight, whole county (superior office)", "oversight", "/dashboards/oversight/"),
    ("oversight, whole county (discipline office)", "discipline", "/dashboards/oversight/"),
    ("oversight, one institution", "oversight", "/dashboards/oversight/?institution={code}"),
    ("leadership", "leadership", "/dashboards/leadership/"),
    ("mine (post holder)", "holder", "/dashboards/mine/"),
    ("mine (department head)", "head", "/dashboards/mine/"),
    ("cycle board, the root's cycle (discipline office)", "discipline", "/cycles/{cycle}/"),
)


# The part of the Markdown file this command rewrites; the text around it is left as it is.
START, END = "<!-- benchmark_dashboards: start -->", "<!-- benchmark_dashboards: end -->"


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=30)
        parser.add_argument("--grow", type=int, default=0, help="institutions to add (rolled back)")
        parser.add_argument("--write", default="", help="Markdown file for the results")
        parser.add_argument("--oversight", default="county.superior")
        parser.add_argument("--discipline", default="county.discipline")
        parser.add_argument("--leadership", default="scj.leader")
        parser.add_argument("--holder", default="scj.holder1")
        parser.add_argument("--head", default="scj.head.djzc")

    def handle(self, *args, rounds, grow, write, **options):
        users = {}
        for persona in ("oversight", "discipline", "leadership", "holder", "head"):
            try:
                users[persona] = get_user_model().objects.get(username=options[persona])
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {options[persona]!r}: run seed_demo, or name the users") from None
        try:
            with transaction.atomic():
                results = self.measure(users, rounds=rounds, grow=grow)
                raise Rollback
        except Rollback:
            pass
        if write:
            self.write(Path(write), results, rounds=rounds, grow=grow)

    def measure(self, users, *, rounds: int, grow: int) -> list[tuple[str, float, float, int]]:
        root = Membership.objects.filter(user=users["oversight"], role__in=(Role.SUPERIOR, Role.DISCIPLINE)).first()
        if root is None:
            raise CommandError("the oversight user has no discipline or superior role")
        if grow:
            self.grow(root.institution, grow)
        count = Institution.objects.filter(path__startswith=root.institution.path).count()
        self.stdout.write(f"{count} institutions under {root.institution.name}, {RiskPoint.objects.count()} points")
        code = (
            Institution.objects.filter(parent=root.institution).order_by("path").values_list("code", flat=True).first()
        )
        cycles = Cycle.objects.filter(institution=root.institution).order_by("-year")
        cycle = cycles.values_list("pk", flat=True).first()
        host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "localhost")
        results = []
        for label, persona, url in PAGES:
            if "{cycle}" in url and cycle is None:
                continue  # no cycle launched at the root: no board to time
            client = Client(HTTP_HOST=host)
            client.force_login(users[persona])
            url = url.format(code=code or root.institution.code, cycle=cycle)
            for _ in range(2):  # warm: the first request loads templates and translations
                client.get(url)
            timings, queries = [], 0
            for _ in range(rounds):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                queries = len(captured.captured_queries)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code} for {users[persona].username}")
            p50 = statistics.median(timings)
            p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
            results.append((label, p50, p95, queries))
            self.stdout.write(f"{label:44} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {queries:3d} queries")
        return results

    def grow(self, root: Institution, n: int) -> None:
        """``n`` institutions under ``root``, each with a department, a post and six points."""
        risk_type = RiskType.objects.filter(institution=None).first()
        for i in range(n):
            institution = institution_create(
                code=f"bench-dash-{i}", name=f"基准单位{i}", kind=Institution.Kind.BUREAU, parent=root
            )
            scheme = grading_scheme_adopt_preset(institution=institution, preset_code="level-1-highest")
            levels = {level.code: level for level in GradeLevel.objects.filter(scheme=scheme)}
            department = Department.objects.create(institution=institution, name="办公室")
            position = Position.objects.create(institution=institution, department=department, title="岗位")
            RiskPoint.objects.bulk_create(
                RiskPoint(
                    institution=institution,
                    department=department,
                    position=position,
                    year=timezone.localdate().year,
                    risk_type=risk_type,
                    description="基准风险点",
                    likelihood=1 + p % 3,
                    severity=1 + p // 3,
                    level=levels[scheme.matrix[p % 3][p // 3]],
                    state=RiskPointState.SUBMITTED,
                )
                for p in range(6)
            )

    def write(self, path: Path, results, *, rounds: int, grow: int) -> None:
        lines = [
            "| dashboard | p50 (ms) | p95 (ms) | queries |",
            "|---|---:|---:|---:|",
            *(f"| {label} | {p50:.1f} | {p95:.1f} | {queries} |" for label, p50, p95, queries in results),
        ]
        text = "\n".join(
            [
                f"Measured {timezone.localdate()} with `manage.py benchmark_dashboards --rounds {rounds}"
                + (f" --grow {grow}" if grow else "")
                + "`",
                f"({load_text()}) {machine()}",
                "",
                f"{Institution.objects.count()} institutions, {RiskPoint.objects.count()} risk points in the database.",
                "",
                *lines,
                "",
            ]
        )
        write_section(path, text, marker="benchmark_dashboards", heading="Dashboards")
        self.stdout.write(f"written to {path}")
