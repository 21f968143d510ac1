"""Services of the documents: render a form, start and run exports, import a register.

Views, commands and the Celery task call these; each export writes an ``ExportJob`` row and an
audit entry (who, what, when), each import one audit entry with the count.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.queue import enqueue_on_commit
from controls.models import Control
from risk_registry import access
from risk_registry.documents import importer, pdf, selectors
from risk_registry.documents.archive import write_archive
from risk_registry.documents.definitions import FORMATS, FORMS
from risk_registry.documents.models import ExportJob
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
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.models import Institution
from risk_registry.organisation.services import audit_record

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
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def _resolve(job: ExportJob) -> tuple[Document | None, Institution | None]:
    """The document a job asks for, as the job's owner may see it now."""
    user = job.owner
    if job.kind == "version":
        version = access.object_or_404(
            access.versions_visible_to(user).select_related("register__institution", "signed_by"),
            pk=job.params.get("version"),
        )
        return document_for_version(version=version, form_code=job.form), version.register.institution
    points, institution, year = selectors.points_for_export(user=user, params=job.params)
    return document_for_points(points=points, form_code=job.form, institution=institution, year=year), institution


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
    document, institution = _resolve(job)
    job.institution = institution
    job.total = document.total
    synchronous = document.total <= SYNC_LIMITS[fmt]
    if synchronous:
        buffer = io.BytesIO()
        written = render(buffer, document=document, fmt=fmt)
        data = buffer.getvalue()
        job.state, job.done, job.size = State.DONE, written, len(data)
        job.sha256 = hashlib.sha256(data).hexdigest()
        job.filename = filename_for(document, fmt)
        job.finished_at = timezone.now()
    elif fmt == "pdf" and document.total > pdf.PDF_MAX_POINTS:
        raise pdf.DocumentUnavailable(
            _("A PDF is limited to %(limit)d risk points (this one has %(count)d): export Excel instead.")
            % {"limit": pdf.PDF_MAX_POINTS, "count": document.total}
        )
    with transaction.atomic():
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
    enqueue_on_commit(EXPORT_TASK, job.pk)


def export_job_run(job_id: int) -> ExportJob | None:
    """Run a background export. Safe to run twice: a finished job is left alone; the file is
    written under a temporary name and renamed, so a second run replaces it whole."""
    claimed = ExportJob.objects.filter(pk=job_id, state__in=[State.PENDING, State.RUNNING]).update(state=State.RUNNING)
    if not claimed:
        return None  # done or failed already (or deleted)
    job = ExportJob.objects.select_related("owner", "institution").get(pk=job_id)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk, state=State.RUNNING).update(done=done)

    directory = export_dir()
    final = directory / f"{job.token}.{job.file_format}"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f"{job.token}.", suffix=".part")
    os.close(handle)
    try:
        if job.kind == "archive":
            institution = job.institution
            year = int(job.params["year"][0])
            points, _institution, _year = selectors.points_for_export(user=job.owner, params=job.params)
            versions = access.versions_visible_to(job.owner).filter(
                register__institution=institution, register__year=year
            )
            write_archive(
                Path(temporary), institution=institution, year=year, points=points, versions=versions, progress=progress
            )
            filename, written = f"{institution.name}-{year}-档案.zip", job.total
        else:
            document, _institution = _resolve(job)
            written = render(temporary, document=document, fmt=job.file_format, progress=progress)
            filename = filename_for(document, job.file_format)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    ExportJob.objects.filter(pk=job.pk, state=State.RUNNING).update(
        state=State.DONE,
        done=written,
        file_path=str(final),
        filename=filename,
        size=final.stat().st_size,
        sha256=digest,
        finished_at=timezone.now(),
        error="",
    )
    job.refresh_from_db()
    _notify(job)
    return job


def export_job_fail(job_id: int, error: str) -> None:
    """Record that a job failed for good (the task re-raises the error after this)."""
    ExportJob.objects.filter(pk=job_id).exclude(state=State.DONE).update(
        state=State.FAILED, error=error[:2000], finished_at=timezone.now()
    )


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
    """``manage.py export_archive``: the register without drafts and every filed version."""
    pdf.cjk_font()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{institution.code}-{year}-archive.zip"
    versions = RegisterVersion.objects.filter(register__institution=institution, register__year=year).select_related(
        "register__institution", "signed_by"
    )
    points = selectors.register_points_for_filing(institution=institution, year=year)
    manifest = write_archive(path, institution=institution, year=year, points=points, versions=versions)
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

    @property
    def ok(self) -> bool:
        return not self.problems


def register_import_check(*, by, institution: Institution, year: int, data: bytes) -> ImportResult:
    """Read and check a file; write nothing. ``by`` None is the command line (an operator)."""
    if by is not None:
        access.require(selectors.can_import_into(by, institution))
    try:
        rows = importer.read_rows(data)
    except importer.ImportRefused as refused:
        return ImportResult(problems=[refused.problem])
    planned, problems = importer.check_rows(rows, institution=institution, year=year)
    return ImportResult(planned=planned, problems=problems)


@transaction.atomic
def register_import(*, by, institution: Institution, year: int, data: bytes, filename: str = "") -> ImportResult:
    """Import a whole file or nothing. The institution row is locked so that two imports of the
    same file cannot both pass the duplicate check; the file is checked again here, inside the
    transaction, whatever a preview said earlier. Imported points enter as *submitted* (see
    docs/documents.md): the office's paper register already went through self-report."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    result = register_import_check(by=by, institution=institution, year=year, data=data)
    if not result.ok:
        return result
    points = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=institution,
            department=item.department,
            position=item.position,
            power_item=item.power_item,
            process_step=item.process_step,
            year=year,
            risk_type=item.risk_type,
            found_by=item.found_by,
            description=item.description,
            manifestation=item.manifestation,
            likelihood=item.likelihood,
            severity=item.severity,
            level=item.level,
            state=RiskPointState.SUBMITTED,
            created_by=by,
        )
        for item in result.planned
    )
    Control.objects.bulk_create(
        Control(risk_point=point, line=line, measure=measure, owner=item.owner)
        for point, item in zip(points, result.planned, strict=True)
        for line, measure in item.controls
    )
    result.created = len(points)
    audit_record(
        actor=by,
        action="document.import",
        target=institution,
        institution=institution,
        summary=_("%(count)d risk points imported from %(file)s") % {"count": len(points), "file": filename or "-"},
        changes={
            "year": year,
            "points": len(points),
            "file": filename,
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
