"""A filed version's PDF rendered once and kept (``documents/filed.py``): the kept bytes are a
fresh render of the snapshot; a download serves them at once, whatever the size; a missing or
altered file is rendered again from the snapshot alone, with an audit entry; access unchanged."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.urls import reverse

from risk_registry.documents import filed, rendering, tasks
from risk_registry.documents.models import ExportJob, FiledPdf
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.test_documents_export import filed_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def filed_dir(settings, tmp_path):
    settings.RISK_REGISTRY_FILED_DIR = str(tmp_path / "filed")


def fresh(version: RegisterVersion) -> bytes:
    buffer = io.BytesIO()
    rendering.render(buffer, document=rendering.document_for_version(version=version), fmt="pdf")
    return buffer.getvalue()


def refuse_to_render(monkeypatch):
    def render(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(filed, "render", render)


def test_the_kept_pdf_is_a_fresh_render_of_the_snapshot_and_is_kept_once(world, monkeypatch):
    version = filed_version(world)
    tasks.filed_pdf_keep(version.pk)
    kept = FiledPdf.objects.get(version=version, form="unit-register")
    data = filed.kept_path(version.pk, "unit-register").read_bytes()
    assert data == fresh(version)
    assert kept.sha256 == hashlib.sha256(data).hexdigest() and kept.size == len(data)
    refuse_to_render(monkeypatch)
    tasks.filed_pdf_keep(version.pk)  # a second delivery finds it kept
    assert filed.filed_pdf(version=version) == data
    assert FiledPdf.objects.count() == 1 and not AuditEntry.objects.filter(action="document.rerender").exists()
    tasks.filed_pdf_keep(version.pk + 1000)  # a version this database does not have: nothing to do


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_an_altered_or_missing_file_is_rendered_again_from_the_snapshot_and_audited(world, damage):
    version = filed_version(world)
    original = filed.filed_pdf(version=version)
    path = filed.kept_path(version.pk, "unit-register")
    if damage == "altered":
        path.write_bytes(original.replace(version.content_hash.encode(), b"0" * 64, 1) + b"%")
    else:
        path.unlink()
    world.a.risk_points.filter(pk=world.submitted.pk).update(description="之后改过的描述")  # never read
    assert filed.kept_pdf(version=version, form_code="unit-register") is None

    again = filed.filed_pdf(version=version, by=world.principal)
    assert again == original == path.read_bytes() == fresh(version)
    entry = AuditEntry.objects.get(action="document.rerender")
    assert entry.actor == world.principal and entry.target_id == version.register_id
    assert entry.changes["found"] == damage and entry.changes["form"] == "unit-register"
    assert entry.changes["recorded"] == entry.changes["rendered"] == hashlib.sha256(original).hexdigest()
    assert filed.kept_pdf(version=version, form_code="unit-register") == original


def test_a_download_serves_the_kept_bytes_at_once_whatever_the_size(world, login, monkeypatch):
    version = filed_version(world)
    data = filed.filed_pdf(version=version)
    monkeypatch.setitem(rendering.SYNC_LIMITS, "pdf", 0)  # as if the version were too long to render in a request
    refuse_to_render(monkeypatch)
    response = login(world.superior).post(
        reverse("documents_version_export", args=[version.pk]), {"format": "pdf", "form": "unit-register"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == data
    job = ExportJob.objects.get(owner=world.superior)
    assert job.state == ExportJob.State.DONE and job.sha256 == hashlib.sha256(data).hexdigest()


def test_a_long_version_not_kept_yet_is_rendered_by_the_job_and_kept(world, login, monkeypatch):
    version = filed_version(world)
    monkeypatch.setitem(rendering.SYNC_LIMITS, "pdf", 0)
    monkeypatch.setattr(tasks.export_job_run, "apply_async", lambda args, **options: None)
    response = login(world.superior).post(
        reverse("documents_version_export", args=[version.pk]), {"format": "pdf", "form": "unit-register"}
    )
    job = ExportJob.objects.get(owner=world.superior)
    assert response.status_code == 302 and job.state == ExportJob.State.PENDING
    assert not FiledPdf.objects.exists()
    from risk_registry.documents import services

    services.export_job_run(job.pk)
    job.refresh_from_db()
    kept = FiledPdf.objects.get(version=version)
    assert job.state == ExportJob.State.DONE and job.sha256 == kept.sha256


def test_an_outsider_gets_404_and_nothing_is_rendered_or_kept(world, login, monkeypatch):
    version = filed_version(world)
    refuse_to_render(monkeypatch)
    response = login(world.outsider).post(
        reverse("documents_version_export", args=[version.pk]), {"format": "pdf", "form": "unit-register"}
    )
    assert response.status_code == 404
    assert not FiledPdf.objects.exists() and not ExportJob.objects.exists()
