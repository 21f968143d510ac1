"""Issue 15 defect 9: var/exports is kept clean by a scheduled task (old finished exports and
unconfirmed uploads, never a file a live job needs), audited as a system action; the archive's
manifest time is in Asia/Shanghai and the archive says which document is authoritative."""

from __future__ import annotations

import json
import os
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from config.celery import app
from risk_registry.documents.archive import AUTHORITY_NOTE, MANIFEST, ArchiveNames
from risk_registry.documents.housekeeping import documents_housekeeping
from risk_registry.documents.models import ExportJob
from risk_registry.documents.rendering import export_dir
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import ActorKind, AuditEntry
from risk_registry.tests.test_documents_export import filed_version
from risk_registry.tests.test_documents_import import good_rows, upload_and_check, workbook_bytes

pytestmark = pytest.mark.django_db

DAY = 24 * 3600
State = ExportJob.State


@pytest.fixture
def exports(settings, tmp_path) -> Path:
    """A var/exports of the test's own (export_dir() follows BASE_DIR)."""
    settings.BASE_DIR = tmp_path
    return export_dir()


def aged(path: Path, seconds: float, data: bytes = b"x" * 100) -> Path:
    path.write_bytes(data)
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def job_file(world, exports: Path, state: str, age: float) -> tuple[ExportJob, Path]:
    job = ExportJob.objects.create(
        owner=world.discipline, kind="list", form="overview", file_format="xlsx", state=state
    )
    path = aged(exports / f"{job.token}.xlsx", age)
    job.file_path = str(path)
    job.save(update_fields=["file_path"])
    return job, path


def test_old_finished_exports_and_unconfirmed_uploads_go_live_and_young_files_stay(world, exports):
    old_done, old_done_path = job_file(world, exports, State.DONE, 8 * DAY)
    _old_failed, old_failed_path = job_file(world, exports, State.FAILED, 30 * DAY)
    young_done, young_done_path = job_file(world, exports, State.DONE, 2 * DAY)
    _running, running_path = job_file(world, exports, State.RUNNING, 9 * DAY)  # a live job: never
    _pending, pending_path = job_file(world, exports, State.PENDING, 9 * DAY)
    orphan = aged(exports / f"{uuid.uuid4()}.pdf", 8 * DAY)  # its job deleted long ago
    young_orphan = aged(exports / f"{uuid.uuid4()}.pdf", 1 * DAY)
    old_upload = aged(exports / f"import-{uuid.uuid4().hex}.xlsx", 25 * 3600)
    old_power_upload = aged(exports / f"power-import-{uuid.uuid4().hex}.xlsx", 3 * DAY)
    young_upload = aged(exports / f"import-{uuid.uuid4().hex}.xlsx", 3600)
    stranger = aged(exports / "notes.txt", 100 * DAY)  # not ours to judge
    part = aged(exports / f"{young_done.token}.abc.part", 100 * DAY)  # the sweep's business

    result = documents_housekeeping()

    assert (result.exports_removed, result.uploads_removed, result.kept_live) == (3, 2, 2)
    assert result.bytes_freed == 500
    gone = [old_done_path, old_failed_path, orphan, old_upload, old_power_upload]
    kept = [young_done_path, running_path, pending_path, young_orphan, young_upload, stranger, part]
    assert [p.exists() for p in gone] == [False] * len(gone)
    assert [p.exists() for p in kept] == [True] * len(kept)
    old_done.refresh_from_db()
    assert old_done.state == State.DONE and old_done.file_path == ""  # the job stays, without its file
    young_done.refresh_from_db()
    assert young_done.file_path == str(young_done_path)

    entry = AuditEntry.objects.get(action="documents.housekeeping")
    assert entry.actor is None and entry.actor_kind == ActorKind.SYSTEM
    assert entry.changes["exports_removed"] == 3 and entry.changes["uploads_removed"] == 2
    assert entry.changes["removed"] == 5
    assert "3" in entry.summary and "2" in entry.summary

    again = documents_housekeeping()  # nothing left to do: nothing removed, nothing audited
    assert again.removed == 0
    assert AuditEntry.objects.filter(action="documents.housekeeping").count() == 1


def test_the_ages_are_settings(world, exports, settings):
    settings.RISK_REGISTRY_EXPORT_KEEP_DAYS = 1
    settings.RISK_REGISTRY_UPLOAD_KEEP_HOURS = 2
    _job, export = job_file(world, exports, State.DONE, 1.5 * DAY)
    upload = aged(exports / f"import-{uuid.uuid4().hex}.xlsx", 3 * 3600)
    assert documents_housekeeping().removed == 2
    assert not export.exists() and not upload.exists()


def test_a_removed_export_answers_404_and_a_removed_upload_expires_cleanly(world, exports, login):
    job, _path = job_file(world, exports, State.DONE, 8 * DAY)
    client = login(world.discipline)
    assert client.get(reverse("documents_job_download", args=[job.token])).status_code == 200
    assert 'data-testid="job-download"' in client.get(reverse("documents_job", args=[job.token])).content.decode()
    page, token = upload_and_check(client, workbook_bytes(good_rows()))
    check = ExportJob.objects.get(token=token)
    waiting = exports / f"import-{check.params['upload']}.xlsx"
    assert 'data-testid="preview"' in page and waiting.exists()
    os.utime(waiting, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    before = RiskPoint.objects.count()

    documents_housekeeping()

    assert client.get(reverse("documents_job_download", args=[job.token])).status_code == 404
    assert 'data-testid="job-file-gone"' in client.get(reverse("documents_job", args=[job.token])).content.decode()
    response = client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token}, follow=True)
    assert response.status_code == 200 and "请重新上传" in response.content.decode()
    assert RiskPoint.objects.count() == before  # nothing imported from a file that is gone


def test_beat_schedules_the_housekeeping_task_every_hour():
    entry = app.conf.beat_schedule["documents-housekeeping"]
    assert entry["task"] == "risk_registry.documents.tasks.documents_housekeeping"
    assert float(entry["schedule"]) <= 3600
    app.loader.import_default_modules()  # what a worker does: the task must exist under that name
    assert entry["task"] in app.tasks


def test_the_archive_names_the_filed_version_authoritative_with_later_changes(world, tmp_path):
    version = filed_version(world)
    point = RiskPoint.objects.get(pk=version.snapshot["points"][0]["id"])
    point.description = "备案后改过的描述"
    point.save()
    call_command("export_archive", institution="bureau-a", year=2026, out=str(tmp_path))
    names = ArchiveNames(world.a, 2026)
    with zipfile.ZipFile(tmp_path / names.zip_name) as archive:
        manifest = json.loads(archive.read(names.member(MANIFEST)))
        note = archive.read(names.member(AUTHORITY_NOTE)).decode()
    assert manifest["generated_at"].endswith("+08:00")  # Asia/Shanghai, not UTC
    authority = manifest["authoritative"]
    assert authority["version"] == 1 and authority["filed_at"].endswith("+08:00")
    assert authority["documents"] == [names.member(names.filed(1, "pdf")), names.member(names.filed(1, "json"))]
    changed = authority["changes_after_filing"]["changed"]
    assert changed == [{"id": point.pk, "description": "备案后改过的描述", "fields": ["description"]}]
    assert "第 1 版备案文本" in authority["statement"] and "为准" in authority["statement"]
    assert "备案后修改的风险点（1 个）" in note and "备案后改过的描述（风险点描述）" in note
    assert names.member(AUTHORITY_NOTE) in {item["name"] for item in manifest["files"]}


def test_an_archive_without_a_filed_version_claims_no_authority(world, tmp_path):
    call_command("export_archive", institution="bureau-a", year=2026, out=str(tmp_path))
    names = ArchiveNames(world.a, 2026)
    with zipfile.ZipFile(tmp_path / names.zip_name) as archive:
        manifest = json.loads(archive.read(names.member(MANIFEST)))
        assert names.member(AUTHORITY_NOTE) not in archive.namelist()
    assert manifest["authoritative"] is None
