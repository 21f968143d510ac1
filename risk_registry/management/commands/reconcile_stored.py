"""``python manage.py reconcile_stored [--batch 50000]``.

Recomputes what the product stores to keep its boards and dashboards fast, from the rows it is
derived from: every task's completion (``Task.done``, ``assessments.completion.done_expression``)
and the tasks' tallies per institution and due date (``TaskTally``, kept by triggers; rebuilt),
every risk point's control quality (``RiskPoint.controls_count`` and ``vague_controls``,
``controls.quality``), the rank of the point it was carried from (``RiskPoint.carried_from_rank``),
the control runs of its year (``RiskPoint.control_runs``), its post's kind
(``RiskPoint.position_kind``) and its level's band, rank and scheme (``RiskPoint.level_band``…), the
last four kept by triggers, but not for rows loaded with them off, and the points' tallies per
institution and year (``PointTally``) and the charts' rows (``PointSpread``) (kept by triggers; rebuilt
last, from the points as the rest
leaves them); and it removes the deadline scan's task records whose task is gone and the
notifications whose recipient is gone (their keys are no database constraints:
``assessments.scan.records_orphaned_remove``). The services keep the completion and the control
quality up to date, the deadline scan reconciles the open tasks of running cycles; run this after a
migration that adds them, after rows were written behind the services (a restore, a bulk load, SQL
by hand), or to check: it prints how many rows were stale. Each batch of ids is one UPDATE in its
own transaction, writing only the rows that change.

It starts with ``ANALYZE``: after a restore or a bulk load the tables have no statistics yet (a
restore does not bring them), and its counts are correlated subqueries that PostgreSQL then plans
as a sequential scan per row (the control runs of the freshly seeded province's first 50,000
points: 45 minutes, cancelled; with statistics, by index; ``ANALYZE`` took 4 s there).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Max, Model

from assessments.completion import tasks_refresh
from assessments.models import Task
from assessments.scan import records_orphaned_remove
from assessments.tally import task_tallies_rebuild
from controls.services import control_quality_refresh
from risk_registry.models import RiskPoint
from risk_registry.models.tally import point_spreads_rebuild, point_tallies_rebuild
from risk_registry.services import (
    carried_rank_refresh,
    control_runs_refresh,
    level_figures_refresh,
    position_kind_refresh,
)


def _batches(model: type[Model], size: int):
    last = model._default_manager.aggregate(last=Max("pk"))["last"] or 0
    for start in range(0, last, size):
        yield start, start + size


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=50000, help="rows per UPDATE")

    def handle(self, *args, batch, **options):
        tasks = points = ranks = runs = kinds = levels = 0
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        for low, high in _batches(Task, batch):
            with transaction.atomic():
                tasks += tasks_refresh(Task.objects.filter(pk__gt=low, pk__lte=high))
        tallies = task_tallies_rebuild()
        with transaction.atomic():
            orphaned, unread, scans_gone = records_orphaned_remove()
        for low, high in _batches(RiskPoint, batch):
            with transaction.atomic():
                batch_points = RiskPoint.objects.filter(pk__gt=low, pk__lte=high)
                points += control_quality_refresh(batch_points)
                ranks += carried_rank_refresh(batch_points)
                runs += control_runs_refresh(batch_points)
                kinds += position_kind_refresh(batch_points)
                levels += level_figures_refresh(batch_points)
        point_tallies = point_tallies_rebuild()
        point_spreads = point_spreads_rebuild()
        self.stdout.write(
            f"task records whose task was gone: {orphaned}; notifications whose recipient was gone: {unread}; "
            f"scan records whose scan was gone: {scans_gone}"
        )
        self.stdout.write(
            f"tasks whose completion was stale: {tasks}; task tallies: {tallies}; risk point tallies: {point_tallies}; "
            f"risk point spreads: {point_spreads}; "
            f"risk points whose control quality was: {points}; "
            f"whose carried-from rank was: {ranks}; whose control runs were: {runs}; whose post's kind was: {kinds}; "
            f"whose level's figures were: {levels}"
        )
