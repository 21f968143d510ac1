"""Bulk rows through PostgreSQL's COPY (psycopg's ``cursor.copy``): the province generator and
the register's import.

``Copier`` writes rows of one model: the caller names the columns it sets and gives tuples in that
order; every other column gets its field's default, computed once (``auto_now`` fields: now).
Primary keys are the caller's, so related rows can be written before or after without reading
anything back. Two ways to have them:

- ``take``/``next_id`` hand out ids above the table's largest, and ``finish`` moves the table's
  sequence past the ids used: for a generator that is alone on the database (the province);
- ``reserve`` draws ids from the table's sequence, as an INSERT would: for a service that runs
  beside other writers (the import). Never mix the two on one table.

COPY fires the table's row triggers and checks its constraints as INSERT does, and the database
computes generated columns; ``auto_now`` fields get the copier's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb


def _default(field: models.Field, now) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        value = field.get_default()
    elif field.null:
        value = None
    elif isinstance(field, models.CharField | models.TextField):
        value = ""
    else:
        raise ValueError(f"{field.model.__name__}.{field.attname} needs a value")
    return Jsonb(value) if isinstance(field, models.JSONField) else value


class Copier:
    """Rows of one model by COPY; ids assigned by the caller through ``next_id``."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.table = model._meta.db_table
        now = timezone.now()
        fields = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.attname not in columns and not f.generated  # the database computes those
        ]
        self.columns = ["id", *columns, *(f.column for f in fields)]
        self.tail = tuple(_default(f, now) for f in fields)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{self.table}"')  # noqa: S608 (a model's table)
            self.first_id = cursor.fetchone()[0] + 1
        self.next_id = self.first_id
        self.count = 0

    def take(self, n: int = 1) -> int:
        """Reserve ``n`` consecutive ids; returns the first."""
        first, self.next_id = self.next_id, self.next_id + n
        return first

    def reserve(self, n: int) -> list[int]:
        """``n`` ids drawn from the table's sequence in one query (safe beside other writers)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [f'"{self.table}"', n],
            )
            return sorted(pk for (pk,) in cursor.fetchall())  # ascending, in the rows' order

    def write(self, rows: Iterable[tuple]) -> int:
        """Write rows (id first, then the named columns, in order); returns how many."""
        names = ", ".join(f'"{c}"' for c in self.columns)
        tail, written = self.tail, 0
        with connection.cursor() as cursor, cursor.cursor.copy(f'COPY "{self.table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row + tail)
                written += 1
        self.count += written
        return written

    def finish(self) -> None:
        """Move the table's id sequence past the largest id written."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{self.table}\"', 'id'), "  # noqa: S608
                f'GREATEST((SELECT COALESCE(MAX(id), 0) FROM "{self.table}"), 1))'
            )
