"""A whole tree's risk list of one year (``/risks/?year=…``, the year a list shows by default and the
one its filter names) reads that year's points newest first from the year's own index
(``riskpoint_year``), whichever year it is.

Walking the primary key backwards, as the list does for a user who oversees a whole tree, passes
every point of the later years first: at province scale an earlier year's first page read the 2
million entries of the years after it (118–273 ms), and a year without points read them all."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risk_registry import access, selectors
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db
PAGE = 4


@pytest.fixture
def years(world):
    """Ten points of 2025, then a hundred and twenty of 2026, then the 2026 register carried into
    2027 as drafts, as the year's rollover leaves them: each year's points are above the earlier
    years' (newer ids)."""
    template = RiskPoint.objects.get(pk=world.submitted.pk)
    rows = [
        RiskPoint(
            institution=(world.a, world.b)[n % 2],
            department=(world.dept, world.dept_b)[n % 2],
            year=2025 if n < 10 else 2026 if n < 130 else 2027,
            risk_type=template.risk_type,
            description=f"点{n}",
            likelihood=2,
            severity=2,
            level=template.level,
            state=RiskPointState.ISSUED if n < 130 else RiskPointState.DRAFT,
        )
        for n in range(250)
    ]
    RiskPoint.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risk_registry_riskpoint")


def _page_query(client, url: str) -> str:
    """The list's query that reads the page's rows (the one that orders by id and cuts)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    [sql] = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and f"LIMIT {PAGE + 1}" in q["sql"]]
    return sql


def _rows_passed(sql: str) -> int:
    """How many rows the page's query read and threw away (EXPLAIN ANALYZE, every node)."""
    with connection.cursor() as cursor:
        # A tiny table is best read whole; the province's is not.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))


@pytest.mark.parametrize("year", (2025, 2026, 2024))
def test_a_whole_trees_list_of_a_year_passes_no_point_of_the_later_years(world, years, client, settings, year):
    settings.RISK_REGISTRY_PAGE_SIZE = PAGE
    user = world.superior
    assert selectors.walks_ids(user)  # the county's office oversees the whole tree
    client.force_login(user)
    url = f"/risks/?year={year}"
    # Main walked the ids down from the newest point: 2025's first page passed the 240 points of
    # 2026 and 2027, 2026's the 120 drafts of 2027, 2024's all 250.
    assert _rows_passed(_page_query(client, url)) < 10
    # The rows: the year's visible points, newest first, page after page.
    expected = list(access.risk_points_visible_to(user).filter(year=year).order_by("-id").values_list("pk", flat=True))
    shown, after = [], ""
    for _ in range(40):
        page = client.get(url + (f"&after={after}" if after else "")).context["page"]
        shown += [row.pk for row in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert shown == expected
    assert (year != 2024) == bool(expected)
    assert page.count == len(expected)
