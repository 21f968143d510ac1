"""``python manage.py benchmark_documents [--points 20000,100000] [--pdf-points 1000] [--import-rows 10000]
[--rounds 1] [--write docs/performance.md]``.

Builds a throw-away institution inside one transaction (rolled back at the end, so nothing stays),
then times, for each number of points N:

- the product's xlsx export of the 一览表 (``rendering.render``, as a user's export runs it);
- the **strict floor**: the same rows and the form's 19 columns read by one raw SQL query (controls
  aggregated in SQL) and written by bare openpyxl write-only, no formatting, empty values left out:
  what no export can beat;
- the **ORM-path baseline**: rows built from model instances (``select_related`` and a prefetch of
  the controls, as the export read them before issue 15) and the same cells written bare;

and prints the export's ratio to both (wall time, and for the floor CPU time too: on a loaded
machine the floor's wall time includes waiting for the cores, and its SQL runs in PostgreSQL).
Then a PDF of M points of the unit register, rendered in a fresh child process (``--pdf-child``)
so that its peak resident set (sampled over it and the child processes that lay out a long PDF's
parts, WeasyPrint's C parts included) is the PDF's alone, in one piece (as before issue 15) and in
parts; and an import of K rows. ``--rounds`` repeats each xlsx and PDF measure and keeps the
fastest (the three xlsx measures take turns, round by round). Figures are printed; nothing is
asserted (this is not a test). ``--write`` puts them, with the machine and the load average,
between the markers of a Markdown file.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone, translation
from openpyxl import Workbook

from controls.models import Control
from positions.models import Holding, Position
from risk_registry.documents import importer, pdf, rendering, services
from risk_registry.documents.bombs import BOMBS, build_bomb
from risk_registry.documents.definitions import FORMS, DocumentHeader
from risk_registry.management.benchmarking import load_text, machine, write_section
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Department, GradeLevel, Institution, RiskType
from risk_registry.organisation.services import grading_scheme_adopt_preset, institution_create
from risk_registry.workflow.snapshots import point_row

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class Peak:
    """Resident memory above the start of a phase, sampled in a thread."""

    size = 0  # the file written, when the phase writes one

    def __enter__(self):
        self.start, self.peak, self._stop = rss(), rss(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self.seconds, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())
        self.mib = (self.peak - self.start) / 2**20


def _first(points, count: int):
    """The first ``count`` points by id, as a queryset (the points are built in id order)."""
    last = points.order_by("id").values_list("id", flat=True)[count - 1 : count].first()
    return points.filter(id__lte=last) if last is not None else points


def _floor_sql() -> str:
    """One query for the 一览表's 19 cells of a set of points (the serial number is counted in
    Python), its controls aggregated in SQL by one lateral join per point: each line's measures, and
    each value the controls have (owner, frequency, evidence, rule) once. Same rows and columns as
    the form; no labels (codes as stored), no formatting, an empty value left out (NULL)."""
    point, control = RiskPoint._meta, Control._meta

    def table(meta, name: str) -> str:
        model = meta.get_field(name).related_model
        assert model is not None and not isinstance(model, str)
        return model._meta.db_table

    def line(code: str) -> str:
        return f"string_agg(c.measure, E'\\n' ORDER BY c.id) FILTER (WHERE c.line = '{code}')"

    def each(value: str) -> str:
        return f"string_agg(DISTINCT nullif({value}, ''), '、')"

    return (  # names from the models, values as parameters (%s)
        "SELECT d.name, coalesce(pos.title, ''), coalesce(pw.name, ''), coalesce(st.name, ''), p.description, "  # noqa: S608
        "p.manifestation, rt.name, p.found_by, p.likelihood, p.severity, lv.name, "
        "ctl.prevention, ctl.monitoring, ctl.disposition, ctl.owners, ctl.frequencies, ctl.evidence, ctl.rules "
        f"FROM {point.db_table} p JOIN {table(point, 'department')} d ON d.id = p.department_id "
        f"LEFT JOIN {table(point, 'position')} pos ON pos.id = p.position_id "
        f"LEFT JOIN {table(point, 'power_item')} pw ON pw.id = p.power_item_id "
        f"LEFT JOIN {table(point, 'process_step')} st ON st.id = p.process_step_id "
        f"JOIN {table(point, 'risk_type')} rt ON rt.id = p.risk_type_id "
        f"JOIN {table(point, 'level')} lv ON lv.id = p.level_id "
        f"LEFT JOIN LATERAL (SELECT {line('prevention')} AS prevention, {line('monitoring')} AS monitoring, "
        f"{line('disposition')} AS disposition, {each('c.owner')} AS owners, {each('c.frequency')} AS frequencies, "
        f"{each('c.evidence')} AS evidence, {each('r.title')} AS rules "
        f"FROM {control.db_table} c LEFT JOIN {table(control, 'rule')} r ON r.id = c.rule_id "
        "WHERE c.risk_point_id = p.id) ctl ON true "
        "WHERE p.institution_id = %s AND p.id <= %s "
        "ORDER BY d.order, p.department_id, p.import_order NULLS LAST, p.position_id, p.id"
    )


def _model_rows(points):
    """Rows built from model instances, as ``point_rows`` read them before issue 15 (with what format 3
    reads joined or prefetched too: the scheme's labels, the power's category, the post's holders)."""
    queryset = (
        points.select_related(
            "department", "position", "power_item__category", "process_step", "risk_type", "level__scheme"
        )
        .prefetch_related(
            Prefetch("controls", queryset=Control.objects.select_related("rule").in_line_order()),
            Prefetch(
                "position__holdings",
                queryset=Holding.objects.filter(ended_on__isnull=True)
                .select_related("user")
                .order_by("started_on", "id"),
            ),
        )
        .order_by("department__order", "department_id", "import_order", "position_id", "id")
    )
    for point in queryset.iterator(chunk_size=2000):
        yield point_row(point)


def _bare_workbook(rows) -> bytes:
    """``rows`` (lists of values) written by bare openpyxl write-only: no styles, no merged cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("baseline")
    sheet.append([column.header for column in FORMS["overview"].columns])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--points", default="20000,100000", help="numbers of points for the xlsx, comma-separated (0: none)"
        )
        parser.add_argument("--pdf-points", type=int, default=1000)
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument("--rounds", type=int, default=1, help="xlsx measures repeated, the fastest kept")
        parser.add_argument("--write", default="", help="Markdown file for the results")
        parser.add_argument("--pdf-child", default="", help="(internal) render the PDF of this JSON file")
        parser.add_argument(
            "--import-only", action="store_true", help="only the import (no export, no PDF): --import-rows rows built"
        )
        parser.add_argument(
            "--bombs", action="store_true", help="only the bad files: each full-size bomb read by the import's reader"
        )

    def handle(self, *args, points, pdf_points, import_rows, rounds, write, pdf_child, import_only, bombs, **options):
        if pdf_child:
            self.stdout.write(json.dumps(_pdf_child(Path(pdf_child))))
            return
        if bombs:
            self.time_bombs()
            return
        self.lines: list[str] = []
        try:  # "0" or "" measures no xlsx, as --pdf-points 0 measures no PDF
            asked = [int(n) for n in str(points).split(",") if n.strip()]
        except ValueError:
            raise CommandError("--points: whole numbers separated by commas, e.g. 20000,100000") from None
        sizes = [] if import_only else sorted(n for n in asked if n > 0)
        if import_only:
            pdf_points = 0
        try:
            with transaction.atomic():
                self.run(sizes, pdf_points, import_rows, max(1, rounds))
                raise Rollback
        except Rollback:
            self.stdout.write("(benchmark data rolled back)")
        if write:
            self.write(Path(write), sizes=sizes, pdf_points=pdf_points, import_rows=import_rows, rounds=rounds)

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

    def run(self, sizes, n_pdf, n_import, rounds):
        institution = self.build(max([*sizes, n_pdf, n_import]))
        points = institution.risk_points.all()
        self.say(f"data: {points.count():,} risk points, 2 controls each, in {institution.code}")
        self.lines += [
            "| measure | points | wall (s) | CPU of this process (s) | peak RSS increase (MiB) | file (MiB) | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for size in sizes:
            self.xlsx_figures(_first(points, size), institution, size, rounds)
        if n_pdf:
            self.time_pdf(_first(points, n_pdf), institution, rounds)
        if n_import:
            self.time_import(_first(points, n_import), institution)

    def measure(self, rounds: int, *works) -> list[Peak]:
        """The fastest of ``rounds`` runs of each of ``works`` (each returns the file's bytes). The
        works take turns round by round, so that on a shared machine those compared meet the same load."""
        runs: list[list[Peak]] = [[] for _work in works]
        for _round in range(rounds):
            for work, done in zip(works, runs, strict=True):
                with Peak() as peak:
                    peak.size = len(work())
                done.append(peak)
        return [min(done, key=lambda run: run.seconds) for done in runs]

    def xlsx_figures(self, points, institution, size: int, rounds: int) -> None:
        last = points.order_by("-id").values_list("id", flat=True).first()
        columns = FORMS["overview"].columns

        def floor() -> bytes:
            with connection.cursor() as cursor:
                cursor.execute(_floor_sql(), [institution.pk, last])
                return _bare_workbook([serial, *values] for serial, values in enumerate(cursor.fetchall(), start=1))

        def orm() -> bytes:
            def cells():
                for serial, row in enumerate(_model_rows(points), start=1):
                    row["_serial"] = serial
                    yield [column.value(row) for column in columns]

            with translation.override(rendering.DOCUMENT_LANGUAGE):
                return _bare_workbook(cells())

        def export() -> bytes:
            out = io.BytesIO()
            document = rendering.document_for_points(
                points=points, form_code="overview", institution=institution, year=2026, working=False
            )
            rendering.render(out, document=document, fmt="xlsx")
            return out.getvalue()

        strict, product, baseline = self.measure(rounds, floor, export, orm)
        for label, peak, ratio in (
            ("xlsx strict floor (raw SQL + bare openpyxl write-only)", strict, ""),
            ("xlsx ORM-path baseline (model rows + bare openpyxl)", baseline, ""),
            (
                "xlsx export 一览表 (the product)",
                product,
                f"{product.seconds / strict.seconds:.2f}× floor (CPU {product.cpu / strict.cpu:.2f}×), "
                f"{product.seconds / baseline.seconds:.2f}× ORM baseline",
            ),
        ):
            self.say(
                f"{label:58} {size:>7,} points: {peak.seconds:6.2f} s (CPU {peak.cpu:6.2f} s), "
                f"peak +{peak.mib:6.1f} MiB, {peak.size / 2**20:.1f} MiB  {ratio}"
            )
            self.lines.append(
                f"| {label} | {size:,} | {peak.seconds:.2f} | {peak.cpu:.2f} | {peak.mib:.1f} | "
                f"{peak.size / 2**20:.1f} | {ratio} |"
            )

    def time_pdf(self, points, institution, rounds: int) -> None:
        """The PDF in a fresh child process, the fastest of ``rounds``, laid out in one piece (as
        before issue 15's parts) and in parts: the rows are read here and handed over in a file."""
        document = rendering.document_for_points(
            points=points, form_code="unit-register", institution=institution, year=2026, working=False
        )
        rows = list(document.rows)
        for whole, label in ((True, "in one piece"), (False, f"in parts, {pdf.PDF_WORKERS} at a time")):
            figures = min(
                (self.pdf_child(institution, rows, whole=whole) for _round in range(rounds)),
                key=lambda figures: figures["seconds"],
            )
            self.pdf_line(label, len(rows), figures)
        # A live register printed again with its laid-out parts kept (part_cache), once each: none
        # kept yet, printed again unchanged, then with one point's text changed in place.
        edited = [dict(row) for row in rows]
        if edited:
            middle = edited[len(edited) // 2]
            middle["manifestation"] = f"{middle['manifestation']}（已修改）"
        with tempfile.TemporaryDirectory() as kept:
            for label, printed in (
                ("in parts, parts kept: none yet", rows),
                ("in parts, parts kept: printed again unchanged", rows),
                ("in parts, parts kept: printed again, one point edited", edited),
            ):
                self.pdf_line(label, len(rows), self.pdf_child(institution, printed, whole=False, parts_dir=kept))

    def pdf_line(self, label: str, count: int, figures: dict) -> None:
        self.say(
            f"pdf       登记表 {label}, {count:,} points, {figures['pages']} pages, in a child process: "
            f"{figures['seconds']:6.2f} s (CPU {figures['cpu']:.2f} s), "
            f"peak RSS +{figures['mib']:6.1f} MiB over {figures['before']:.0f} MiB, PSS +{figures['pss']:.1f} MiB "
            f"(largest process {figures['largest']:.0f} MiB), {figures['size'] / 2**20:.1f} MiB file"
        )
        self.lines.append(
            f"| PDF 登记表 {label} ({figures['pages']} pages; RSS of the process tree over its "
            f"{figures['before']:.0f} MiB with Django and WeasyPrint loaded, PSS +{figures['pss']:.0f} MiB; "
            f"largest process {figures['largest']:.0f} MiB) | {count:,} | "
            f"{figures['seconds']:.2f} | {figures['cpu']:.2f} | {figures['mib']:.1f} | "
            f"{figures['size'] / 2**20:.1f} | |"
        )

    def pdf_child(self, institution, rows: list[dict], *, whole: bool, parts_dir: str = "") -> dict:
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as handle:
            json.dump(
                {"institution": institution.name, "rows": rows, "whole": whole, "parts_dir": parts_dir},
                handle,
                ensure_ascii=False,
            )
        try:
            result = subprocess.run(  # noqa: S603 - this interpreter, this command
                [
                    sys.executable,
                    str(Path(settings.BASE_DIR) / "manage.py"),
                    "benchmark_documents",
                    "--pdf-child",
                    handle.name,
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=1800,
            )
        finally:
            os.unlink(handle.name)
        return json.loads(result.stdout.strip().splitlines()[-1])

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
        self.lines.append(
            f"| import (read, check, write) | {result.created:,} | {imported.seconds:.2f} | {imported.cpu:.2f} | "
            f"{imported.mib:.1f} | {len(data) / 2**20:.1f} | |"
        )

    def write(self, path: Path, *, sizes, pdf_points, import_rows, rounds) -> None:
        command = (
            f"manage.py benchmark_documents --points {','.join(map(str, sizes))} --pdf-points {pdf_points} "
            f"--import-rows {import_rows} --rounds {rounds}"
        )
        text = "\n".join(
            [f"Measured {timezone.localdate()} with `{command}`", f"({load_text()}) {machine()}", "", *self.lines, ""]
        )
        write_section(path, text, marker="benchmark_documents", heading="Documents")
        self.stdout.write(f"written to {path}")

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


def process_tree(root: int) -> set[int]:
    """Process ``root`` and all its descendants, read from every process's ``/proc/PID/stat`` (this
    kernel has no ``/proc/PID/task/TID/children``): a walk of every process on the machine, so the
    sampler below does it only every ``TREE_EVERY`` samples."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
        except OSError:  # ended meanwhile
            continue
    tree, grown = {root}, True
    while grown:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | more, bool(more)
    return tree


def tree_memory(pids: set[int]) -> tuple[int, int, int]:
    """The resident set (RSS) and proportional set (PSS: a page shared by n processes counts 1/n)
    of the processes ``pids`` (``process_tree``), summed, and the largest process's RSS. The RSS
    sum counts the mapped font files and shared libraries in every process that maps them (an
    upper bound); the PSS sum does not."""
    rss_sum = pss_sum = largest = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith(("Rss:", "Pss:")):
                        kib = int(line.split()[1]) * 1024
                        if line[0] == "R":
                            rss_sum, largest = rss_sum + kib, max(largest, kib)
                        else:
                            pss_sum += kib
        except OSError:
            continue
    return rss_sum, pss_sum, largest


def own_high_water() -> int:
    """This process's peak resident set since it started its program (``VmHWM``, bytes). Not
    ``getrusage``'s ``ru_maxrss``: Linux keeps that across ``exec``, so a process started by a large
    one (the benchmark holding 100,000 points) reported its parent's size, and a child of this one
    this one's."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# The sampler runs in the measured process, which lays out a share of a long PDF itself: walking
# every process on the machine (about 150) 50 times a second held its interpreter's lock long
# enough to cost the first print 0.8-1.3 s of its 7.5 (measured); the tree is walked every 10th
# sample (0.2 s: a child's first 0.2 s are its start-up, far from its peak) and the known
# processes' memory read at every sample.
SAMPLE_SECONDS = 0.02
TREE_EVERY = 10


def _pdf_child(path: Path) -> dict:
    """In the fresh child: render the PDF of the rows in ``path``; wall and CPU time (its own and
    its children's: the font check runs ``fc-list``, a long PDF's parts are laid out by child
    processes), and the peak resident set of this process and its children together, sampled
    (file-backed font pages included), above the one once Django and WeasyPrint are loaded."""
    import weasyprint  # noqa: F401 - loaded before the baseline: a worker process has it loaded already

    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("whole"):
        pdf.PARTS_FROM = pdf.PDF_MAX_POINTS  # one piece, as before the parts
    settings.RISK_REGISTRY_PDF_PARTS_DIR = data.get("parts_dir", "")  # laid-out parts kept only where measured
    header = DocumentHeader(institution=data["institution"], year=2026)
    before, before_pss, largest = tree_memory(process_tree(os.getpid()))
    peak, peak_pss = before, before_pss
    stop = threading.Event()

    def sample():
        nonlocal peak, peak_pss, largest
        samples = 0
        while not stop.wait(SAMPLE_SECONDS):
            if samples % TREE_EVERY == 0:
                pids = process_tree(os.getpid())
            samples += 1
            now, now_pss, biggest = tree_memory(pids)
            peak, peak_pss, largest = max(peak, now), max(peak_pss, now_pss), max(largest, biggest)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    out = io.BytesIO()
    document = rendering.Document(form=FORMS["unit-register"], header=header, rows=iter(data["rows"]), total=0)
    rendering.render(out, document=document, fmt="pdf")
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    own = own_high_water()  # between two samples, this process alone (a PDF in one piece)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    from pypdf import PdfReader

    return {
        "seconds": seconds,
        "cpu": time.process_time() - cpu + children.ru_utime + children.ru_stime,
        "before": before / 2**20,
        "mib": max(peak, own) / 2**20 - before / 2**20,
        "pss": (peak_pss - before_pss) / 2**20,
        "largest": max(largest, own) / 2**20,
        "pages": len(PdfReader(io.BytesIO(out.getvalue())).pages),
        "size": len(out.getvalue()),
    }
