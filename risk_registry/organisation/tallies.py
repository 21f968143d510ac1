"""Tallies kept by PostgreSQL's statement triggers (the tasks', the risk points'): rebuilt from the
rows they count, for rows written with the triggers off and to check that nothing drifted."""

from __future__ import annotations

from django.db import connection, transaction


@transaction.atomic
def tallies_rebuild(counted_table: str, *, stale_sql: str, rebuild_sql: str) -> int:
    """Rebuild a tally table from ``counted_table`` (``rebuild_sql``), that table locked against
    writes meanwhile (SHARE: the readers go on), when ``stale_sql`` counts tallies that differ from
    a recount; returns how many were stale (0: nothing changed)."""
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{counted_table}" IN SHARE MODE')
        cursor.execute(stale_sql)
        stale = cursor.fetchone()[0]
        if stale:
            cursor.execute(rebuild_sql)
    return stale
