"""Capped counts, many in one statement.

Every count the pages show stops at ``RISK_REGISTRY_COUNT_LIMIT`` + 1 ("1000+"), and a page that
shows several (the navigation's inbox badge: one per queue of the user's roles) sends them
together: one round trip to the database instead of one per queue. That round trip, not the
counting, is most of what a small count costs on every page."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def capped_counts(querysets: Mapping[str, QuerySet]) -> dict[str, int]:
    """Each queryset's rows counted up to the limit + 1, all in one ``SELECT`` of subqueries (on
    the database of the first queryset; all must share it). A queryset that can match nothing
    (``.none()``) is 0 without asking."""
    limit = settings.RISK_REGISTRY_COUNT_LIMIT
    counts = dict.fromkeys(querysets, 0)
    asked: list[str] = []
    parts: list[str] = []
    params: list = []
    database = None
    for name, queryset in querysets.items():
        try:
            sql, part_params = queryset.order_by().values("pk")[: limit + 1].query.sql_with_params()
        except EmptyResultSet:
            continue
        database = database or queryset.db
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{len(parts)})")  # noqa: S608 (compiled SQL)
        params.extend(part_params)
        asked.append(name)
    if not parts:
        return counts
    with connections[database or "default"].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    counts.update(zip(asked, row, strict=True))
    return counts
