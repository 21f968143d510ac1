"""The risk list's filters at scale: each filter's page reads the rows it shows, not the tree.

A crawl of the list's filters on the province found filters whose page read every point of a
tree to find a few or none: an office's "draft" (the points under revision: it never sees a fresh
draft, and read all 226,000 of them, 1.8 s), a state that holds no point at the time, and
likelihood or severity without an institution (a step no scale has, 2 s). The rows stay exactly
what the access module allows, filtered."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risk_registry import access
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db
FRESH_DRAFTS = 120


@pytest.fixture
def drafts(world):
    """A hundred and twenty fresh drafts in both bureaus (newer than anything else), one point under
    revision in each, and nothing in public notice."""
    template = RiskPoint.objects.get(pk=world.submitted.pk)
    RiskPoint.objects.filter(state=RiskPointState.IN_NOTICE).update(state=RiskPointState.APPROVED)

    def point(n: int, *, revising: bool) -> RiskPoint:
        return RiskPoint(
            institution=(world.a, world.b)[n % 2],
            department=(world.dept, world.dept_b)[n % 2],
            year=template.year,
            risk_type=template.risk_type,
            description=f"点{n}",
            likelihood=2,
            severity=2,
            level=template.level,
            state=RiskPointState.DRAFT,
            issued_before=revising,
        )

    revising = RiskPoint.objects.bulk_create([point(0, revising=True), point(1, revising=True)])
    RiskPoint.objects.bulk_create(point(n, revising=False) for n in range(FRESH_DRAFTS))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risk_registry_riskpoint")
    return revising


def _rows_passed(sql: str) -> int:
    """How many rows a statement read and threw away (EXPLAIN ANALYZE, every node)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table is best read whole; a province's is not
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))


def _list(client, query: str):
    """The page, and the statements that read the points (its count and its rows)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/risks/?" + query)
    assert response.status_code == 200
    statements = [q["sql"] for q in queries.captured_queries if 'FROM "risk_registry_riskpoint"' in q["sql"]]
    return response, statements


@pytest.mark.parametrize("persona", ("superior", "discipline", "outsider", "leader"))
def test_an_offices_draft_filter_reads_the_points_under_revision_not_every_fresh_draft(world, drafts, client, persona):
    user = getattr(world, persona)
    assert not access.sees_fresh_drafts(user)
    client.force_login(user)
    response, statements = _list(client, "state=draft")
    expected = set(access.risk_points_visible_to(user).filter(state=RiskPointState.DRAFT).values_list("pk", flat=True))
    assert expected and expected <= {point.pk for point in drafts}  # its drafts are the revisions
    assert {row.pk for row in response.context["page"].rows} == expected
    assert response.context["page"].count == len(expected)
    for sql in statements:  # main read the fresh drafts and threw them away
        assert _rows_passed(sql) < FRESH_DRAFTS // 2, sql


@pytest.mark.parametrize("persona", ("holder", "head"))
def test_whoever_sees_fresh_drafts_still_finds_them_under_draft(world, drafts, client, persona):
    user = getattr(world, persona)
    assert access.sees_fresh_drafts(user)
    client.force_login(user)
    response, _ = _list(client, "state=draft&year=")
    expected = set(access.risk_points_visible_to(user).filter(state=RiskPointState.DRAFT).values_list("pk", flat=True))
    assert {point.pk for point in drafts} - expected, "some fresh drafts are not this user's"
    assert expected - {point.pk for point in drafts}, "the user's own fresh drafts"
    newest = sorted(expected, reverse=True)[: len(response.context["page"].rows)]
    assert [row.pk for row in response.context["page"].rows] == newest
    assert response.context["page"].count == len(expected)


def test_a_state_that_holds_no_point_is_found_empty_without_reading_the_tree(world, drafts, client):
    client.force_login(world.superior)
    response, statements = _list(client, "state=in_notice")
    assert response.context["page"].rows == [] and response.context["page"].count == 0
    for sql in statements:
        assert _rows_passed(sql) < 10, sql


def test_likelihood_and_severity_are_steps_of_one_institutions_scales(world, drafts, client):
    client.force_login(world.superior)  # the county's office: both bureaus, two schemes
    refused, _ = _list(client, "likelihood=2&severity=2")
    text = refused.content.decode()
    assert "请先选择一个单位：可能性和严重程度的等级取自该单位的标尺。" in text
    assert 'data-testid="filter-errors"' in text
    default = set(access.risk_points_visible_to(world.superior).filter(year=2026).values_list("pk", flat=True))
    assert {row.pk for row in refused.context["page"].rows} <= default  # the default list, unfiltered
    assert not refused.context["form"].is_valid()
    # With the institution the cell filters.
    response, _ = _list(client, f"institution={world.a.code}&likelihood=2&severity=2")
    assert 'data-testid="filter-errors"' not in response.content.decode()
    expected = set(
        access.risk_points_visible_to(world.superior)
        .filter(institution=world.a, likelihood=2, severity=2, year=2026)
        .values_list("pk", flat=True)
    )
    assert expected and {row.pk for row in response.context["page"].rows} == expected
    # A step beyond the institution's scale is named, not searched for.
    steps = len(world.a.grading_scheme.likelihood_labels)
    beyond, _ = _list(client, f"institution={world.a.code}&likelihood={steps + 1}")
    assert f"该单位的标尺只有{steps}级。" in beyond.content.decode()


@pytest.fixture
def carried(world):
    """Last year's register of both bureaus carried into this year: a hundred and twenty points
    kept at their grade, and in each bureau one graded more serious and one less."""
    from risk_registry.organisation.models import GradeLevel

    template = RiskPoint.objects.get(pk=world.submitted.pk)

    def levels(institution):
        return list(GradeLevel.objects.filter(scheme=institution.grading_scheme).order_by("rank"))

    rows, moves = [], []
    for n in range(124):
        institution, department = ((world.a, world.dept), (world.b, world.dept_b))[n % 2]
        ranked = levels(institution)
        middle = ranked[len(ranked) // 2]
        source = RiskPoint.objects.create(
            institution=institution,
            department=department,
            year=2025,
            risk_type=template.risk_type,
            description=f"去年{n}",
            graded_directly=True,
            level=middle,
            state=RiskPointState.ISSUED,
            issued_before=True,
        )
        # rank 1 is the most serious: "raised" is a smaller rank than the source's
        level = {0: ranked[0], 1: ranked[0], 2: ranked[-1], 3: ranked[-1]}.get(n, middle)
        rows.append(
            RiskPoint(
                institution=institution,
                department=department,
                year=2026,
                risk_type=template.risk_type,
                description=f"今年{n}",
                graded_directly=True,
                level=level,
                state=RiskPointState.APPROVED,
                carried_from=source,
            )
        )
        moves.append(n < 4)
    assert all(moves[:4]) and not any(moves[4:])
    RiskPoint.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risk_registry_riskpoint")


def _moved(user, change: str) -> set[int]:
    """Computed apart: the ranks of the point's level and of its source's level, joined."""
    points = access.risk_points_visible_to(user).filter(year=2026, carried_from__isnull=False)
    pairs = points.values_list("pk", "level__rank", "carried_from__level__rank")
    return {pk for pk, rank, source in pairs if (source > rank if change == "raised" else source < rank)}


@pytest.mark.parametrize("persona", ("superior", "discipline", "leader"))
@pytest.mark.parametrize("change", ("raised", "lowered"))
def test_the_points_raised_or_lowered_are_read_from_their_own_index(world, carried, client, persona, change):
    user = getattr(world, persona)
    client.force_login(user)
    response, statements = _list(client, f"change={change}")
    expected = _moved(user, change)
    assert expected and {row.pk for row in response.context["page"].rows} == expected
    assert response.context["page"].count == len(expected)
    for sql in statements:  # main walked every point of the year, the hundred and twenty kept too
        assert _rows_passed(sql) < 20, sql
