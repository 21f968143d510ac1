"""``python manage.py seed_subtree [--institutions 1000] [--positions 10] [--points 20] [--prefix bench]``.

Generates a big subtree for ``benchmark_dashboards`` (``risk_registry.demo.subtree``): a county-level
root with N institutions under it, four grading presets mixed, departments, positions, points,
controls and a running cycle with its tasks, written in batches. Use a database of its own: the
rows stay. Then, e.g.::

    manage.py benchmark_dashboards --oversight bench.discipline --leadership bench.leader \\
        --holder bench.holder --head bench.head
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from risk_registry.demo.subtree import subtree_seed


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--institutions", type=int, default=1000)
        parser.add_argument("--positions", type=int, default=10, help="positions per institution")
        parser.add_argument("--points", type=int, default=20, help="risk points per institution")
        parser.add_argument("--prefix", default="bench", help="codes and user names start with it")
        parser.add_argument("--no-cycle", action="store_true", help="do not launch a cycle")

    def handle(self, *args, institutions, positions, points, prefix, no_cycle, **options):
        if not 1 <= institutions <= 20000 or not 1 <= positions <= 100 or not 0 <= points <= 200:
            raise CommandError("--institutions 1..20000, --positions 1..100, --points 0..200")
        started = time.perf_counter()
        try:
            result = subtree_seed(
                prefix=prefix, institutions=institutions, positions=positions, points=points, with_cycle=not no_cycle
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        # Fresh statistics and visibility maps (index-only scans), as after any bulk load: without
        # them the planner takes 20,000 points for a few dozen and the dashboards' subqueries pick
        # bitmap plans five times slower. VACUUM cannot run inside a transaction (a test's).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
        self.stdout.write(f"{result.root.name}: {counts} ({time.perf_counter() - started:.0f} s)")
