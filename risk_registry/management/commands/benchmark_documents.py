"""``python manage.py benchmark_documents [--points 100000] [--pdf-points 1000] [--import-rows 10000]``.

Builds a throw-away institution inside one transaction (rolled back at the end, so nothing stays),
then times: the xlsx export of N points in the 一览表 and, in the same run, the same rows written
by bare openpyxl write-only (the baseline; the ratio is printed); a PDF of M points; an import of
K rows. Peak memory is the process's resident set (sampled every 20 ms) above its level at the
start of each phase. Figures are printed; nothing is asserted (this is not a test).
"""

from __future__ import annotations

import io
import os
import threading
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from openpyxl import Workbook

from controls.models import Control
from positions.models import Position
from risk_registry.documents import importer, rendering, services
from risk_registry.documents.bombs import BOMBS, build_bomb
from risk_registry.documents.definitions import FORMS
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Department, GradeLevel, Institution, RiskType
from risk_registry.organisation.services import grading_scheme_adopt_preset, institution_create
from risk_registry.workflow.snapshots import point_rows

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class Peak:
    """Resident memory above the start of a phase, sampled in a thread."""

    def __enter__(self):
        self.start, self.peak, self._stop = rss(), rss(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())
        self.mib = (self.peak - self.start) / 2**20


def _first(points, count: int):
    """The first ``count`` points by id, as a queryset."""
    return points.filter(pk__in=list(points.order_by("id").values_list("id", flat=True)[:count]))


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--points", type=int, default=100_000)
        parser.add_argument("--pdf-points", type=int, default=1000)
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument(
            "--import-only", action="store_true", help="only the import (no export, no PDF): --points rows built"
        )
        parser.add_argument(
            "--bombs", action="store_true", help="only the bad files: each full-size bomb read by the import's reader"
        )

    def handle(self, *args, points, pdf_points, import_rows, import_only, bombs, **options):
        if bombs:
            self.time_bombs()
            return
        try:
            with transaction.atomic():
                self.run(points, pdf_points, import_rows, import_only=import_only)
                raise Rollback
        except Rollback:
            self.stdout.write("(benchmark data rolled back)")

    def time_bombs(self) -> None:
        """Each bomb of documents/bombs.py at full size: built first (not timed), then read by the
        guarded reader; the time and the peak resident memory above the start, and the refusal."""
        self.say(f"load average at start: {os.getloadavg()[0]:.2f}")
        for kind, bomb in BOMBS.items():
            data = build_bomb(kind, bomb.full_size)
            with Peak() as peak:
                try:
                    importer.read_grid(data)
                    outcome = "ACCEPTED"
                except importer.ImportRefused as refused:
                    outcome = f"refused after {refused.elements:,} elements: {refused.problem.message}"
            self.say(
                f"bomb  {bomb.description:<45} {len(data) / 1024:8.0f} KB  {peak.seconds:6.2f} s  "
                f"peak +{peak.mib:6.1f} MiB  {outcome}"
            )
        self.say(f"load average at end: {os.getloadavg()[0]:.2f}")

    def say(self, text):
        self.stdout.write(text)
        self.stdout.flush()

    def run(self, n_points, n_pdf, n_import, *, import_only=False):
        institution = self.build(n_points)
        points = institution.risk_points.all()
        self.say(f"data: {points.count():,} risk points, 2 controls each, in {institution.code}")
        if import_only:
            self.time_import(_first(points, n_import), institution)
            return
        baseline_seconds = self.time_baseline(points)
        export_seconds = self.time_xlsx(points, institution)
        self.say(f"ratio     export / baseline: {export_seconds / baseline_seconds:.2f}× time")
        self.time_pdf(_first(points, n_pdf), institution)
        self.time_import(_first(points, n_import), institution)

    def time_baseline(self, points) -> float:
        """The same rows written by bare openpyxl write-only: what the export is compared with."""
        form = FORMS["overview"]
        with Peak() as baseline:
            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet("baseline")
            sheet.append([column.header for column in form.columns])
            for serial, row in enumerate(point_rows(points), start=1):
                row["_serial"] = serial
                sheet.append([column.value(row) for column in form.columns])
            out = io.BytesIO()
            workbook.save(out)
        self.say(
            f"baseline  bare openpyxl write-only, same rows: {baseline.seconds:6.1f} s, "
            f"peak +{baseline.mib:6.1f} MiB, {len(out.getvalue()) / 2**20:.1f} MiB file"
        )
        return baseline.seconds

    def time_xlsx(self, points, institution) -> float:
        with Peak() as export:
            out = io.BytesIO()
            document = rendering.document_for_points(
                points=points, form_code="overview", institution=institution, year=2026, working=False
            )
            written = rendering.render(out, document=document, fmt="xlsx")
        self.say(
            f"xlsx      一览表, {written:,} points:           {export.seconds:6.1f} s, "
            f"peak +{export.mib:6.1f} MiB, {len(out.getvalue()) / 2**20:.1f} MiB file"
        )
        return export.seconds

    def time_pdf(self, points, institution) -> None:
        with Peak() as pdf:
            out = io.BytesIO()
            document = rendering.document_for_points(
                points=points, form_code="unit-register", institution=institution, year=2026, working=False
            )
            written = rendering.render(out, document=document, fmt="pdf")
        from pypdf import PdfReader  # a test tool (requirements-dev.txt): only this command needs it

        pages = len(PdfReader(io.BytesIO(out.getvalue())).pages)
        self.say(
            f"pdf       登记表, {written:,} points, {pages} pages:  {pdf.seconds:6.1f} s, "
            f"peak +{pdf.mib:6.1f} MiB, {len(out.getvalue()) / 2**20:.1f} MiB file"
        )

    def time_import(self, points, institution) -> None:
        """Export the points, then import the file into the next year (read, check, write)."""
        out = io.BytesIO()
        document = rendering.document_for_points(
            points=points, form_code="overview", institution=institution, year=2026, working=False
        )
        rendering.render(out, document=document, fmt="xlsx")
        data = out.getvalue()
        with Peak() as checked:
            check = services.register_import_check(by=None, institution=institution, year=2027, data=data)
        self.say(
            f"check     {len(data) / 2**20:.1f} MiB file, {len(check.planned):,} rows (read, check; the check job): "
            f"{checked.seconds:6.1f} s, peak +{checked.mib:6.1f} MiB"
        )
        with Peak() as imported:
            result = services.register_import(by=None, institution=institution, year=2027, data=data, filename="b.xlsx")
        self.say(
            f"import    {len(data) / 2**20:.1f} MiB file, {result.created:,} rows (read, check, write; the write job): "
            f"{imported.seconds:6.1f} s, peak +{imported.mib:6.1f} MiB"
            + ("" if result.ok else f" — {len(result.problems)} problems, e.g. {result.problems[0]}")
        )

    def build(self, n_points: int):
        """A bureau with 20 departments × 10 positions and ``n_points`` points (bulk inserts)."""

        started = time.perf_counter()
        institution = institution_create(code="benchmark-docs", name="基准测试局", kind=Institution.Kind.BUREAU)
        scheme = grading_scheme_adopt_preset(institution=institution, preset_code="level-1-highest")
        levels = {level.code: level for level in GradeLevel.objects.filter(scheme=scheme)}
        departments = Department.objects.bulk_create(
            Department(institution=institution, name=f"第{d + 1}科", order=d) for d in range(20)
        )
        positions = Position.objects.bulk_create(
            Position(institution=institution, department=department, title=f"{department.name}岗位{p + 1}")
            for department in departments
            for p in range(10)
        )
        risk_type = RiskType.objects.filter(institution=None).first()
        batch = 5000
        for start in range(0, n_points, batch):
            created = RiskPoint.objects.bulk_create(
                RiskPoint(
                    institution=institution,
                    department_id=positions[i % len(positions)].department_id,
                    position=positions[i % len(positions)],
                    year=2026,
                    risk_type=risk_type,
                    description=f"第{i + 1}号风险点：审批环节中可能利用职权为他人谋取利益，违规简化程序",
                    manifestation="对申请材料把关不严，或者暗示申请人请托",
                    likelihood=1 + i % 3,
                    severity=1 + (i // 3) % 3,
                    level=levels[scheme.matrix[i % 3][(i // 3) % 3]],
                    state="submitted",
                )
                for i in range(start, min(start + batch, n_points))
            )
            Control.objects.bulk_create(
                control
                for point in created
                for control in (
                    Control(risk_point=point, line="prevention", measure="双人审核，全程留痕", owner="科长"),
                    Control(risk_point=point, line="monitoring", measure="纪检每月抽查", owner="纪检员"),
                )
            )
        self.say(f"setup     {n_points:,} points built in {time.perf_counter() - started:.1f} s")
        return institution
