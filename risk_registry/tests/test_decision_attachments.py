"""Issue 9: a decision may carry attachments (the meeting's minutes): checked by their content,
limited in size and number, stored outside the web root, given only to those who may see the
decision under their Chinese name by a GET that writes nothing, and frozen with the decision."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from risk_registry.models import Decision, DecisionAttachment, Register, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow.attachments import sniff

REGISTER = "/registers/bureau-a/2026"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.exe", "MZ")
    return buffer.getvalue()


@pytest.fixture
def folder(settings, tmp_path) -> Path:
    settings.RISK_REGISTRY_ATTACHMENTS_DIR = str(tmp_path / "attachments")
    return tmp_path / "attachments"


def _appraisal(world, *files) -> dict:
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DEFINED)
    return {
        "kind": "appraisal",
        "meeting": "2026年民主评议会",
        "meeting_kind": "appraisal",
        "held_on": timezone.localdate().isoformat(),
        "participants": "全体干部职工",
        "present": 20,
        "votes_for": 18,
        "votes_against": 1,
        "votes_abstaining": 1,
        "decision": "同意所列风险等级",
        "points": [world.submitted.pk],
        "attachments": list(files),
    }


@pytest.mark.parametrize(
    ("content", "kind"),
    [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpg"), (_docx(), "docx"), (b"MZ\x90\x00", None), (_zip(), None), (b"", None)],
)
def test_the_kind_is_read_from_the_content(content, kind):
    assert sniff(content) == kind


def test_minutes_attached_to_a_decision_are_stored_outside_the_web_root(world, client, folder):
    client.force_login(world.discipline)
    upload = SimpleUploadedFile("民主评议会议纪要.pdf", PDF, content_type="application/pdf")
    assert client.post(f"{REGISTER}/decide/", _appraisal(world, upload)).status_code == 302
    attachment = DecisionAttachment.objects.get()
    assert attachment.name == "民主评议会议纪要.pdf"
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (folder / attachment.stored_as).read_bytes() == PDF
    assert "民主评议会议纪要" not in attachment.stored_as  # a random name on disk
    entry = AuditEntry.objects.get(action="register.appraise")
    assert entry.changes["attachments"] == ["民主评议会议纪要.pdf"]


def test_the_extension_follows_the_content_not_the_name(world, client, folder):
    client.force_login(world.discipline)
    upload = SimpleUploadedFile("扫描件.pdf", PNG, content_type="application/pdf")
    client.post(f"{REGISTER}/decide/", _appraisal(world, upload))
    attachment = DecisionAttachment.objects.get()
    assert (attachment.name, attachment.content_type) == ("扫描件.png", "image/png")


@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("纪要.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"),
        SimpleUploadedFile("纪要.docx", _zip(), content_type="application/zip"),
    ],
)
def test_a_file_of_another_kind_refuses_the_whole_record(world, client, folder, upload):
    client.force_login(world.discipline)
    response = client.post(f"{REGISTER}/decide/", _appraisal(world, upload))
    assert response.status_code == 200
    assert "不是 PDF" in response.content.decode()
    assert not Decision.objects.exists() and not DecisionAttachment.objects.exists()
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.DEFINED
    assert not folder.exists() or not any(folder.iterdir())


def test_size_and_number_are_limited(world, client, folder, settings):
    settings.RISK_REGISTRY_ATTACHMENT_MAX_BYTES = 1024 * 1024
    client.force_login(world.discipline)
    big = SimpleUploadedFile("纪要.pdf", PDF + b"0" * (1024 * 1024), content_type="application/pdf")
    assert "大于 1 MB" in client.post(f"{REGISTER}/decide/", _appraisal(world, big)).content.decode()
    settings.RISK_REGISTRY_ATTACHMENTS_PER_DECISION = 2
    many = [SimpleUploadedFile(f"纪要{i}.pdf", PDF) for i in range(3)]
    assert "最多" in client.post(f"{REGISTER}/decide/", _appraisal(world, *many)).content.decode()
    assert not Decision.objects.exists()


def test_the_download_is_for_those_who_see_the_decision_and_writes_nothing(world, client, folder):
    client.force_login(world.discipline)
    client.post(f"{REGISTER}/decide/", _appraisal(world, SimpleUploadedFile("会议纪要.pdf", PDF)))
    attachment = DecisionAttachment.objects.get()
    entries = AuditEntry.objects.count()
    client.force_login(world.holder)
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf" in response["Content-Disposition"]
    assert AuditEntry.objects.count() == entries
    client.force_login(world.outsider)
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 404


def test_an_attachment_is_frozen_with_its_decision(world, client, folder):
    client.force_login(world.discipline)
    client.post(f"{REGISTER}/decide/", _appraisal(world, SimpleUploadedFile("纪要.pdf", PDF)))
    attachment = DecisionAttachment.objects.get()
    attachment.name = "改过的.pdf"
    with pytest.raises(ValueError, match="frozen"):
        attachment.save()


def test_the_approval_takes_its_minutes_at_the_confirmation_step(world, client, folder):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DEFINED)
    client.force_login(world.leader)
    record = {
        "kind": "approval",
        "meeting": "党组会",
        "meeting_kind": "party_group",
        "held_on": timezone.localdate().isoformat(),
        "participants": "周局长、孙副局长",
        "present": 2,
        "votes_for": 2,
        "votes_against": 0,
        "votes_abstaining": 0,
        "decision": "同意",
        "points": [world.submitted.pk],
    }
    page = client.post(f"{REGISTER}/decide/", record).content.decode()
    assert 'name="attachments"' in page and 'enctype="multipart/form-data"' in page
    minutes = SimpleUploadedFile("党组会纪要.docx", _docx())
    client.post(f"{REGISTER}/decide/", {**record, "confirmed": "1", "attachments": [minutes]})
    decision = Decision.objects.get(register=Register.objects.get(institution=world.a, year=2026))
    assert [a.name for a in decision.attachments.all()] == ["党组会纪要.docx"]
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.APPROVED
