"""The import's check and write as background jobs (issue 15 defect 2): the request only keeps the
file and records a job; progress; a bomb refused in the worker; the write all-or-nothing; a dead
worker's job swept and failed with a message; the job visible to its uploader only."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from risk_registry.documents import import_jobs, selectors, services
from risk_registry.documents.bombs import build_bomb
from risk_registry.documents.models import ExportJob
from risk_registry.organisation.copy import Copier
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.test_documents_import import (
    confirm,
    good_rows,
    run_import_jobs,
    snapshot_db,
    upload_and_check,
    workbook_bytes,
)

pytestmark = pytest.mark.django_db
State = ExportJob.State


def test_the_upload_request_only_keeps_the_file_and_records_a_job(world, login):
    client = login(world.discipline)
    before = snapshot_db()
    upload = build_bomb("rows", 50_000)  # the request does not read it: the worker will
    file = io.BytesIO(upload)
    file.name = "bomb.xlsx"
    response = client.post(reverse("documents_import", args=["bureau-a"]), {"file": file, "year": "2026"})
    assert response.status_code == 302
    job = ExportJob.objects.get(kind=ExportJob.IMPORT_CHECK)
    assert job.state == State.PENDING and job.owner == world.discipline and job.institution == world.a
    assert import_jobs.upload_path(job.params["upload"]).read_bytes() == upload
    assert snapshot_db() == before  # no point, no control, no audit entry
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-status"' in page and "hx-get" in page and "正在读取文件" in page


def test_a_bomb_is_refused_by_the_worker_with_a_chinese_message_and_its_file_removed(world, login):
    client = login(world.discipline)
    page, token = upload_and_check(client, build_bomb("rows", 50_000), name="bomb.xlsx")
    assert 'data-testid="problems"' in page and "工作表超过 20,010 行" in page
    assert 'data-testid="confirm"' not in page
    job = ExportJob.objects.get(token=token)
    assert job.state == State.DONE and not job.result["ok"]
    assert not import_jobs.upload_path(job.params["upload"]).exists()


def test_the_check_reports_its_progress(world, login, monkeypatch):
    seen = []
    real = services.JobHeartbeat.progress

    def record(self, done, total):
        seen.append((done, total))
        real(self, done, total)

    monkeypatch.setattr(services.JobHeartbeat, "progress", record)
    monkeypatch.setattr("risk_registry.documents.importer.CHECK_PROGRESS_ROWS", 1)
    _page, token = upload_and_check(login(world.discipline), workbook_bytes(good_rows()))
    assert (1, 3) in seen and (3, 3) in seen
    job = ExportJob.objects.get(token=token)
    assert (job.done, job.total) == (3, 3) and job.percent == 100


def test_the_write_is_all_or_nothing(world, login, monkeypatch):
    """The write fails at its second batch's controls, after that batch's points were copied: no
    point of either batch stays."""
    client = login(world.discipline)
    _page, token = upload_and_check(client, workbook_bytes(good_rows()))
    monkeypatch.setattr(services, "IMPORT_BATCH", 2)
    real = Copier.write
    calls = []

    def failing(copier, rows):
        calls.append(copier.table)
        if len(calls) == 4:  # points, controls of the first batch; points, then this
            raise RuntimeError("the database went away")
        return real(copier, rows)

    monkeypatch.setattr(Copier, "write", failing)
    before = snapshot_db()
    client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token})
    write = ExportJob.objects.get(kind=ExportJob.IMPORT_WRITE)
    with pytest.raises(RuntimeError):
        import_jobs.import_job_run(write.pk)
    write.refresh_from_db()
    assert write.state == State.PENDING and write.holder == ""  # the task retries, then fails it
    after = snapshot_db()
    assert after[0] == before[0] and after[1] == before[1]  # no point and no control written
    assert not AuditEntry.objects.filter(action="document.import").exists()


def test_a_job_whose_worker_died_is_sent_again_then_failed_with_a_message(world, login):
    client = login(world.discipline)
    _page, token = upload_and_check(client, workbook_bytes(good_rows()))
    client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token})
    write = ExportJob.objects.get(kind=ExportJob.IMPORT_WRITE)
    stale = timezone.now() - timedelta(hours=1)
    ExportJob.objects.filter(pk=write.pk).update(
        state=State.RUNNING, holder="elsewhere:1", heartbeat_at=stale, attempts=1
    )
    services.export_jobs_sweep()
    write.refresh_from_db()
    assert write.state == State.PENDING  # sent again (to the import task: services.task_of)
    assert services.task_of(write.kind) == services.IMPORT_TASK
    ExportJob.objects.filter(pk=write.pk).update(
        state=State.RUNNING, holder="elsewhere:1", heartbeat_at=stale, attempts=3
    )
    services.export_jobs_sweep()
    write.refresh_from_db()
    assert write.state == State.FAILED and write.error
    page = client.get(reverse("documents_import_job", args=["bureau-a", write.token])).content.decode()
    assert 'data-testid="import-failed"' in page and "没有导入任何内容" in page
    assert "hx-get" not in page


def test_a_check_is_confirmed_once(world, login):
    client = login(world.discipline)
    _page, token = upload_and_check(client, workbook_bytes(good_rows()))
    confirm(client, token)
    again = client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token}, follow=True)
    assert "本次导入已过期" in again.content.decode()
    assert ExportJob.objects.filter(kind=ExportJob.IMPORT_WRITE).count() == 1


def test_a_problem_check_cannot_be_confirmed(world, login):
    client = login(world.discipline)
    bad = good_rows()
    bad[0][1] = "不存在科"
    _page, token = upload_and_check(client, workbook_bytes(bad))
    before = snapshot_db()
    client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token})
    assert not ExportJob.objects.filter(kind=ExportJob.IMPORT_WRITE).exists()
    assert snapshot_db() == before


def test_only_the_uploader_sees_the_job(world, login):
    _page, token = upload_and_check(login(world.discipline), workbook_bytes(good_rows()))
    url = reverse("documents_import_job", args=["bureau-a", token])
    for persona in ("holder", "head", "leader", "outsider"):
        assert login(getattr(world, persona)).get(url).status_code in (403, 404)
    other_office = ExportJob.objects.get(token=token)
    other_office.owner = world.holder  # a job of someone else's, in the same institution
    other_office.save(update_fields=["owner"])
    assert login(world.discipline).get(url).status_code == 404
    response = login(world.discipline).post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": token})
    assert response.status_code == 404
    assert (
        login(world.discipline).post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": "x"}).status_code
        == 404
    )


def test_import_jobs_are_not_listed_among_the_exports(world, login):
    upload_and_check(login(world.discipline), workbook_bytes(good_rows()))
    assert not selectors.export_jobs_of(world.discipline).filter(kind__in=ExportJob.IMPORT_KINDS).exists()
    run_import_jobs()


def test_the_job_page_costs_the_same_queries_whatever_the_rows(world, login):
    """The preview is the job's stored result: no query per row, however many rows were checked."""
    client = login(world.discipline)
    _page, token = upload_and_check(client, workbook_bytes(good_rows()))
    url = reverse("documents_import_job", args=["bureau-a", token])
    job = ExportJob.objects.get(token=token)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small = queries()
    many = {**job.result["preview"][0]}
    job.result = {**job.result, "count": 5000, "preview": [many] * import_jobs.PREVIEW_ROWS}
    job.save(update_fields=["result"])
    assert queries() == small
