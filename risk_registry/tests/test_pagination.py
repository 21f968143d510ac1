"""risk_registry.web.pagination.keyset_page: pages by descending id, counts bounded by a cap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risk_registry.models import RiskPoint
from risk_registry.web.pagination import keyset_page

ROWS = 23


@pytest.fixture
def batch(world):
    """23 more points of bureau A; the queryset under test holds only them."""
    template = world.submitted
    RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=template.institution,
            department=template.department,
            position=template.position,
            year=2026,
            risk_type=template.risk_type,
            description=f"批量风险点 {n:02d}",
            likelihood=2,
            severity=2,
            level=template.level,
        )
        for n in range(ROWS)
    )
    return RiskPoint.objects.filter(description__startswith="批量风险点")


def _all_pages(queryset, size):
    pages, after = [], None
    while True:
        page = keyset_page(queryset, after=after, size=size)
        pages.append(page)
        if page.next_after is None:
            return pages
        after = str(page.next_after)  # as it comes back from ?after=


def test_pages_cover_all_rows_in_descending_id_without_overlap(batch):
    pages = _all_pages(batch, size=5)

    ids = [row.id for page in pages for row in page.rows]
    assert ids == sorted(batch.values_list("id", flat=True), reverse=True)
    assert len(ids) == len(set(ids)) == ROWS
    assert [len(page.rows) for page in pages] == [5, 5, 5, 5, 3]
    assert [page.is_first for page in pages] == [True, False, False, False, False]
    assert all(page.count == ROWS and not page.count_is_capped for page in pages)


def test_next_after_is_the_last_row_of_the_page(batch):
    page = keyset_page(batch, size=5)

    assert page.next_after == page.rows[-1].id


def test_a_last_page_that_is_exactly_full_has_no_next(batch):
    page = keyset_page(batch, size=ROWS)

    assert len(page.rows) == ROWS
    assert page.next_after is None


def test_a_page_after_the_last_row_is_empty(batch):
    page = keyset_page(batch, after=min(batch.values_list("id", flat=True)), size=5)

    assert page.rows == []
    assert page.next_after is None
    assert not page.is_first


def test_the_page_ignores_the_querysets_own_ordering(batch):
    pages = _all_pages(batch.order_by("description"), size=10)

    assert [row.id for page in pages for row in page.rows] == sorted(batch.values_list("id", flat=True), reverse=True)


def test_page_size_defaults_to_the_setting(batch, settings):
    settings.RISK_REGISTRY_PAGE_SIZE = 7

    page = keyset_page(batch)

    assert len(page.rows) == 7
    assert page.next_after == page.rows[-1].id


def test_count_is_capped_at_the_limit(batch, settings):
    settings.RISK_REGISTRY_COUNT_LIMIT = 10

    page = keyset_page(batch, size=5)

    assert page.count == 10
    assert page.count_is_capped


def test_count_at_exactly_the_limit_is_not_capped(batch, settings):
    settings.RISK_REGISTRY_COUNT_LIMIT = ROWS

    page = keyset_page(batch, size=5)

    assert (page.count, page.count_is_capped) == (ROWS, False)


def test_count_one_over_the_limit_is_capped(batch, settings):
    settings.RISK_REGISTRY_COUNT_LIMIT = ROWS - 1

    page = keyset_page(batch, size=5)

    assert (page.count, page.count_is_capped) == (ROWS - 1, True)


def test_count_query_is_bounded_and_a_page_costs_two_queries(batch, settings):
    settings.RISK_REGISTRY_COUNT_LIMIT = 10

    with CaptureQueriesContext(connection) as queries:
        keyset_page(batch, size=5)

    assert len(queries) == 2
    count_sql = next(q["sql"] for q in queries if "COUNT" in q["sql"].upper())
    assert "LIMIT 11" in count_sql


@pytest.mark.parametrize("after", ["abc", "-5", "0", "", None, "1.5", " ", "1e3", [], {}])
def test_garbage_after_is_the_first_page(batch, after):
    first = keyset_page(batch, size=5)

    page = keyset_page(batch, after=after, size=5)

    assert [row.id for row in page.rows] == [row.id for row in first.rows]
    assert page.is_first
    assert page.next_after == first.next_after
