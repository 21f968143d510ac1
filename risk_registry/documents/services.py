"""Services of the documents: render a form, start and run exports, import a register.

Views, commands and the Celery task call these; each export writes an ``ExportJob`` row and an
audit entry (who, what, when), each import one audit entry with the count.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.queue import enqueue_on_commit
from controls.models import Control
from controls.services import control_quality_refresh
from positions.models import Position, PowerItem
from risk_registry import access
from risk_registry.documents import catalogues, filed, importer, pdf, selectors, wizard
from risk_registry.documents.archive import ArchiveNames, write_archive
from risk_registry.documents.definitions import FORMATS, FORMS
from risk_registry.documents.models import ExportJob, ImportMapping
from risk_registry.documents.rendering import (
    DOCUMENT_LANGUAGE,
    SYNC_LIMITS,
    Document,
    _form,
    document_for_points,
    document_for_version,
    export_dir,
    filename_for,
    render,
)
from risk_registry.models import PostGrade, RiskPoint, RiskPointState
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation import work
from risk_registry.organisation.copy import Copier
from risk_registry.organisation.models import Department, Institution
from risk_registry.organisation.services import audit_record

logger = logging.getLogger(__name__)

# --- exports --------------------------------------------------------------------------------


@dataclass
class ExportOutcome:
    """A started export: ``file`` holds the finished document when it was small enough to render
    in the request; otherwise the job runs in the background."""

    job: ExportJob
    file: io.BytesIO | None = None
    filename: str = ""
    content_type: str = ""


State = ExportJob.State
EXPORT_TASK = "risk_registry.documents.tasks.export_job_run"
IMPORT_TASK = "risk_registry.documents.tasks.import_job_run"
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def _resolve(job: ExportJob) -> tuple[Document, Institution | None, RegisterVersion | None]:
    """The document a job asks for, as the job's owner may see it now (and the filed version it
    prints, when it prints one)."""
    user = job.owner
    if job.kind == "version":
        version = access.object_or_404(
            access.versions_visible_to(user).select_related("register__institution", "signed_by"),
            pk=job.params.get("version"),
        )
        return document_for_version(version=version, form_code=job.form), version.register.institution, version
    found = selectors.points_for_export(user=user, params=job.params)
    document = document_for_points(
        points=found.points,
        form_code=job.form,
        institution=found.institution,
        year=found.year,
        working=not found.official,
    )
    return document, found.institution, None


def _check_request(form_code: str, fmt: str) -> None:
    _form(form_code)
    if fmt not in FORMATS:
        raise ValidationError(_("Unknown format: %(format)s") % {"format": fmt})
    if fmt == "pdf":
        pdf.cjk_font()  # refuse now, with the message, rather than in a worker


def export_start(*, user, kind: str, form_code: str, fmt: str, params: dict) -> ExportOutcome:
    """Record an export (job row and audit entry); render it now when small, else enqueue it.

    ``kind`` is ``list`` (``params`` = the list's query string, filters kept: registers are the
    list filtered by institution and year) or ``version`` (``params`` = ``{"version": id}``).
    """
    _check_request(form_code, fmt)
    job = ExportJob(owner=user, kind=kind, form=form_code, file_format=fmt, params=params)
    document, institution, version = _resolve(job)
    job.institution = institution
    job.total = document.total
    # A filed version's PDF is kept once rendered (documents/filed.py): served at once whatever its size.
    kept = version if fmt == "pdf" else None
    data = filed.kept_pdf(version=kept, form_code=form_code) if kept is not None else None
    synchronous = data is not None or document.total <= SYNC_LIMITS[fmt]
    if synchronous:
        if kept is not None:
            data = data or filed.filed_pdf(version=kept, form_code=form_code, by=user)
            written = document.total
        else:
            buffer = io.BytesIO()
            written = render(buffer, document=document, fmt=fmt)
            data = buffer.getvalue()
        buffer = io.BytesIO(data)
        job.state, job.done, job.size = State.DONE, written, len(data)
        job.total = max(job.total, written)
        job.sha256 = hashlib.sha256(data).hexdigest()
        job.filename = filename_for(document, fmt)
        job.finished_at = timezone.now()
    elif fmt == "pdf" and document.total > pdf.PDF_MAX_POINTS:
        raise pdf.DocumentUnavailable(
            _("A PDF is limited to %(limit)d risk points (this one has %(count)d): export Excel instead.")
            % {"limit": pdf.PDF_MAX_POINTS, "count": document.total}
        )
    with transaction.atomic():
        if not synchronous:
            job.queued_at = timezone.now()
        job.save(force_insert=True)
        _audit_export(job, synchronous=synchronous)
        if not synchronous:
            _enqueue(job)
    if synchronous:
        buffer.seek(0)
        return ExportOutcome(job=job, file=buffer, filename=job.filename, content_type=CONTENT_TYPES[fmt])
    return ExportOutcome(job=job)


def archive_start(*, user, institution: Institution, year: int) -> ExportJob:
    """The annual archive as a background job (it renders every form twice)."""
    pdf.cjk_font()
    job = ExportJob(
        owner=user,
        kind="archive",
        form="archive",
        file_format="zip",
        institution=institution,
        params={"institution": [institution.code], "year": [str(year)]},
        total=len(FORMS) * len(FORMATS),
        queued_at=timezone.now(),
    )
    with transaction.atomic():
        job.save(force_insert=True)
        _audit_export(job, synchronous=False)
        _enqueue(job)
    return job


def _audit_export(job: ExportJob, *, synchronous: bool) -> None:
    audit_record(
        actor=job.owner,
        action="document.archive" if job.kind == "archive" else "document.export",
        target=job,
        institution=job.institution,
        summary=f"{job.form}.{job.file_format} · {job.total}",
        changes={
            "kind": job.kind,
            "form": job.form,
            "format": job.file_format,
            "params": job.params,
            "points": job.total,
            "at_once": synchronous,
        },
    )


def _enqueue(job: ExportJob) -> None:
    """Send the job to the workers once the transaction commits; when the broker refuses it, mark
    it unsent so that the next sweep (a minute at most once the broker is back) sends it again."""
    enqueue_on_commit(task_of(job.kind), job.pk, on_unsent=functools.partial(_mark_unsent, job.pk))


def task_of(kind: str) -> str:
    """The task that runs a job of ``kind``: an import's steps, or an export."""
    return IMPORT_TASK if kind in ExportJob.IMPORT_KINDS else EXPORT_TASK


def job_enqueue(job: ExportJob) -> None:
    """For the import's jobs (import_jobs.py): sent after commit, swept like an export's."""
    _enqueue(job)


def _mark_unsent(pk: int) -> None:
    ExportJob.objects.filter(pk=pk).update(queued_at=None)


# --- running a job: claim, heartbeat, phases --------------------------------------------------


def _setting(name: str) -> int:
    return getattr(settings, f"RISK_REGISTRY_EXPORT_{name}")


def this_process() -> str:
    """The holder of the jobs this process runs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(holder: str) -> bool:
    """Whether the holder is a process of this machine that no longer exists (a killed pool
    process). A holder on another machine is judged by its heartbeat alone."""
    host, _sep, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdecimal():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _alive(job: ExportJob, now) -> bool:
    """Whether a running job's holder still runs it: a recent heartbeat from a process that exists."""
    if not job.holder or job.heartbeat_at is None:
        return False
    if now - job.heartbeat_at > timedelta(seconds=_setting("STALE_SECONDS")):
        return False
    return not _process_gone(job.holder)


def _interrupted_message(attempts: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "This export was started %(count)d times and each time its worker stopped before it was "
            "finished (the document may be too large for the worker's memory). Narrow the list or "
            "export Excel instead, then try again."
        ) % {"count": attempts}


def _part_files(token) -> list[Path]:
    return list(export_dir().glob(f"{token}.*.part"))


def export_job_claim(job_id: int) -> ExportJob | None:
    """Take a job to run it: a waiting job, or a running one whose holder is gone. Returns None when
    it is finished, held by a live process, or failed here after too many interrupted starts."""
    me, now = this_process(), timezone.now()
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",))
            .select_related("owner", "institution")
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.is_finished:
            return None
        if job.state == State.RUNNING and job.holder != me and _alive(job, now):
            return None  # a second delivery while the first still runs (Redis's visibility timeout)
        if job.attempts >= _setting("MAX_ATTEMPTS"):
            _fail(job, _interrupted_message(job.attempts), now)
            return None
        job.state, job.holder, job.heartbeat_at, job.started_at = State.RUNNING, me, now, now
        job.attempts, job.phase, job.done = job.attempts + 1, "", 0
        job.save(update_fields=["state", "holder", "heartbeat_at", "started_at", "attempts", "phase", "done"])
    for leftover in _part_files(job.token):  # what a killed earlier attempt was writing
        leftover.unlink(missing_ok=True)
    return job


class JobHeartbeat(threading.Thread):
    """Stamps ``heartbeat_at`` every few seconds while the job runs, also while WeasyPrint lays out
    a PDF in one long call; it dies with the process, which is how a killed worker is noticed.

    It also writes the progress the job reports with ``progress(done, total)``: from its own
    connection, so an import writing its rows inside one transaction still shows how far it is
    to the page that polls (the job's own connection would show nothing before it commits)."""

    def __init__(self, job: ExportJob, interval: float | None = None) -> None:
        super().__init__(name=f"export-heartbeat-{job.pk}", daemon=True)
        self.rows = ExportJob.objects.filter(pk=job.pk, state=State.RUNNING, holder=job.holder)
        self.stopped = threading.Event()
        self.interval = interval or _setting("HEARTBEAT_SECONDS")
        self.counts: tuple[int, int] | None = None  # (done, total) not yet written

    def progress(self, done: int, total: int) -> None:
        self.counts = (min(done, total), total)

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                fields: dict = {"heartbeat_at": timezone.now()}
                if self.counts is not None:
                    fields["done"], fields["total"] = self.counts
                self.rows.update(**fields)
        except DatabaseError:
            logger.warning("export heartbeat stopped", exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


def export_job_run(job_id: int) -> ExportJob | None:
    """Run a background export. Safe to run twice: a finished job or one a live process runs is left
    alone; the file is written under a temporary name and renamed, so a second run replaces it
    whole. An error puts the job back to waiting (the task retries or fails it) and removes the
    temporary file."""
    job = export_job_claim(job_id)
    if job is None:
        return None
    rows = ExportJob.objects.filter(pk=job.pk, state=State.RUNNING, holder=job.holder)

    def progress(done: int) -> None:
        rows.update(done=Least(Value(done), F("total")), heartbeat_at=timezone.now())

    def phase(name: str) -> None:
        rows.update(phase=name, heartbeat_at=timezone.now())

    heartbeat = JobHeartbeat(job)
    heartbeat.start()
    final = export_dir() / f"{job.token}.{job.file_format}"
    handle, temporary = tempfile.mkstemp(dir=export_dir(), prefix=f"{job.token}.", suffix=".part")
    os.close(handle)
    try:
        if job.kind == "archive":
            institution = job.institution
            if institution is None:  # archive_start always names one
                raise ValueError(f"archive job {job.pk} has no institution")
            year = int(job.params["year"][0])
            found = selectors.points_for_export(user=job.owner, params=job.params)
            versions = access.versions_visible_to(job.owner).filter(
                register__institution=institution, register__year=year
            )
            write_archive(
                Path(temporary),
                institution=institution,
                year=year,
                points=found.points,
                working=not found.official,
                versions=versions,
                previous=access.risk_points_visible_to(job.owner).filter(institution=institution, year=year - 1),
                post_grades=access.post_grades_visible_to(job.owner).filter(institution=institution, year=year),
                progress=progress,
            )
            filename, written, total = ArchiveNames(institution, year).zip_name, job.total, job.total
        else:
            document, _institution, version = _resolve(job)
            total = document.total  # today's count: points may have come or gone since the request
            rows.update(total=total, done=0)
            if version is not None and job.file_format == "pdf":  # rendered once, then kept
                Path(temporary).write_bytes(filed.filed_pdf(version=version, form_code=job.form, by=job.owner))
                written = total
            else:
                written = render(temporary, document=document, fmt=job.file_format, progress=progress, phase=phase)
            filename = filename_for(document, job.file_format)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        heartbeat.stop()
        rows.update(state=State.PENDING, holder="", phase="")
        raise
    heartbeat.stop()
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    finished = rows.update(
        state=State.DONE,
        phase="",
        total=max(total, written),
        done=written,
        file_path=str(final),
        filename=filename,
        size=final.stat().st_size,
        sha256=digest,
        finished_at=timezone.now(),
        error="",
    )
    if not finished:
        return None  # the sweep gave the job to another process meanwhile, which finishes it
    job.refresh_from_db()
    _notify(job)
    return job


def _fail(job: ExportJob, error: str, now) -> None:
    ExportJob.objects.filter(pk=job.pk).exclude(state=State.DONE).update(
        state=State.FAILED, phase="", holder="", error=error[:2000], finished_at=now
    )


def export_job_fail(job_id: int, error: str) -> None:
    """Record that a job failed for good (the task re-raises the error after this)."""
    ExportJob.objects.filter(pk=job_id).exclude(state=State.DONE).update(
        state=State.FAILED, phase="", holder="", error=error[:2000], finished_at=timezone.now()
    )


def time_limit_message() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "This export took longer than %(minutes)d minutes and was stopped. Narrow the list or "
            "export Excel instead, then try again."
        ) % {"minutes": _setting("TIME_LIMIT_SECONDS") // 60}


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    requeued: int = 0
    failed: int = 0
    parts_removed: int = 0


def export_jobs_sweep(now=None) -> SweepResult:
    """Beat runs this every minute: no job waits or runs forever.

    - a running job whose holder is gone (no heartbeat for ``STALE_SECONDS``, or a process of this
      machine that no longer exists) waits again and is sent again, or fails with a message after
      ``MAX_ATTEMPTS`` starts;
    - a waiting job that was never sent (the broker was down) or not started ``REQUEUE_MINUTES``
      after it was sent (the queue was wiped) is sent again; the claim makes duplicates harmless;
    - a job still waiting ``GIVE_UP_HOURS`` after it was asked for fails with a message;
    - ``.part`` files no live job is writing are removed.
    """
    now = now or timezone.now()
    result = SweepResult()
    with transaction.atomic():
        running = list(ExportJob.objects.select_for_update(skip_locked=True).filter(state=State.RUNNING))
        dead = [job for job in running if not _alive(job, now)]
        exhausted = [job.pk for job in dead if job.attempts >= _setting("MAX_ATTEMPTS")]
        ExportJob.objects.filter(pk__in=exhausted).update(
            state=State.FAILED,
            phase="",
            holder="",
            error=_interrupted_message(_setting("MAX_ATTEMPTS")),
            finished_at=now,
        )
        orphans = [job.pk for job in dead if job.attempts < _setting("MAX_ATTEMPTS")]
        ExportJob.objects.filter(pk__in=orphans).update(state=State.PENDING, holder="", phase="", queued_at=None)
        waiting = ExportJob.objects.select_for_update(skip_locked=True).filter(state=State.PENDING)
        with translation.override(settings.LANGUAGE_CODE):
            give_up = _(
                "This export waited more than %(hours)d hours without a worker to run it, so it was "
                "cancelled. Try again; if it waits again, tell the system administrator."
            ) % {"hours": _setting("GIVE_UP_HOURS")}
        result.failed = len(exhausted) + waiting.filter(
            created_at__lt=now - timedelta(hours=_setting("GIVE_UP_HOURS"))
        ).update(state=State.FAILED, error=give_up, finished_at=now)
        due = list(
            waiting.filter(
                Q(queued_at__isnull=True) | Q(queued_at__lt=now - timedelta(minutes=_setting("REQUEUE_MINUTES")))
            ).values_list("pk", "kind")
        )
        ExportJob.objects.filter(pk__in=[pk for pk, _kind in due]).update(queued_at=now)
        for pk, kind in due:
            enqueue_on_commit(task_of(kind), pk, on_unsent=functools.partial(_mark_unsent, pk))
        result.requeued = len(due)
    result.parts_removed = _remove_stale_parts(now)
    if result.requeued or result.failed or result.parts_removed:
        logger.warning("export sweep: %s", result)
    return result


def _remove_stale_parts(now) -> int:
    """Remove the ``.part`` files of jobs that no live process is writing. The folder is listed
    before the jobs are read, and a claim commits before its process creates its file, so a file
    listed here whose job is being claimed is always seen as live."""
    parts = list(export_dir().glob("*.part"))
    if not parts:
        return 0
    tokens = {path.name.split(".", 1)[0] for path in parts}
    live = {
        str(job.token)
        for job in ExportJob.objects.filter(state=State.RUNNING, token__in=_uuids(tokens))
        if _alive(job, now)
    }
    removed = 0
    for path in parts:
        if path.name.split(".", 1)[0] not in live:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _uuids(texts) -> list[uuid.UUID]:
    result = []
    for text in texts:
        try:
            result.append(uuid.UUID(text))
        except ValueError:
            continue
    return result


def _notify(job: ExportJob) -> None:
    """The notification: an e-mail to the owner, when they have an address."""
    if not job.owner.email:
        return
    send_mail(
        _("Your export is ready: %(name)s") % {"name": job.filename},
        _("Download it here: %(url)s") % {"url": reverse("documents_job", args=[job.token])},
        None,
        [job.owner.email],
        fail_silently=False,
    )


# --- archive (command line) -----------------------------------------------------------------


def archive_write(*, institution: Institution, year: int, out_dir: Path, by=None) -> tuple[Path, dict]:
    """``manage.py export_archive``: the official register and every filed version."""
    pdf.cjk_font()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ArchiveNames(institution, year).zip_name
    versions = RegisterVersion.objects.filter(register__institution=institution, register__year=year).select_related(
        "register__institution", "signed_by"
    )
    points = selectors.register_points_for_filing(institution=institution, year=year)
    previous = selectors.register_points_for_filing(institution=institution, year=year - 1)
    manifest = write_archive(
        path,
        institution=institution,
        year=year,
        points=points,
        working=False,
        versions=versions,
        previous=previous,
        post_grades=PostGrade.objects.filter(institution=institution, year=year),
    )
    audit_record(
        actor=by,
        action="document.archive",
        target=institution,
        institution=institution,
        summary=f"{path.name} · {len(manifest['files'])}",
        changes={
            "year": year,
            "files": len(manifest["files"]),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        },
    )
    return path, manifest


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    planned: list[importer.PlannedPoint] = field(default_factory=list)
    problems: list[importer.Problem] = field(default_factory=list)
    created: int = 0
    sheet: str = ""  # the sheet read
    sheets: list[importer.SheetInfo] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _insert_imported(points: list[dict], plans) -> list[int]:
    """The points of an import (either import) and their planned controls, by COPY
    (``organisation.copy``: the ORM's ``bulk_create`` built a model instance per row and was about
    half of the write, issue 15); returns the points' ids, in the order of ``points``.

    ``points`` are the points' columns (field attnames, the same in each); every other column gets
    its field's default, as an INSERT would. Ids come from the tables' sequences (other writers may
    insert at the same time). COPY fires the point's trigger (its ``institution_path``) and checks
    the constraints as an INSERT does; the database computes ``search_bigrams``. Then the points'
    stored control quality, as every service that writes controls keeps it."""
    if not points:
        return []
    copier = Copier(RiskPoint, list(points[0]))
    ids = copier.reserve(len(points))
    copier.write((pk, *point.values()) for pk, point in zip(ids, points, strict=True))
    controls = [
        (pk, control.line, control.measure, control.owner, control.frequency, control.evidence, _rule_pk(control))
        for pk, item in zip(ids, plans, strict=True)
        for control in item.controls
    ]
    if controls:
        copier = Copier(Control, ["risk_point_id", "line", "measure", "owner", "frequency", "evidence", "rule_id"])
        copier.write((pk, *control) for pk, control in zip(copier.reserve(len(controls)), controls, strict=True))
    control_quality_refresh(RiskPoint.objects.filter(pk__in=ids))
    return ids


def _rule_pk(control: importer.PlannedControl) -> int | None:
    return control.rule.pk if control.rule is not None else None


def _imported_point(institution: Institution, year: int, by, item, **more) -> dict:
    """What both imports write of a planned point (``more``: what only one of them sets)."""
    return {
        "institution_id": institution.pk,
        "department_id": item.department.pk,
        "position_id": item.position.pk if item.position else None,
        "power_item_id": item.power_item.pk if item.power_item else None,
        "year": year,
        "risk_type_id": item.risk_type.pk,
        "found_by": str(item.found_by),
        "description": item.description,
        "manifestation": item.manifestation,
        "likelihood": item.likelihood,
        "severity": item.severity,
        "graded_directly": item.graded_directly,
        "level_id": item.level.pk,
        "created_by_id": by.pk if by is not None else None,
        **more,
    }


def register_import_check(
    *, by, institution: Institution, year: int, data: bytes, sheet: str = "", progress=None
) -> ImportResult:
    """Read and check a file (the visible ``sheet`` named, or the first visible one); write nothing.
    ``by`` None is the command line (an operator). ``progress(done, total)``: rows checked."""
    if by is not None:
        access.require(selectors.can_import_into(by, institution))
    try:
        rows = importer.read_rows(data, sheet=sheet, progress=progress and (lambda read: progress(0, read)))
    except importer.ImportRefused as refused:
        return ImportResult(problems=[refused.problem], sheets=refused.sheets)
    planned, problems = importer.check_rows(rows, institution=institution, year=year, progress=progress)
    return ImportResult(planned=planned, problems=problems, sheet=rows.sheet, sheets=rows.sheets)


IMPORT_BATCH = 1000  # points written per COPY; the progress moves once per batch


def _import_done(*, institution: Institution, year: int) -> None:
    """After an import's last batch: the cycle's tasks that read the institution's points."""
    work.work_changed(work.POINTS, institution_ids=[institution.pk], year=year)


@transaction.atomic
def register_import(
    *, by, institution: Institution, year: int, data: bytes, filename: str = "", sheet: str = "", progress=None
) -> ImportResult:
    """Import a whole file or nothing. The institution row is locked so that two imports of the
    same file cannot both pass the duplicate check; the file is checked again here, inside the
    transaction, whatever a preview said earlier. Imported points enter as *submitted* (see
    docs/documents.md): the office's paper register already went through self-report.
    ``progress(done, total)``: rows checked, then points written (in batches of IMPORT_BATCH)."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    result = register_import_check(by=by, institution=institution, year=year, data=data, sheet=sheet, progress=progress)
    if not result.ok:
        return result
    total = len(result.planned)
    for start in range(0, total, IMPORT_BATCH):
        batch = result.planned[start : start + IMPORT_BATCH]
        points = [
            _imported_point(
                institution,
                year,
                by,
                item,
                process_step_id=item.process_step.pk if item.process_step else None,
                state=RiskPointState.SUBMITTED.value,
            )
            for item in batch
        ]
        result.created += len(_insert_imported(points, batch))
        if progress is not None:
            progress(result.created, total)
    _import_done(institution=institution, year=year)
    audit_record(
        actor=by,
        action="document.import",
        target=institution,
        institution=institution,
        summary=_("%(count)d risk points imported from %(file)s") % {"count": result.created, "file": filename or "-"},
        changes={
            "year": year,
            "points": result.created,
            "file": filename,
            "sheet": result.sheet,
            "sha256": hashlib.sha256(data).hexdigest(),
        },
    )
    return result


def import_template(*, institution: Institution) -> bytes:
    """The import template: the 一览表 columns, empty, and a sheet of the values each column takes."""
    buffer = io.BytesIO()
    with translation.override(DOCUMENT_LANGUAGE):
        importer.write_template(buffer, institution=institution)
    return buffer.getvalue()


# --- the catalogues (职权目录, 流程图, 制度目录) ------------------------------------------------


@dataclass
class CatalogueFile:
    data: bytes
    filename: str
    content_type: str
    rows: int


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def catalogue_export(*, by, institution: Institution, kind: str, fmt: str, items, rules) -> CatalogueFile:
    """Render one catalogue of ``institution`` (from ``items``/``rules``, already filtered by access)
    and record the export. A catalogue is small (one row per power, step or rule): it is rendered
    in the request. Raises ValidationError or pdf.DocumentUnavailable with a message for the user."""
    if kind not in catalogues.CATALOGUES:
        raise ValidationError(_("Unknown catalogue: %(kind)s") % {"kind": kind})
    if fmt not in FORMATS:
        raise ValidationError(_("Unknown format: %(format)s") % {"format": fmt})
    today = timezone.localdate()
    if kind == "powers":
        document = catalogues.power_catalogue(institution=institution, items=items, today=today)
    elif kind == "flows":
        document = catalogues.flow_catalogue(institution=institution, items=items, today=today, charts=fmt == "pdf")
    else:
        document = catalogues.rule_catalogue(institution=institution, rules=rules, today=today)
    out = io.BytesIO()
    render(out, document=document, fmt=fmt)
    name = catalogues.filename(institution, kind, fmt, today)
    audit_record(
        actor=by,
        action="catalogue.export",
        target=institution,
        institution=institution,
        summary=name,
        changes={"catalogue": kind, "format": fmt, "rows": document.total},
    )
    return CatalogueFile(data=out.getvalue(), filename=name, content_type=CONTENT_TYPES[fmt], rows=document.total)


# --- the mapping import (the wizard) ---------------------------------------------------------


@dataclass
class MappedImport:
    result: wizard.PlanResult
    sheet: str = ""
    sheets: list[importer.SheetInfo] = field(default_factory=list)
    created: int = 0

    @property
    def problems(self) -> list[importer.Problem]:
        return self.result.problems

    @property
    def ok(self) -> bool:
        return not self.result.problems


def import_mapping_of(institution: Institution) -> ImportMapping | None:
    """The mapping the institution used last time (suggestions for this import)."""
    return ImportMapping.objects.filter(institution=institution).first()


def register_import_mapped_check(
    *, by, institution: Institution, year: int, data: bytes, mapping: dict, sheet: str = ""
) -> MappedImport:
    """Read through the guarded reader and plan every row through ``mapping``; write nothing."""
    if by is not None:
        access.require(selectors.can_import_into(by, institution))
    try:
        grid = importer.read_grid(data, sheet=sheet)
    except importer.ImportRefused as refused:
        return MappedImport(result=wizard.PlanResult(problems=[refused.problem]), sheets=refused.sheets)
    return MappedImport(
        result=wizard.plan(grid, mapping, institution=institution, year=year), sheet=grid.sheet, sheets=grid.sheets
    )


@transaction.atomic
def register_import_mapped(
    *, by, institution: Institution, year: int, data: bytes, mapping: dict, filename: str = "", sheet: str = ""
) -> MappedImport:
    """Write a mapped file whole or not at all (checked again here, the institution row locked):
    the departments, positions and power items the user chose to create, the points in the state
    chosen (``mapping["state"]``: draft, or issued as last year's register), their controls, one
    audit entry; and remember the mapping for the institution's next import."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    checked = register_import_mapped_check(
        by=by, institution=institution, year=year, data=data, mapping=mapping, sheet=sheet
    )
    if not checked.ok:
        return checked
    state = str(mapping["state"]) if mapping.get("state") in wizard.STATES else RiskPointState.DRAFT.value
    plans = checked.result.points
    departments = _create_departments(institution, checked.result.new_departments)
    for item in plans:
        item.department = item.department or departments[item.department_name]
    positions = _create_positions(institution, plans)
    powers = _create_power_items(institution, plans, checked.result.category)
    for item in plans:
        item.position = item.position or positions.get((item.department_name, item.position_title))
        item.power_item = item.power_item or powers.get(item.power_name)
    points = _insert_imported(
        [
            _imported_point(
                institution,
                year,
                by,
                item,
                needs_regrading=item.needs_grading,
                regrading_reason=_("The imported register gave no level") if item.needs_grading else "",
                notes=item.notes,
                head_in_charge=item.head,
                leader_in_charge=item.leader,
                import_order=item.order,
                state=state,
            )
            for item in plans
        ],
        plans,
    )
    _import_done(institution=institution, year=year)
    checked.created = len(points)
    _remember_mapping(by=by, institution=institution, data=data, mapping=mapping, sheet=checked.sheet)
    audit_record(
        actor=by,
        action="document.import",
        target=institution,
        institution=institution,
        summary=_("%(count)d risk points imported from %(file)s") % {"count": len(points), "file": filename or "-"},
        changes={
            "year": year,
            "points": len(points),
            "controls": sum(len(item.controls) for item in plans),
            "state": state,
            "file": filename,
            "sheet": checked.sheet,
            "sha256": hashlib.sha256(data).hexdigest(),
            "created": {
                "departments": checked.result.new_departments,
                "positions": checked.result.new_positions,
                "power_items": checked.result.new_power_items,
            },
        },
    )
    return checked


def _create_departments(institution: Institution, names: list[str]) -> dict[str, Department]:
    """New departments, ordered after the existing ones in the order the file names them."""
    start = (Department.objects.filter(institution=institution).aggregate(m=Max("order"))["m"] or 0) + 1
    created = Department.objects.bulk_create(
        Department(institution=institution, name=name[:120], order=start + i) for i, name in enumerate(names)
    )
    return {name: department for name, department in zip(names, created, strict=True)}


def _create_positions(institution: Institution, plans: list[wizard.Plan]) -> dict[tuple[str, str], Position]:
    wanted: dict[tuple[str, str], Department] = {}
    for item in plans:
        if item.position is None and item.position_title and item.department is not None:
            wanted.setdefault((item.department_name, item.position_title), item.department)
    created = Position.objects.bulk_create(
        Position(institution=institution, department=department, title=title[:120])
        for (_name, title), department in wanted.items()
    )
    return dict(zip(wanted, created, strict=True))


def _create_power_items(institution: Institution, plans: list[wizard.Plan], category) -> dict[str, PowerItem]:
    """Power items named in the file and not yet in the inventory: created under the first row's
    department (its position exercising it), to be completed in the inventory."""
    first: dict[str, wizard.Plan] = {}
    for item in plans:
        if item.power_item is None and item.power_name:
            first.setdefault(item.power_name, item)
    powers = {
        name: PowerItem.objects.create(
            institution=institution, department=item.department, name=name, category=category
        )
        for name, item in first.items()
    }
    for name, item in first.items():
        if item.position is not None:
            powers[name].positions.add(item.position)
    return powers


def _remember_mapping(*, by, institution: Institution, data: bytes, mapping: dict, sheet: str) -> None:
    grid = importer.read_grid(data, sheet=sheet)
    names = wizard.headers(grid.cells, int(mapping.get("header_row", 0)))
    columns = {
        importer._normalise_header(name): target
        for name, target in zip(names, mapping.get("columns", []), strict=False)
        if target
    }
    values = {kind: dict(mapping.get(kind, {})) for kind in ("levels", "risk_types", "found_by", "lines")}
    ImportMapping.objects.update_or_create(
        institution=institution, defaults={"columns": columns, "values": values, "updated_by": by}
    )


def import_mapping_complete(*, institution: Institution, data: bytes, mapping: dict, sheet: str = "") -> dict:
    """A mapping as the wizard would complete it (the command line's ``--wizard``): the header row
    detected, columns given by header text resolved to positions, what is missing suggested from
    the synonym table and the institution's last mapping. ValueError for a file that cannot be read."""
    try:
        grid = importer.read_grid(data, sheet=sheet)
    except importer.ImportRefused as refused:
        raise ValueError(str(refused.problem)) from None
    mapping = dict(mapping)
    mapping.setdefault("header_row", wizard.detect_header(grid.cells))
    names = wizard.headers(grid.cells, int(mapping["header_row"]))
    remembered = import_mapping_of(institution)
    columns = mapping.get("columns")
    if isinstance(columns, dict):
        given = {importer._normalise_header(k): v for k, v in columns.items()}
        mapping["columns"] = wizard.suggest_columns(names, given | (remembered.columns if remembered else {}))
        mapping["columns"] = [
            given.get(importer._normalise_header(n), t) for n, t in zip(names, mapping["columns"], strict=True)
        ]
    elif not columns:
        mapping["columns"] = wizard.suggest_columns(names, remembered.columns if remembered else {})
    wizard.suggest_values(grid, mapping, wizard.Context.load(institution), remembered.values if remembered else {})
    if mapping.get("create_unknown"):
        mapping["departments"] = {w: c or "new" for w, c in mapping["departments"].items()}
    return mapping
