"""The benchmark's generated subtree (``seed_subtree``): it builds what it says, every point graded
by its own institution's scheme, and the dashboards cost the same queries over 3 institutions or 12.
Small scale only: the 1,000-institution run is the benchmark's (docs/performance.md)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Task
from controls.models import Control
from risk_registry.access import institutions_visible_to, risk_points_visible_to
from risk_registry.demo.subtree import PRESETS, subtree_seed
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Institution
from risk_registry.organisation.users import User

pytestmark = pytest.mark.django_db

PAGES = (
    ("discipline", "/dashboards/oversight/"),
    ("superior", "/dashboards/oversight/"),
    ("discipline", "/dashboards/oversight/?institution={first}"),
    ("leader", "/dashboards/leadership/"),
    ("holder", "/dashboards/mine/"),
    ("head", "/dashboards/mine/"),
)


def test_the_generator_builds_the_subtree_it_says():
    result = subtree_seed(prefix="g", institutions=8, positions=4, points=6)
    children = list(Institution.objects.filter(parent=result.root).select_related("grading_scheme"))
    assert len(children) == 8
    assert all(child.path == f"{result.root.path}{child.pk}/" and child.depth == 1 for child in children)
    assert sorted({child.grading_scheme.code for child in children}) == sorted(PRESETS)
    assert result.counts == {
        "institutions": 8,
        "departments": 32,
        "positions": 32,
        "risk_points": 48,
        "controls": 96,
        "tasks": Task.objects.filter(cycle=result.cycle).count(),
    }
    assert result.counts["tasks"] > 0
    points = RiskPoint.objects.filter(institution__parent=result.root).select_related("level", "institution")
    assert points.count() == 48 and Control.objects.filter(risk_point__in=points).count() == 96
    for point in points:
        scheme = point.institution.grading_scheme
        assert point.level.scheme_id == scheme.pk
        assert point.level.code == scheme.level_code_for(point.likelihood, point.severity)
    assert len({p.state for p in points}) >= 5 and len({p.level.band for p in points}) == 3
    # The accounts see what their roles reach.
    discipline = User.objects.get(username="g.discipline")
    assert institutions_visible_to(discipline).count() == 9
    # Drafts stay with their authors: the office sees the 40 submitted ones (6 states in turn).
    assert risk_points_visible_to(discipline).count() == points.exclude(state=RiskPointState.DRAFT).count() == 40
    holder = User.objects.get(username="g.holder")
    assert risk_points_visible_to(holder).exists()


def test_the_command_refuses_a_second_root_with_the_same_prefix():
    call_command("seed_subtree", institutions=2, positions=2, points=2, prefix="twice", no_cycle=True)
    before = Institution.objects.count()
    with pytest.raises(CommandError):
        call_command("seed_subtree", institutions=2, positions=2, points=2, prefix="twice")
    assert Institution.objects.count() == before


def _queries(client, prefix: str) -> list[int]:
    first = Institution.objects.get(code=f"{prefix}-0").code
    counts = []
    for persona, url in PAGES:
        client.force_login(User.objects.get(username=f"{prefix}.{persona}"))
        client.get(url.format(first=first))  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url.format(first=first))
        assert response.status_code == 200, (persona, url)
        counts.append(len(captured.captured_queries))
    return counts


def test_dashboard_queries_are_flat_in_the_number_of_institutions(client):
    subtree_seed(prefix="small", institutions=3, positions=4, points=6)
    subtree_seed(prefix="big", institutions=12, positions=4, points=6)
    assert _queries(client, "small") == _queries(client, "big")
