"""``python manage.py seed_province [--scale 1.0] [--year YYYY]``.

Generates a province for ``benchmark_pages`` (``risk_registry.demo.province``): about 10,000
institutions, 525,000 posts and holders, 2.2 M risk points, 4.9 M controls, an audit entry per
point, registers, notice comments, level proposals, control runs, warning items and the year's
cycle with its tasks, written by COPY in one transaction; then the figures the product stores
(``reconcile_stored``, which analyzes the new tables first: the COPY bypasses the services and
triggers that keep them) and ``VACUUM ANALYZE``. Refused on a
database that holds institutions or users: give it a database of its own, migrated first, e.g.::

    createdb rr_province && DATABASE_URL=postgres://…/rr_province manage.py migrate
    DATABASE_URL=postgres://…/rr_province manage.py seed_province            # --scale 0.1 for a tenth

It prints the persona accounts and their password at the end.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from risk_registry.demo.province import PASSWORD, province_seed


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="fraction of the province (0 < scale <= 2)")
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--checked", action="store_true", help="keep foreign-key checks on while loading")

    def handle(self, *args, scale, year, checked, **options):
        if not 0 < scale <= 2:
            raise CommandError("--scale must be above 0 and at most 2")
        started = time.perf_counter()
        try:
            province = province_seed(scale=scale, year=year, fast=not checked, say=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from None
        loaded = time.perf_counter()
        self.stdout.write(f"loaded in {loaded - started:.0f} s; the stored figures (reconcile_stored) …")
        call_command("reconcile_stored", stdout=self.stdout)
        self.stdout.write(f"stored figures in {time.perf_counter() - loaded:.0f} s; VACUUM ANALYZE …")
        # Fresh statistics and visibility maps, as after any bulk load (VACUUM cannot run in a test's
        # transaction: ANALYZE then).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        counts = ", ".join(f"{key} {value}" for key, value in province.counts.items())
        self.stdout.write(f"{province.root.name}: {counts} ({time.perf_counter() - started:.0f} s in all)")
        self.stdout.write(f"accounts (password {PASSWORD}):")
        for persona, name in province.accounts.items():
            self.stdout.write(f"  {persona:10} {name}")
