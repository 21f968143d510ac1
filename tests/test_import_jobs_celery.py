"""The import as background jobs with a REAL worker on Redis and the pytest PostgreSQL database
(issue 15 defect 2): upload → the check runs in the worker → the page shows the progress, then the
preview → confirm → the write runs in the worker → the points are in the register."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from risk_registry.documents import tasks
from risk_registry.documents.models import ExportJob
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.test_documents_import import good_rows, workbook_bytes
from tests.test_celery_integration import Worker, own_queue, purge_and_delete, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own: the import task is sent there, and only the test's worker reads it."""
    name = own_queue(monkeypatch, tasks.import_job_run.name, "test-imports")
    yield name
    purge_and_delete(name)


def finished(token: str) -> bool:
    return ExportJob.objects.filter(token=token, state__in=[ExportJob.State.DONE, ExportJob.State.FAILED]).exists()


def test_upload_progress_preview_confirm_and_the_points_are_written_by_a_real_worker(world, login, queue, tmp_path):
    client = login(world.discipline)
    worker = Worker(queue, tmp_path / "worker.log")
    try:
        wait_for(lambda: " ready." in worker.log(), "ready worker", worker=worker)
        upload = io.BytesIO(workbook_bytes(good_rows()))
        upload.name = "登记表.xlsx"
        response = client.post(reverse("documents_import", args=["bureau-a"]), {"file": upload, "year": "2026"})
        assert response.status_code == 302
        page_url = response["Location"]
        check = page_url.rstrip("/").rsplit("/", 1)[1]
        first = client.get(page_url).content.decode()
        assert 'data-testid="import-status"' in first  # the page answers at once, the worker checks
        wait_for(lambda: finished(check), "the check", worker=worker)
        job = ExportJob.objects.get(token=check)
        assert job.state == ExportJob.State.DONE and job.done == job.total == 3, job.error
        page = client.get(page_url, HTTP_HX_REQUEST="true").content.decode()
        assert 'data-testid="preview"' in page and "受理材料时索要好处" in page
        assert "hx-get" not in page  # a finished job stops polling
        before = RiskPoint.objects.filter(institution=world.a).count()
        response = client.post(reverse("documents_import_confirm", args=["bureau-a"]), {"job": check})
        write = response["Location"].rstrip("/").rsplit("/", 1)[1]
        wait_for(lambda: finished(write), "the write", worker=worker)
        job = ExportJob.objects.get(token=write)
        assert job.state == ExportJob.State.DONE and job.result["created"] == 3 and job.done == 3, job.error
        assert RiskPoint.objects.filter(institution=world.a).count() == before + 3
        assert AuditEntry.objects.filter(action="document.import", institution=world.a).count() == 1
        page = client.get(response["Location"]).content.decode()
        assert 'data-testid="imported"' in page and re.search(r"已导入 3 个风险点", page)
    finally:
        worker.stop()
