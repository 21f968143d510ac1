"""The register's Excel import as background jobs: the check (read, check every row, preview) and
the confirmed write run in a worker, never in a web request, and the page polls their progress.

They run on the export jobs' machinery (``ExportJob`` rows of kind ``import-check`` and
``import-write``, ``services.export_job_claim``, the heartbeat, the sweep): a worker killed or a
broker down leaves a job that the sweep sends again or fails with a message, never one that hangs.
The write is ``services.register_import``: one transaction, so a register is never half-written;
its rows are checked again inside it. The uploaded file waits in ``var/exports`` as
``import-<token>.xlsx`` (removed by the housekeeping after ``RISK_REGISTRY_UPLOAD_KEEP_HOURS``).
A check's ``result``: ``ok``, ``count``, ``problems`` (at most MAX_PROBLEMS), ``problem_count``,
``preview`` (the first PREVIEW_ROWS points), ``sheet``, ``sheets``, ``confirmed`` (the write job's
token once confirmed: a check is confirmed once). A write's: ``ok``, ``created``, ``problems``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from risk_registry import access
from risk_registry.documents import importer, selectors, services
from risk_registry.documents.models import ExportJob
from risk_registry.documents.rendering import export_dir
from risk_registry.organisation.models import Institution

State = ExportJob.State
PREVIEW_ROWS = 100
MAX_PROBLEMS = 500  # shown on the page; the count says how many there were
PROGRESS_SECONDS = 1.0  # how often a running import writes its progress for the page that polls


def upload_path(token: str) -> Path:
    """Where an upload waits; 404 for a token that is not one of ours (never a path outside)."""
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise Http404
    return export_dir() / f"import-{token}.xlsx"


def expired() -> ValidationError:
    return ValidationError(_("This import has expired: upload the file again."))


def import_check_start(
    *, user, institution: Institution, year: int, data: bytes, filename: str, sheet: str = ""
) -> ExportJob:
    """Keep the upload and start its check in a worker (nothing of the register is written)."""
    access.require(selectors.can_import_into(user, institution))
    token = uuid.uuid4().hex
    upload_path(token).write_bytes(data)
    job = ExportJob(
        owner=user,
        institution=institution,
        kind=ExportJob.IMPORT_CHECK,
        form="overview",
        file_format="xlsx",
        filename=filename[:200],
        params={"upload": token, "year": year, "sheet": sheet, "language": translation.get_language()},
        queued_at=timezone.now(),
    )
    with transaction.atomic():
        job.save(force_insert=True)
        services.job_enqueue(job)
    return job


def import_write_start(*, user, check: ExportJob) -> ExportJob:
    """Confirm a clean check: start the write in a worker. A check is confirmed once (its row is
    locked while the write job is recorded), and only while its file still waits."""
    institution = check.institution
    if institution is None:  # import_check_start always names one
        raise expired()
    access.require(selectors.can_import_into(user, institution))
    with transaction.atomic():
        locked = ExportJob.objects.select_for_update().get(pk=check.pk)
        result = locked.result
        waiting = upload_path(locked.params.get("upload", "")).is_file()
        if locked.kind != ExportJob.IMPORT_CHECK or locked.state != State.DONE or not result.get("ok"):
            raise expired()
        if result.get("confirmed") or not waiting:
            raise expired()
        job = ExportJob(
            owner=user,
            institution=institution,
            kind=ExportJob.IMPORT_WRITE,
            form="overview",
            file_format="xlsx",
            filename=locked.filename,
            params={**locked.params, "check": str(locked.token), "language": translation.get_language()},
            total=result.get("count", 0),
            queued_at=timezone.now(),
        )
        job.save(force_insert=True)
        locked.result = {**result, "confirmed": str(job.token)}
        locked.save(update_fields=["result"])
        services.job_enqueue(job)
    return job


def import_job_run(job_id: int) -> ExportJob | None:
    """Run one step of an import (the task's body). Safe to run twice: a finished job, or one a live
    process runs, is left alone (the claim); an error puts the job back to waiting."""
    job = services.export_job_claim(job_id)
    if job is None:
        return None
    rows = ExportJob.objects.filter(pk=job.pk, state=State.RUNNING, holder=job.holder)
    beat = services.JobHeartbeat(job, interval=PROGRESS_SECONDS)
    beat.start()
    try:
        with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
            result, done = (
                _check(job, beat.progress) if job.kind == ExportJob.IMPORT_CHECK else _write(job, beat.progress)
            )
    except BaseException:
        beat.stop()
        rows.update(state=State.PENDING, holder="")
        raise
    beat.stop()
    finished = rows.update(
        state=State.DONE,
        result=result,
        done=done,
        total=max(done, job.total, beat.counts[1] if beat.counts else 0),
        finished_at=timezone.now(),
        error="",
    )
    if not finished:
        return None
    job.refresh_from_db()
    return job


def _problems(problems: list[importer.Problem]) -> list[dict]:
    return [asdict(problem) for problem in problems[:MAX_PROBLEMS]]


def _read_upload(job: ExportJob) -> bytes | None:
    path = upload_path(job.params.get("upload", ""))
    return path.read_bytes() if path.is_file() else None


def _expired_result() -> dict:
    return {"ok": False, "problems": [{"row": None, "column": "", "message": str(expired().message), "expected": ""}]}


def _arguments(job: ExportJob, data: bytes, progress) -> dict:
    """What the check and the write are called with: the job's owner, institution, year and sheet."""
    return {
        "by": job.owner,
        "institution": job.institution,
        "year": int(job.params["year"]),
        "data": data,
        "sheet": job.params.get("sheet", ""),
        "progress": progress,
    }


def _check(job: ExportJob, progress) -> tuple[dict, int]:
    data = _read_upload(job)
    if data is None or job.institution is None:
        return _expired_result(), 0
    outcome = services.register_import_check(**_arguments(job, data, progress))
    if not outcome.ok:
        upload_path(job.params["upload"]).unlink(missing_ok=True)
    preview = [
        {
            "row": item.row,
            "department": item.department.name,
            "position": item.position.title if item.position else "",
            "description": item.description,
            "level": item.level.name,
            "controls": len(item.controls),
        }
        for item in outcome.planned[:PREVIEW_ROWS]
    ]
    result = {
        "ok": outcome.ok,
        "count": len(outcome.planned),
        "problems": _problems(outcome.problems),
        "problem_count": len(outcome.problems),
        "preview": preview,
        "sheet": outcome.sheet,
        "sheets": [{"name": info.name, "visible": info.visible} for info in outcome.sheets],
    }
    return result, len(outcome.planned)


def _write(job: ExportJob, progress) -> tuple[dict, int]:
    data = _read_upload(job)
    if data is None or job.institution is None:
        return _expired_result(), 0
    outcome = services.register_import(**_arguments(job, data, progress), filename=job.filename)
    upload_path(job.params["upload"]).unlink(missing_ok=True)
    result = {
        "ok": outcome.ok,
        "created": outcome.created,
        "problems": _problems(outcome.problems),
        "problem_count": len(outcome.problems),
    }
    return result, outcome.created
