"""Keyset pagination and bounded counts: every list costs the same whatever the table size."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet

from risk_registry.organisation.models import band_order_expression


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_after: int | str | None  # what to pass as ?after= for the next page, None on the last page
    count: int  # rows matching, counted up to settings.RISK_REGISTRY_COUNT_LIMIT
    count_is_capped: bool
    is_first: bool


def _positive_int(raw) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def newest(queryset: QuerySet, size: int, *, walk_ids: bool, part: Q | None = None) -> list:
    """The ``size`` newest rows of ``queryset`` (descending id), in one query. ``walk_ids=False``
    (see ``keyset_page``) reads the part's ids from its own index and sorts them (``id + 0``)
    instead of walking the primary key backwards past every other part's rows. ``part``
    (``access.q_one_part``: one city's part of the tree, which holds every row of ``queryset``)
    reads them in id order from that part's own index instead, the first entries of its range."""
    queryset = queryset.order_by("-id")
    if part is not None:
        return list(queryset.filter(part)[:size])
    if walk_ids:
        return list(queryset[:size])
    ids = queryset.order_by((F("id") + 0).desc()).values("id")[:size]
    return list(queryset.filter(id__in=ids))


def keyset_page(
    queryset: QuerySet, *, after=None, size: int | None = None, walk_ids: bool = True, part: Q | None = None
) -> KeysetPage:
    """One page of ``queryset`` in descending id order, starting below ``after``.

    Offsets cost more the deeper one pages; ``id < after`` always hits the index. The total is
    counted only up to a cap, so a province-wide list never counts two million rows.

    ``walk_ids=False`` for rows that are a part of the table found by another index (a city's
    points by their path, ``selectors.walks_ids``): the order is then written ``id + 0``, the same
    order, which PostgreSQL cannot read from the primary key, so it reads the part's ids (from its
    index alone) and sorts them instead of walking the ids backwards past every other city's rows
    (it cannot know that a city's points are not spread evenly over the ids); the page's rows are
    then read by id, in the same query. ``part``: see ``newest``.
    """
    size = size or settings.RISK_REGISTRY_PAGE_SIZE
    limit = settings.RISK_REGISTRY_COUNT_LIMIT
    after_id = _positive_int(after)
    count = queryset.order_by()[: limit + 1].count()
    page_qs = queryset.order_by("-id")
    if after_id:
        page_qs = page_qs.filter(id__lt=after_id)
    rows = newest(page_qs, size + 1, walk_ids=walk_ids, part=part)
    has_more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows=rows,
        next_after=rows[-1].id if has_more and rows else None,
        count=min(count, limit),
        count_is_capped=count > limit,
        is_first=after_id is None,
    )


def _seriousness_token(raw) -> tuple[int, int, int] | None:
    """``band order.rank.id`` of the last row of the previous page, or None (a bad token: page 1)."""
    parts = str(raw or "").split(".")
    if len(parts) != 3 or not all(part.isdecimal() and len(part) < 12 for part in parts):
        return None
    band, rank, pk = (int(part) for part in parts)
    return band, rank, pk


def seriousness_page(queryset: QuerySet, *, after=None, size: int | None = None) -> KeysetPage:
    """One page of risk points, the most serious first: by band (高, 中, 低), then the level's rank
    within its scheme, then newest first; never by a level's label. ``after`` is the keyset
    ``band.rank.id`` of the previous page's last row. Expects ``level`` joined in."""
    size = size or settings.RISK_REGISTRY_PAGE_SIZE
    limit = settings.RISK_REGISTRY_COUNT_LIMIT
    count = queryset.order_by()[: limit + 1].count()
    page_qs = queryset.annotate(band_order=band_order_expression("level__band")).order_by(
        "band_order", "level__rank", "-id"
    )
    token = _seriousness_token(after)
    if token:
        band, rank, pk = token
        page_qs = page_qs.filter(
            Q(band_order__gt=band)
            | Q(band_order=band, level__rank__gt=rank)
            | Q(band_order=band, level__rank=rank, id__lt=pk)
        )
    rows = list(page_qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    return KeysetPage(
        rows=rows,
        next_after=f"{last.band_order}.{last.level.rank}.{last.id}" if has_more and last else None,
        count=min(count, limit),
        count_is_capped=count > limit,
        is_first=token is None,
    )
