"""The province generator (``seed_province``) at a tiny scale: it writes what it counts, every row
consistent (foreign keys checked), grades by each unit's own scheme, keeps each point's institution
path, and its personas see what the access module says. Never at full scale here (the benchmark's,
docs/performance.md)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from assessments.models import Task
from controls.models import Control
from positions.models import Holding
from risk_registry.access import PUBLISHED_STATES, risk_points_visible_to
from risk_registry.demo.province import Shape, province_seed
from risk_registry.management.commands.benchmark_pages import PAGES
from risk_registry.models import NoticeComment, Register, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Institution, Membership, Role
from risk_registry.organisation.users import User

pytestmark = pytest.mark.django_db

SCALE = 0.0002  # 2 cities of 1 county of 1 unit each


def _seed():
    return province_seed(scale=SCALE, fast=False, big_posts=12, say=lambda line: None)


def test_the_shape_shrinks_units_first_then_counties_then_cities():
    assert Shape.for_scale(1) == Shape(cities=10, counties=10, units=99)
    assert Shape.for_scale(0.1) == Shape(cities=10, counties=10, units=10)
    assert Shape.for_scale(SCALE) == Shape(cities=2, counties=1, units=1)


def test_the_generator_writes_what_it_counts_and_every_row_is_consistent():
    province = _seed()
    with connection.cursor() as cursor:  # the deferred foreign keys, checked now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    counts = province.counts
    assert counts["institutions"] == Institution.objects.count() == 1 + 2 * (1 + 1 * (1 + 1))
    assert counts["risk_points"] == RiskPoint.objects.count() > 0
    assert counts["controls"] == Control.objects.count() >= 2 * counts["risk_points"]
    assert counts["audit_entries"] == AuditEntry.objects.filter(target_type="risk_registry.riskpoint").count()
    assert counts["holdings"] == Holding.objects.count() == counts["positions"]
    assert counts["registers"] == Register.objects.count() == 2
    assert counts["tasks"] == Task.objects.count() > 0
    assert NoticeComment.objects.count() == counts["notice_comments"]
    # Every point: graded by its own unit's scheme, its institution's path stored beside it.
    for point in RiskPoint.objects.select_related("level", "institution__grading_scheme"):
        scheme = point.institution.grading_scheme
        assert point.level.scheme_id == scheme.pk and scheme.institution_id == point.institution_id
        assert point.level.code == scheme.level_code_for(point.likelihood, point.severity)
        assert point.institution_path == point.institution.path
    # The sequences moved past the copied ids: the ORM inserts after it.
    point = RiskPoint.objects.first()
    copy = RiskPoint.objects.create(
        institution_id=point.institution_id,
        department_id=point.department_id,
        year=point.year,
        risk_type_id=point.risk_type_id,
        description="新增",
        likelihood=1,
        severity=1,
        level_id=point.level_id,
    )
    assert copy.pk > max(p.pk for p in RiskPoint.objects.exclude(pk=copy.pk))


def test_the_personas_see_what_the_access_module_says():
    _seed()
    holder = User.objects.get(username="prov.holder")
    held = set(Holding.objects.filter(user=holder).values_list("position_id", flat=True))
    assert len(held) == 1
    institution = Holding.objects.get(user=holder).position.institution_id
    visible = set(risk_points_visible_to(holder).values_list("pk", flat=True))
    own = set(RiskPoint.objects.filter(position_id__in=held).values_list("pk", flat=True))
    published = set(
        RiskPoint.objects.filter(institution_id=institution, state__in=PUBLISHED_STATES).values_list("pk", flat=True)
    )
    assert own and visible == own | published
    # The city's office: its subtree's submitted points, nothing of the other city.
    city = Membership.objects.get(user__username="prov.city", role=Role.DISCIPLINE).institution
    expected = set(
        RiskPoint.objects.filter(institution__path__startswith=city.path)
        .exclude(state=RiskPointState.DRAFT)
        .values_list("pk", flat=True)
    )
    city_sees = set(risk_points_visible_to(User.objects.get(username="prov.city")).values_list("pk", flat=True))
    assert expected and city_sees == expected
    assert len(city_sees) < RiskPoint.objects.exclude(state=RiskPointState.DRAFT).count()
    province = set(risk_points_visible_to(User.objects.get(username="prov.province")).values_list("pk", flat=True))
    assert province == set(RiskPoint.objects.exclude(state=RiskPointState.DRAFT).values_list("pk", flat=True))


def test_it_refuses_a_database_that_holds_data():
    _seed()
    before = RiskPoint.objects.count()
    with pytest.raises(CommandError, match="database of its own"):
        call_command("seed_province", "--scale", str(SCALE), "--checked")
    assert RiskPoint.objects.count() == before


def test_the_pages_benchmark_measures_every_page_and_writes_its_section(tmp_path):
    _seed()
    report = tmp_path / "performance.md"
    report.write_text("# Performance\n\nkept\n", encoding="utf-8")
    call_command("benchmark_pages", "--rounds", "2", "--unsettled", "--write", str(report), stdout=io.StringIO())
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nkept\n")
    section = text.split("<!-- benchmark_pages: start -->", 1)[1].split("<!-- benchmark_pages: end -->", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [page.label for page in PAGES]
    assert all(row.rstrip(" |").split(" | ")[-1].startswith(("pass", "fail")) for row in rows)
    gauges = re.search(r"additions in Python\) (\d+) ms at the start and (\d+) ms at the end", section)
    assert gauges and all(int(ms) > 0 for ms in gauges.groups())  # the machine's own speed, beside the figures


def test_a_seeded_province_stores_what_reconcile_would_compute():
    """The stored figures (task completion and tallies, control quality, post kind, level band…) are
    kept by services and triggers that a COPY with the triggers off bypasses: the command leaves them
    right all the same, so the dashboards of a fresh province count what its lists show."""
    call_command("seed_province", "--scale", str(SCALE), stdout=io.StringIO())  # the triggers off, as by default
    out = io.StringIO()
    call_command("reconcile_stored", stdout=out)
    stale = [int(word.rstrip(";")) for word in out.getvalue().split() if word.rstrip(";").isdigit()]
    assert len(stale) >= 7 and set(stale) == {0}, out.getvalue()  # every figure it prints: none stale


def test_the_loaded_tables_have_statistics_before_the_stored_figures_are_computed(monkeypatch):
    """``reconcile_stored``'s counts are correlated subqueries: planned without statistics of the
    tables just loaded, each point's control runs were counted by reading every run (one batch of
    50,000 points ran 45 minutes on the province). ``reconcile_stored`` analyzes them first, so
    ``seed_province`` (and a restore or bulk load) gets them."""
    from risk_registry.management.commands import reconcile_stored

    seen: dict[str, tuple[float, int]] = {}
    real = reconcile_stored.tasks_refresh  # its first refresh

    def watching(tasks):
        if not seen:
            with connection.cursor() as cursor:
                for table in ("controls_controlrun", "risk_registry_riskpoint", "controls_control"):
                    cursor.execute(
                        f"SELECT (SELECT reltuples FROM pg_class WHERE relname = %s), count(*) FROM {table}",  # noqa: S608
                        [table],
                    )
                    seen[table] = cursor.fetchone()
        return real(tasks)

    monkeypatch.setattr(reconcile_stored, "tasks_refresh", watching)
    call_command("seed_province", "--scale", str(SCALE), stdout=io.StringIO())
    assert seen["risk_registry_riskpoint"][1] > 0, seen
    assert all(estimated == counted for estimated, counted in seen.values()), seen  # analyzed: exact at this size
