"""Housekeeping of ``var/exports``: finished exports and unconfirmed uploads do not pile up.

Beat runs ``documents_housekeeping`` every hour (``config/settings/base.py``). It removes

- the file of a finished export job (done or failed) older than ``RISK_REGISTRY_EXPORT_KEEP_DAYS``
  (7 days by default); the job stays, without its file (its download answers 404, and the list
  page can simply be exported again). The file of a job still waiting or running is never
  touched, whatever its age, and neither is a file whose job is unknown but young;
- an unconfirmed upload of the import pages (``import-<token>.xlsx``,
  ``power-import-<token>.xlsx``) older than ``RISK_REGISTRY_UPLOAD_KEEP_HOURS`` (24 by default):
  the confirm page then says the import has expired and asks for the file again;
- nothing else: a file whose name it does not recognise stays (``.part`` files are the sweep's).

It also bounds the laid-out parts of long PDFs (``part_cache.trim``: unused for
``RISK_REGISTRY_PDF_PARTS_KEEP_DAYS``, then the least recently used beyond
``RISK_REGISTRY_PDF_PARTS_MAX_BYTES``), which can all be laid out again.

Filed versions never live here: they are frozen JSON in the database and rendered on demand, so no
file here is ever the only copy of a filed document. Ages are the files' modification times. Each
run that removed something writes one audit entry (a system action, no person) with the counts.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from risk_registry.documents import part_cache
from risk_registry.documents.models import ExportJob
from risk_registry.documents.rendering import export_dir
from risk_registry.organisation.models import ActorKind, AuditAction, SchedulerHeartbeat
from risk_registry.organisation.services import audit_record

HOUSEKEEPING_NAME = "documents-housekeeping"
JOB_FILE = re.compile(r"(?P<token>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[a-z]+")
UPLOAD_FILE = re.compile(r"(?:power-)?import-[0-9a-f]{32}\.xlsx")
LIVE_STATES = (ExportJob.State.PENDING, ExportJob.State.RUNNING)


@dataclass
class HousekeepingResult:
    exports_removed: int = 0
    uploads_removed: int = 0
    parts_removed: int = 0  # laid-out PDF parts (part_cache)
    bytes_freed: int = 0
    kept_live: int = 0  # export files of unfinished jobs, old enough but kept

    @property
    def removed(self) -> int:
        return self.exports_removed + self.uploads_removed + self.parts_removed


def _age_cutoffs(now) -> tuple[float, float]:
    exports = now - timedelta(days=settings.RISK_REGISTRY_EXPORT_KEEP_DAYS)
    uploads = now - timedelta(hours=settings.RISK_REGISTRY_UPLOAD_KEEP_HOURS)
    return exports.timestamp(), uploads.timestamp()


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile (a confirm, another run)
        return None


def _remove(path: Path, result: HousekeepingResult) -> bool:
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return False
    result.bytes_freed += size
    return True


def documents_housekeeping(now=None) -> HousekeepingResult:
    """Remove the old files described in the module's docstring; return the counts."""
    now = now or timezone.now()
    export_cutoff, upload_cutoff = _age_cutoffs(now)
    result = HousekeepingResult()
    old_exports: dict[uuid.UUID, Path] = {}
    for path in export_dir().iterdir():
        mtime = _mtime(path) if path.is_file() else None
        if mtime is None:
            continue
        if UPLOAD_FILE.fullmatch(path.name):
            if mtime < upload_cutoff and _remove(path, result):
                result.uploads_removed += 1
        elif (match := JOB_FILE.fullmatch(path.name)) and mtime < export_cutoff:
            old_exports[uuid.UUID(match["token"])] = path
    if old_exports:
        _remove_exports(old_exports, result)
    parts, freed = part_cache.trim(now=now.timestamp())
    result.parts_removed, result.bytes_freed = parts, result.bytes_freed + freed
    if result.removed:
        _audit(result, now)
    return result


def _remove_exports(old_exports: dict[uuid.UUID, Path], result: HousekeepingResult) -> None:
    """Remove the old files of finished (or unknown) jobs; a waiting or running job keeps its file.
    The jobs are locked, so that a job being claimed again (the sweep) cannot lose its file."""
    with transaction.atomic():
        jobs = {
            job.token: job
            for job in ExportJob.objects.select_for_update()
            .filter(token__in=list(old_exports))
            .only("pk", "token", "state", "file_path")
        }
        finished: list[int] = []
        for token, path in old_exports.items():
            job = jobs.get(token)
            if job is not None and job.state in LIVE_STATES:
                result.kept_live += 1
                continue
            if _remove(path, result):
                result.exports_removed += 1
                if job is not None:
                    finished.append(job.pk)
        ExportJob.objects.filter(pk__in=finished).update(file_path="")


def _audit(result: HousekeepingResult, now) -> None:
    """One entry per run that removed something: a system action, counted, on the task's
    heartbeat row (there is no other object a folder-wide clean-up acts on)."""
    with translation.override(settings.LANGUAGE_CODE):
        summary = _(
            "%(exports)d exported files, %(uploads)d unconfirmed uploads and %(parts)d laid-out PDF parts removed"
        ) % {"exports": result.exports_removed, "uploads": result.uploads_removed, "parts": result.parts_removed}
    with transaction.atomic():
        row, _created = SchedulerHeartbeat.objects.get_or_create(
            name=HOUSEKEEPING_NAME, defaults={"last_run_at": now, "runs": 0}
        )
        SchedulerHeartbeat.objects.filter(pk=row.pk).update(last_run_at=now)
        audit_record(
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            action=AuditAction.DOCUMENTS_HOUSEKEEPING,
            target=row,
            summary=summary,
            changes={**asdict(result), "removed": result.removed},
        )
