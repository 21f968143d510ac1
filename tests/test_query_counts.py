"""List pages cost a fixed number of queries, whatever the number of rows behind them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from config.security import SEEN_RESOLUTION_SECONDS, SESSION_SEEN
from controls.models import Control, Rule
from positions.models import PowerItem, ProcessStep
from positions.services import position_create
from risk_registry.management.floor import FLOOR_URL
from risk_registry.models import RiskPoint


def _grow(world, extra: int) -> None:
    """Add ``extra`` points (each with two controls) and positions with power items, in bulk."""
    template = world.submitted
    points = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=template.institution,
            department=template.department,
            position=template.position,
            year=template.year,
            risk_type=template.risk_type,
            description=f"批量风险点 {i}",
            likelihood=2,
            severity=2,
            level=template.level,
            state=template.state,
        )
        for i in range(extra)
    )
    Control.objects.bulk_create(
        Control(risk_point=point, line=line, measure="措施")
        for point in points
        for line in ("prevention", "monitoring")
    )
    rules = Rule.objects.bulk_create(Rule(institution=world.a, title=f"制度{i}") for i in range(extra // 10))
    Control.objects.filter(risk_point__in=points[: len(rules)], line="prevention").update(rule=rules[0])
    for i in range(extra // 10):
        position = position_create(department=world.dept, title=f"新增岗位{i}")
        item = PowerItem.objects.create(institution=world.a, name=f"新职权{i}", category=world.power.category)
        item.positions.add(position, world.position)
        ProcessStep.objects.bulk_create(ProcessStep(power_item=item, order=n, name=f"环节{n}") for n in (1, 2, 3))


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


PAGES = [
    ("risk list", "holder", lambda w: "/risks/"),
    (
        "risk list filtered",
        "discipline",
        # 批 matches the world's submitted point and the grown ones: a page with rows either way
        # (an empty page reads no legend, one query fewer).
        lambda w: f"/risks/?institution=bureau-a&department={w.dept.pk}&state=submitted&q=批",
    ),
    ("risk list, superior", "superior", lambda w: "/risks/"),
    ("risk list page 2", "head", lambda w: f"/risks/?after={w.submitted.pk + 10_000}"),
    ("risk list by band, most serious first", "superior", lambda w: "/risks/?band=medium&order=serious"),
    ("risk list most serious first, page 2", "superior", lambda w: "/risks/?order=serious&after=2.2.999999"),
    ("home, superior", "superior", lambda w: "/"),
    ("grading matrix editor", "discipline", lambda w: "/org/bureau-a/grading/"),
    ("grading preset switch preview", "discipline", lambda w: "/org/bureau-a/grading/switch/?preset=abc"),
    ("warning grade scale", "discipline", lambda w: "/warnings/grades/bureau-a/"),
    ("position page", "holder", lambda w: f"/positions/{w.position.pk}/"),
    ("department page", "head", lambda w: f"/departments/{w.dept.pk}/"),
    ("institution page", "discipline", lambda w: "/org/bureau-a/"),
    ("institution tree", "superior", lambda w: "/org/"),
    ("home", "holder", lambda w: "/"),
    ("risk point detail", "holder", lambda w: f"/risks/{w.submitted.pk}/"),
    ("register page", "discipline", lambda w: "/registers/bureau-a/2026/"),
    ("register page, head", "head", lambda w: "/registers/bureau-a/2026/"),
    (
        "register table filtered and sorted",
        "discipline",
        lambda w: f"/registers/bureau-a/2026/?department={w.dept.pk}&state=submitted&flag=vague&sort=level",
    ),
    ("batch review", "head", lambda w: "/registers/bureau-a/2026/batch/review/"),
    ("inbox, head", "head", lambda w: "/inbox/"),
    ("inbox, discipline", "discipline", lambda w: "/inbox/"),
    ("inbox, holder", "holder", lambda w: "/inbox/"),
    ("filings", "superior", lambda w: "/filings/"),
    ("audit log", "discipline", lambda w: "/audit/"),
    ("power inventory", "head", lambda w: "/org/bureau-a/powers/"),
    ("rule catalogue", "discipline", lambda w: "/org/bureau-a/rules/"),
    ("public disclosure page", "holder", lambda w: "/public/bureau-a/"),
]


# The register page is the workspace (台账): besides its cards it reads the table's page of rows, the
# count of every matching row (for its pages), their controls and the filters' choices (departments,
# levels, and the chosen department's positions): six queries, whatever the rows; its quality report
# counts the vague controls in SQL and reads only the 20 it shows (one more query).
CEILINGS = {"register page": 26, "register page, head": 26, "register table filtered and sorted": 27}


@pytest.mark.parametrize(("page", "persona", "url"), PAGES, ids=[p[0] for p in PAGES])
def test_query_count_does_not_grow_with_rows(world, client, page, persona, url):
    client.force_login(getattr(world, persona))
    small = _queries(client, url(world))
    _grow(world, 60)
    client.force_login(getattr(world, persona))
    large = _queries(client, url(world))
    # Never more queries with more rows (a page may need fewer when a section has become non-empty
    # and a cheaper branch applies), and a fixed ceiling.
    assert large <= small, f"{page}: {small} queries with few rows, {large} with 60 more"
    assert large <= CEILINGS.get(page, 22), f"{page}: {large} queries"


# The floor: what an empty page costs a signed-in user before any work of its own (the benchmark's
# `risk_registry/management/floor.py`). Every page pays it, so it is kept to one query per thing it
# needs: the session, the user, the scope (memberships and held positions together); the
# navigation's inbox badge (every queue of the user's roles, the cycle's tasks and the warning
# notices counted in one statement) is counted at login, which saves the session anyway, and kept
# there: the pages after it read it, and count it again only when they save the session anyway.
FLOOR = ("django_session", "auth_user", "organisation_membership")
COUNTED = "SELECT (SELECT COUNT(*)"


@pytest.mark.parametrize("persona", ["holder", "head", "discipline", "leader", "principal", "superior"])
def test_the_floor_of_every_page_is_three_queries(world, client, persona):
    client.force_login(getattr(world, persona))
    pages = []
    with override_settings(ROOT_URLCONF="risk_registry.management.floor"):
        for number in range(3):
            if number == 1:  # the last-seen stamp a minute old: this page saves the session anyway
                session = client.session
                session[SESSION_SEEN] -= SEEN_RESOLUTION_SECONDS + 1
                session.save()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(FLOOR_URL)
            assert response.status_code == 200
            assert 'data-testid="nav-inbox"' in response.content.decode()
            pages.append([query["sql"] for query in captured.captured_queries])
    first, saved, then = pages
    # The first page after login reads the badge counted at login and writes nothing …
    assert len(first) == len(FLOOR), first
    # … the page that saves the session anyway (the stamp) counts it and keeps it in that save …
    assert COUNTED in saved[3] and any(statement.startswith('UPDATE "django_session"') for statement in saved[4:])
    # … and the pages after it read it from the session: the floor is three queries.
    assert len(then) == len(FLOOR), then
    for statements in (first, saved, then):
        for expected, statement in zip(FLOOR, statements, strict=False):
            assert expected in statement, (expected, statement)
        assert "UNION ALL" in statements[2] and "positions_positionuserobjectpermission" in statements[2]
