"""Keyset pagination and bounded counts: every list costs the same whatever the table size."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_after: int | None  # id to pass as ?after= for the next page, None on the last page
    count: int  # rows matching, counted up to settings.RISK_REGISTRY_COUNT_LIMIT
    count_is_capped: bool
    is_first: bool


def _positive_int(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def keyset_page(queryset: QuerySet, *, after=None, size: int | None = None) -> KeysetPage:
    """One page of ``queryset`` in descending id order, starting below ``after``.

    Offsets cost more the deeper one pages; ``id < after`` always hits the index. The total is
    counted only up to a cap, so a province-wide list never counts two million rows.
    """
    size = size or settings.RISK_REGISTRY_PAGE_SIZE
    limit = settings.RISK_REGISTRY_COUNT_LIMIT
    after_id = _positive_int(after)
    count = queryset.order_by()[: limit + 1].count()
    page_qs = queryset.order_by("-id")
    if after_id:
        page_qs = page_qs.filter(id__lt=after_id)
    rows = list(page_qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows=rows,
        next_after=rows[-1].id if has_more and rows else None,
        count=min(count, limit),
        count_is_capped=count > limit,
        is_first=after_id is None,
    )
