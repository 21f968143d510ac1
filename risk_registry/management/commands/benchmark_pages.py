"""``python manage.py benchmark_pages [--rounds 30] [--budget 60] [--only WORD] [--write docs/performance.md]``.

Times the pages of every persona of ``seed_province``'s province as whole requests (Django's test
client: middleware, view, queries, template; run it with ``config.settings.test``, DEBUG off),
and, interleaved in the same rounds, the raw SQL that fetches what each page shows (written out
per page below, the best a hand-written query does for the same rows). Prints p50 / p95 of both,
the page's query count, the ratio page p50 / raw p50 and pass or fail against the performance
issue's goals: list, detail, home, inbox and audit pages p95 ≤ 100 ms and ≤ 3× their raw SQL;
dashboards, the progress board and search p95 ≤ 300 ms. A page slower than ``--budget`` seconds
in all stops after 5 rounds (the table says how many it ran). ``--write`` rewrites the marked
section of a Markdown file with the table and the machine (cores, memory, PostgreSQL, load
average at the start and the end). Nothing is written to the database but the sessions of its
signed-in clients.

Where a page's time goes, measured in the same rounds: **page SQL**, the time of the page's own
queries as the ORM ran them (every query of the request, timed at the cursor), and the **floor**,
an empty page for the same user (``risk_registry/management/floor.py``: middleware, session,
user, scope, navigation, base template and nothing else), requested right after the page. The
verdict still compares the whole page with the raw SQL of its rows: the floor explains a miss,
it does not excuse it.

The process is set up as ``config.wsgi`` sets up a gunicorn worker: ``config.process.settle()``
warms it and freezes what it loaded out of the garbage collector's walks; ``--unsettled`` leaves
the collector as ``manage.py`` starts it, to compare.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from assessments.models import Cycle
from config.process import settle
from positions.models import Holding
from risk_registry.management.benchmarking import GAUGE_ADDITIONS, speed_gauge, write_section
from risk_registry.management.floor import FLOOR_URL
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Institution, Membership, Role

FAST, SLOW = "fast", "slow"  # p95 ≤ 100 ms and ≤ 3× raw / p95 ≤ 300 ms
FAST_MS, SLOW_MS, RATIO = 100.0, 300.0, 3.0
MIN_ROUNDS = 5

# The subtree of an office, as the rows' institutions; a risk point carries its institution's path.
SUBTREE = "SELECT id FROM organisation_institution WHERE path LIKE %(path)s"
POINTS_OF_SUBTREE = "p.institution_path LIKE %(path)s"
LIST_ROWS = (
    "SELECT p.id, p.description, p.state, p.year, i.name, d.name, l.name, l.colour, t.name "
    "FROM risk_registry_riskpoint p JOIN organisation_institution i ON i.id = p.institution_id "
    "JOIN organisation_department d ON d.id = p.department_id JOIN organisation_gradelevel l ON l.id = p.level_id "
    "JOIN organisation_risktype t ON t.id = p.risk_type_id "
    "WHERE " + POINTS_OF_SUBTREE + " AND p.year = %(year)s AND p.state <> 'draft' {extra} "
    "ORDER BY p.id DESC LIMIT 50"
)
LIST_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM risk_registry_riskpoint p WHERE "  # noqa: S608
    + POINTS_OF_SUBTREE
    + " AND p.year = %(year)s AND p.state <> 'draft' {extra} LIMIT 1001) s"
)
SEARCH = "AND (p.description LIKE %(like)s OR p.manifestation LIKE %(like)s)"
# The office home: a tree of more than 200 institutions is summarised by its top and the top's
# direct children (``selectors.oversight_summary``); the bureau's tree is its one institution.
HOME_ROWS = (
    "SELECT p.institution_id, p.state, l.band, count(*) FROM risk_registry_riskpoint p "
    "JOIN organisation_gradelevel l ON l.id = p.level_id WHERE p.institution_id IN ("
    "SELECT id FROM organisation_institution WHERE path LIKE %(path)s AND depth <= ("
    "SELECT min(depth) FROM organisation_institution WHERE path LIKE %(path)s) + 1 ORDER BY path LIMIT 200) "
    "AND p.year = %(year)s AND p.state <> 'draft' GROUP BY 1, 2, 3"
)
OVERSIGHT_ROWS = (
    "SELECT p.institution_id, p.state, l.band, count(*) FROM risk_registry_riskpoint p "
    "JOIN organisation_gradelevel l ON l.id = p.level_id WHERE p.institution_id IN ("
    "SELECT id FROM organisation_institution WHERE path LIKE %(path)s ORDER BY path LIMIT 200) "
    "AND p.year = %(year)s AND p.state <> 'draft' GROUP BY 1, 2, 3"
)

# Whom a form of the big bureau may name (its members and its posts' holders, every holding as the
# rotation page reads them; the warning form reads the open ones), its posts and departments.
BUREAU_PEOPLE = (
    "SELECT u.id, u.last_name, u.first_name FROM auth_user u WHERE u.id IN ("
    "SELECT user_id FROM organisation_membership WHERE institution_id = %(bureau_id)s UNION "
    "SELECT h.user_id FROM positions_holding h JOIN positions_position pos ON pos.id = h.position_id "
    "WHERE pos.institution_id = %(bureau_id)s) ORDER BY 2, 3",
    "SELECT id, title FROM positions_position WHERE institution_id = %(bureau_id)s ORDER BY title",
    "SELECT id, name FROM organisation_department WHERE institution_id = %(bureau_id)s",
)


@dataclass(frozen=True)
class Page:
    label: str
    persona: str
    url: str
    goal: str  # FAST or SLOW
    raw: tuple[str, ...]  # statements whose summed time is the page's raw SQL


PAGES = (
    Page(
        "holder home",
        "holder",
        "/",
        FAST,
        # What the holder's home shows: the posts held with their points counted, the holder's
        # drafts (10) and memberships. (Until 2026-12-07 this was 50 points of the held posts, rows
        # the home does not show: the ratio compared the page with a query it never runs.)
        (
            "SELECT h.id, pos.title, d.name, i.name, count(p.id) FROM positions_holding h "
            "JOIN positions_position pos ON pos.id = h.position_id "
            "JOIN organisation_department d ON d.id = pos.department_id "
            "JOIN organisation_institution i ON i.id = pos.institution_id "
            "LEFT JOIN risk_registry_riskpoint p ON p.position_id = pos.id "
            "WHERE h.user_id = %(holder)s AND h.ended_on IS NULL GROUP BY h.id, pos.title, d.name, i.name",
            "SELECT p.id, p.description, l.name, pos.title FROM risk_registry_riskpoint p "
            "JOIN organisation_gradelevel l ON l.id = p.level_id "
            "LEFT JOIN positions_position pos ON pos.id = p.position_id "
            "WHERE p.position_id = ANY(%(held)s) AND p.state = 'draft' AND p.created_by_id = %(holder)s "
            "ORDER BY p.id DESC LIMIT 10",
            "SELECT m.role, i.name, d.name FROM organisation_membership m "
            "JOIN organisation_institution i ON i.id = m.institution_id "
            "LEFT JOIN organisation_department d ON d.id = m.department_id "
            "WHERE m.user_id = %(holder)s ORDER BY i.path",
        ),
    ),
    Page(
        "point detail (holder)",
        "holder",
        "/risks/{point}/",
        FAST,
        (
            "SELECT p.*, i.name, d.name, l.name, t.name, pos.title FROM risk_registry_riskpoint p "
            "JOIN organisation_institution i ON i.id = p.institution_id "
            "JOIN organisation_department d ON d.id = p.department_id "
            "JOIN organisation_gradelevel l ON l.id = p.level_id JOIN organisation_risktype t ON t.id = p.risk_type_id "
            "LEFT JOIN positions_position pos ON pos.id = p.position_id WHERE p.id = %(point)s",
            "SELECT * FROM controls_control WHERE risk_point_id = %(point)s ORDER BY id",
            "SELECT * FROM organisation_auditentry WHERE target_type = 'risk_registry.riskpoint' "
            "AND target_id = %(point)s ORDER BY at DESC LIMIT 50",
        ),
    ),
    Page(
        "register page, big bureau (bureau office)",
        "bureau",
        "/registers/{bureau}/{year}/",
        FAST,
        (
            "SELECT p.state, count(*) FROM risk_registry_riskpoint p WHERE p.institution_id = %(bureau_id)s "
            "AND p.year = %(year)s GROUP BY 1",
            "SELECT p.id, p.description, p.state, l.name, d.name FROM risk_registry_riskpoint p "
            "JOIN organisation_gradelevel l ON l.id = p.level_id "
            "JOIN organisation_department d ON d.id = p.department_id "
            "WHERE p.institution_id = %(bureau_id)s AND p.year = %(year)s AND p.state <> 'draft' "
            'ORDER BY d."order", p.department_id, p.id LIMIT 50',  # the table's page (TABLE_PAGE)
        ),
    ),
    Page("bureau office home", "bureau", "/", FAST, (HOME_ROWS,)),
    Page("city office home", "city", "/", FAST, (HOME_ROWS,)),
    Page("province office home", "province", "/", FAST, (HOME_ROWS,)),
    Page(
        "risk list, province",
        "province",
        "/risks/",
        FAST,
        (LIST_ROWS.format(extra=""), LIST_COUNT.format(extra="")),
    ),
    Page("risk list, city", "city", "/risks/", FAST, (LIST_ROWS.format(extra=""), LIST_COUNT.format(extra=""))),
    # The list's filters, each read from its own index (round 7's crawl of every filter): the year
    # before (none of the province's points), an office's drafts (the points under revision) and
    # the points graded more serious than the year before (the oversight dashboard's link).
    Page(
        "risk list of the year before, province",
        "province",
        "/risks/?year={previous}",
        FAST,
        (
            LIST_ROWS.format(extra="").replace("%(year)s", "%(previous)s"),
            LIST_COUNT.format(extra="").replace("%(year)s", "%(previous)s"),
        ),
    ),
    Page(
        "risk list, drafts (under revision), province",
        "province",
        "/risks/?state=draft",
        FAST,
        (
            LIST_ROWS.format(extra="").replace("p.state <> 'draft'", "p.state = 'draft' AND p.issued_before"),
            LIST_COUNT.format(extra="").replace("p.state <> 'draft'", "p.state = 'draft' AND p.issued_before"),
        ),
    ),
    Page(
        "risk list, raised since the year before, province",
        "province",
        "/risks/?change=raised",
        FAST,
        (
            LIST_ROWS.format(extra="AND (p.carried_from_rank > p.level_rank) IS TRUE"),
            LIST_COUNT.format(extra="AND (p.carried_from_rank > p.level_rank) IS TRUE"),
        ),
    ),
    Page(
        "risk list, department head",
        "head",
        "/risks/",
        FAST,
        (
            "SELECT p.id, p.description, p.state FROM risk_registry_riskpoint p WHERE p.department_id = %(dept)s "
            "AND p.year = %(year)s ORDER BY p.id DESC LIMIT 50",
        ),
    ),
    Page(
        "audit search, province",
        "province",
        "/audit/",
        FAST,
        (
            "SELECT a.* FROM organisation_auditentry a WHERE a.institution_id IN (" + SUBTREE + ") "  # noqa: S608
            "AND NOT a.private ORDER BY a.id DESC LIMIT 50",
        ),
    ),
    Page(
        "audit by days (a month of the year before), province",
        "province",
        "/audit/?since={previous}-03-01&until={previous}-03-31",
        FAST,
        (
            "SELECT a.* FROM organisation_auditentry a WHERE a.institution_id IN (" + SUBTREE + ") "  # noqa: S608
            "AND NOT a.private AND a.at >= make_date(%(previous)s, 3, 1) AND a.at < make_date(%(previous)s, 4, 1) "
            "ORDER BY a.id DESC LIMIT 50",
        ),
    ),
    Page(
        "inbox, city office",
        "city",
        "/inbox/",
        FAST,
        (
            "SELECT p.id, p.description FROM risk_registry_riskpoint p "  # noqa: S608
            "WHERE " + POINTS_OF_SUBTREE + " AND p.state = 'reviewed' ORDER BY p.id LIMIT 50",
        ),
    ),
    Page(
        "inbox, holder",
        "holder",
        "/inbox/",
        FAST,
        (
            "SELECT p.id, p.description FROM risk_registry_riskpoint p WHERE p.position_id = ANY(%(held)s) "
            "AND p.state = 'draft' ORDER BY p.id LIMIT 50",
        ),
    ),
    Page(
        "search 审批 (2 characters), province",
        "province",
        "/risks/?q=审批",
        SLOW,
        (LIST_ROWS.format(extra=SEARCH), LIST_COUNT.format(extra=SEARCH)),
    ),
    Page(
        "search 吃拿卡 (3 characters), province",
        "province",
        "/risks/?q=吃拿卡",
        SLOW,
        (LIST_ROWS.format(extra=SEARCH), LIST_COUNT.format(extra=SEARCH)),
    ),
    Page(
        "search, no hit (3 characters), province",
        "province",
        "/risks/?q=无此词",
        SLOW,
        (LIST_ROWS.format(extra=SEARCH), LIST_COUNT.format(extra=SEARCH)),
    ),
    Page(
        "cycle board, city subtree",
        "city",
        "/cycles/{cycle}/?institution={city}",
        SLOW,
        (
            "SELECT t.* FROM assessments_task t WHERE t.cycle_id = %(cycle)s AND t.institution_id IN ("  # noqa: S608
            + SUBTREE
            + ") ORDER BY t.due_on, t.id LIMIT 50",
        ),
    ),
    Page(
        "cycle board, province",
        "province",
        "/cycles/{cycle}/",
        SLOW,
        # a row per city with its subtree rolled up: the cycle's tallies summed per city (the
        # pattern is the path and '%': its length is where the city's id starts)
        (
            "SELECT split_part(substr(i.path, length(%(path)s)), '/', 1), sum(t.total), sum(t.done) "
            "FROM assessments_tasktally t JOIN organisation_institution i ON i.id = t.institution_id "
            "WHERE t.cycle_id = %(cycle)s AND t.total > 0 AND i.path LIKE %(path)s GROUP BY 1",
        ),
    ),
    # Pages a crawl of every page as each persona found slow at province scale (2026-12-07,
    # round 6): each a list, a form or a detail a user opens every day.
    Page(
        "audit, city office",
        "city",
        "/audit/",
        FAST,
        (
            "SELECT a.* FROM organisation_auditentry a WHERE a.institution_id IN (" + SUBTREE + ") "  # noqa: S608
            "AND NOT a.private ORDER BY a.id DESC LIMIT 50",
        ),
    ),
    Page(
        "watch page, province office",
        "province",
        "/watch/",
        FAST,
        # the 50 most serious points of the levels the office supervises, in the tree's order
        (
            "SELECT p.id, p.description, i.name, l.name FROM risk_registry_riskpoint p "  # noqa: S608
            "JOIN organisation_gradelevel l ON l.id = p.level_id "
            "JOIN organisation_institution i ON i.id = p.institution_id WHERE " + POINTS_OF_SUBTREE + " "
            "AND p.year = %(year)s AND p.state <> 'draft' AND l.supervisor_role = 'discipline' "
            "ORDER BY p.level_rank, p.institution_path, p.id LIMIT 50",
        ),
    ),
    Page(
        "warning ledger, province office",
        "province",
        "/warnings/",
        FAST,
        (
            "SELECT w.id, w.number, w.received_on, i.name, c.name, g.label "
            "FROM integrity_warnings_warningitem w JOIN organisation_institution i ON i.id = w.institution_id "
            "JOIN integrity_warnings_warningchannel c ON c.id = w.channel_id "
            "JOIN integrity_warnings_warninggrade g ON g.id = w.grade_id WHERE i.path LIKE %(path)s "
            "ORDER BY w.received_on DESC, w.id DESC LIMIT 20",
        ),
    ),
    Page(
        "warning entry, city office (the institutions)",
        "city",
        "/warnings/new/",
        FAST,
        ("SELECT id, code, name FROM organisation_institution WHERE path LIKE %(path)s ORDER BY depth, path LIMIT 51",),
    ),
    Page("warning entry form, big bureau (bureau office)", "bureau", "/warnings/new/", FAST, BUREAU_PEOPLE),
    Page("rotation page, big bureau (bureau office)", "bureau", "/org/{bureau}/rotation/", FAST, BUREAU_PEOPLE),
    Page(
        "changes between years, big bureau (bureau office)",
        "bureau",
        "/cycles/{cycle}/changes/{bureau}/",
        FAST,
        (
            "SELECT p.id, p.department_id, p.carried_from_id, p.description, p.level_id FROM risk_registry_riskpoint p "
            "WHERE p.institution_id = %(bureau_id)s AND p.year IN (%(year)s, %(year)s + 1) AND p.state <> 'draft'",
        ),
    ),
    Page(
        "posts' measures, big bureau (bureau office)",
        "bureau",
        "/measures/{bureau}/",
        FAST,
        (
            "SELECT pos.id, pos.title, d.name FROM positions_position pos "
            "JOIN organisation_department d ON d.id = pos.department_id WHERE pos.institution_id = %(bureau_id)s "
            "ORDER BY d.name, pos.title LIMIT 50",
        ),
    ),
    Page("dashboard, oversight, city", "city", "/dashboards/oversight/", SLOW, (OVERSIGHT_ROWS,)),
    Page(
        "dashboard, leadership (big bureau)",
        "leader",
        "/dashboards/leadership/",
        SLOW,
        (
            "SELECT l.band, p.state, count(*) FROM risk_registry_riskpoint p "
            "JOIN organisation_gradelevel l ON l.id = p.level_id WHERE p.institution_id = %(bureau_id)s "
            "AND p.year = %(year)s GROUP BY 1, 2",
        ),
    ),
    Page(
        "dashboard, mine (holder)",
        "holder",
        "/dashboards/mine/",
        SLOW,
        (
            "SELECT l.band, count(*) FROM risk_registry_riskpoint p JOIN organisation_gradelevel l "
            "ON l.id = p.level_id WHERE p.position_id = ANY(%(held)s) AND p.year = %(year)s GROUP BY 1",
        ),
    ),
)


@dataclass(frozen=True)
class Result:
    page: Page
    rounds: int
    p50: float
    p95: float
    queries: int
    raw50: float
    raw95: float
    sql50: float  # the page's own queries as run, summed per request
    floor50: float  # the empty page of the same user, in the same rounds

    @property
    def ratio(self) -> float:
        return self.p50 / self.raw50 if self.raw50 else float("inf")

    @property
    def passed(self) -> bool:
        if self.page.goal == SLOW:
            return self.p95 <= SLOW_MS
        return self.p95 <= FAST_MS and self.ratio <= RATIO

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass"
        if self.page.goal == SLOW:
            return "fail (> 300 ms)"
        reasons = [f"> {FAST_MS:.0f} ms"] if self.p95 > FAST_MS else []
        reasons += [f"> {RATIO:.0f}× raw"] if self.ratio > RATIO else []
        return f"fail ({', '.join(reasons)})"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


class QueryTimer:
    """Sums the time of every query run on the connection while installed (``execute_wrapper``)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

    def take(self) -> float:
        """The milliseconds summed since the last take."""
        milliseconds, self.seconds = self.seconds * 1000, 0.0
        return milliseconds


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=30)
        parser.add_argument("--budget", type=float, default=60.0, help="seconds per page before stopping early")
        parser.add_argument("--only", default="", help="pages whose label contains this")
        parser.add_argument("--prefix", default="prov", help="seed_province's account prefix")
        parser.add_argument("--write", default="", help="Markdown file for the results")
        parser.add_argument(
            "--unsettled",
            action="store_true",
            help="leave the garbage collector as manage.py starts it, not as a web worker (config.process)",
        )

    def handle(self, *args, rounds, budget, only, prefix, write, unsettled, **options):
        if rounds < 1:
            raise CommandError("--rounds must be at least 1")
        if not unsettled:
            settle()  # the process set up as config.wsgi sets up a gunicorn worker
        load_start, gauge_start = os.getloadavg()[0], speed_gauge()
        context, users = self.context(prefix)
        pages = [page for page in PAGES if only in page.label]
        self.stdout.write(
            f"load average {load_start:.2f}, speed gauge {gauge_start:.0f} ms; {len(pages)} pages, {rounds} rounds each"
        )
        with override_settings(ROOT_URLCONF="risk_registry.management.floor"):
            results = [self.measure(page, users[page.persona], context, rounds=rounds, budget=budget) for page in pages]
        load_end, gauge_end = os.getloadavg()[0], speed_gauge()
        self.stdout.write(f"load average {load_end:.2f}, speed gauge {gauge_end:.0f} ms at the end")
        if write:
            self.write(
                Path(write), results, rounds=rounds, loads=(load_start, load_end), gauges=(gauge_start, gauge_end)
            )

    def context(self, prefix: str) -> tuple[dict, dict]:
        User = get_user_model()
        users = {}
        for persona in ("holder", "head", "leader", "bureau", "city", "province"):
            try:
                users[persona] = User.objects.get(username=f"{prefix}.{persona}")
            except User.DoesNotExist:
                raise CommandError(f"no user {prefix}.{persona}: run seed_province first") from None
        year = timezone.localdate().year
        held = list(Holding.objects.filter(user=users["holder"], ended_on=None).values_list("position_id", flat=True))
        point = RiskPoint.objects.filter(position_id__in=held, year=year).order_by("-id").values_list("pk", flat=True)
        bureau = Membership.objects.get(user=users["bureau"], role=Role.DISCIPLINE).institution
        city = Membership.objects.get(user=users["city"], role=Role.DISCIPLINE).institution
        province = Membership.objects.get(user=users["province"], role=Role.DISCIPLINE).institution
        head = Membership.objects.get(user=users["head"], role=Role.DEPT_HEAD)
        cycle = Cycle.objects.filter(institution=province, year=year).values_list("pk", flat=True).first()
        if not point or cycle is None:
            raise CommandError("the province has no points for the holder or no cycle this year")
        context = {
            "year": year,
            "previous": year - 1,
            "holder": users["holder"].pk,
            "held": held,
            "point": point[0],
            "bureau": bureau.code,
            "bureau_id": bureau.pk,
            "city": city.code,
            "cycle": cycle,
            "dept": head.department_id,
            "paths": {"bureau": bureau.path, "city": city.path, "province": province.path},
        }
        count = Institution.objects.count()
        self.stdout.write(f"{count} institutions, {RiskPoint.objects.count()} risk points")
        return context, users

    def measure(self, page: Page, user, context: dict, *, rounds: int, budget: float) -> Result:
        host = next((h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")), "localhost")
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        url = page.url.format(**context)
        path = context["paths"].get(page.persona, context["paths"]["province"])
        term = url.split("q=", 1)[1] if "q=" in url else ""
        params = {**context, "path": path + "%", "like": f"%{term}%"}
        response = client.get(url)  # warm: the first page after login also counts the inbox badge
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code} for {user.username}")
        client.get(FLOOR_URL)
        with CaptureQueriesContext(connection) as captured:  # the queries of a page as the rounds see it
            client.get(url)
        queries = len(captured.captured_queries)
        timings, raws, sqls, floors = [], [], [], []
        timer = QueryTimer()
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for n in range(rounds):
                with connection.execute_wrapper(timer):
                    started = time.perf_counter()
                    client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                sqls.append(timer.take())
                started = time.perf_counter()
                for statement in page.raw:
                    cursor.execute(statement, params)
                    cursor.fetchall()
                raws.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.get(FLOOR_URL)
                floors.append((time.perf_counter() - started) * 1000)
                if n + 1 >= MIN_ROUNDS and time.perf_counter() - began > budget:
                    break
        result = Result(
            page=page,
            rounds=len(timings),
            p50=statistics.median(timings),
            p95=p95(timings),
            queries=queries,
            raw50=statistics.median(raws),
            raw95=p95(raws),
            sql50=statistics.median(sqls),
            floor50=statistics.median(floors),
        )
        self.stdout.write(
            f"{page.label:44} p50 {result.p50:8.1f}  p95 {result.p95:8.1f}  q {queries:3d}  "
            f"sql {result.sql50:7.1f}  floor {result.floor50:6.1f}  "
            f"raw {result.raw50:7.1f}/{result.raw95:7.1f}  ×{result.ratio:6.1f}  n {result.rounds:2d}  {result.verdict}"
        )
        return result

    def write(
        self,
        path: Path,
        results: list[Result],
        *,
        rounds: int,
        loads: tuple[float, float],
        gauges: tuple[float, float],
    ) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        memory = "unknown"
        if os.path.exists("/proc/meminfo"):
            with open("/proc/meminfo") as handle:
                kb = next((int(line.split()[1]) for line in handle if line.startswith("MemTotal")), 0)
            memory = f"{kb / 1024 / 1024:.0f} GiB"
        goals = {FAST: "≤ 100 ms, ≤ 3× raw", SLOW: "≤ 300 ms"}
        lines = [
            f"Measured {timezone.now():%Y-%m-%d %H:%M} UTC with `manage.py benchmark_pages --rounds {rounds}` "
            f"on {os.cpu_count()} cores, {memory} memory, PostgreSQL {server} (default settings), "
            f"load average {loads[0]:.2f} at the start and {loads[1]:.2f} at the end; "
            f"{Institution.objects.count():,} institutions, {RiskPoint.objects.count():,} risk points. "
            f"The machine's own speed (`speed_gauge`: {GAUGE_ADDITIONS:,} additions in Python) "
            f"{gauges[0]:.0f} ms at the start and {gauges[1]:.0f} ms at the end.",
            "",
            "Page SQL: the page's own queries as run, summed (p50). Floor: an empty page for the same user "
            "in the same rounds (p50), what every page pays before its own work.",
            "",
            "| page | goal (p95) | p50 ms | p95 ms | queries | page SQL ms | floor ms "
            "| raw SQL p50 / p95 ms | page ÷ raw (p50) | n | verdict |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *(
                f"| {r.page.label} | {goals[r.page.goal]} | {r.p50:.1f} | {r.p95:.1f} | {r.queries} | "
                f"{r.sql50:.1f} | {r.floor50:.1f} | "
                f"{r.raw50:.1f} / {r.raw95:.1f} | {r.ratio:.1f}× | {r.rounds} | {r.verdict} |"
                for r in results
            ),
            "",
        ]
        text = "\n".join(lines)
        write_section(path, text, marker="benchmark_pages", heading="Pages at province scale")
        self.stdout.write(f"written to {path}")
