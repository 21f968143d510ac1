"""Files attached to the written report of a notice: type by content, size, storage outside the web
root under a random name, downloads only to the recipient and the office that acts (audited), and a
Chinese download name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from integrity_warnings import files, services
from integrity_warnings.models import ReportAttachment
from risk_registry.organisation.models import AuditAction, AuditEntry
from tests.warnings_helpers import inspection_item, issue, petition_item, step

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def office_file(inner: str, *, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(inner, "<x/>")
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def folder(tmp_path, settings):
    settings.RISK_REGISTRY_WARNING_FILES_DIR = str(tmp_path / "files")
    return tmp_path / "files"


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_recipient_attaches_a_pdf_stored_outside_the_web_root(world, folder):
    notice = issue(world, inspection_item(world))
    attachment = services.report_attachment_add(by=world.holder, disposition=notice, upload=upload("整改报告.pdf", PDF))
    stored = Path(folder) / attachment.stored_as[:2] / attachment.stored_as
    assert stored.read_bytes() == PDF and oct(stored.stat().st_mode & 0o777) == "0o600"
    assert attachment.kind == "pdf" and attachment.size == len(PDF) and attachment.name == "整改报告.pdf"
    assert not str(folder).startswith(str(settings.STATIC_ROOT))
    assert AuditEntry.objects.filter(action=AuditAction.DISPOSITION_ATTACHMENT_ADD, target_id=notice.pk).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("报告.docx", office_file("word/document.xml"), "docx"),
        ("台账.xlsx", office_file("xl/workbook.xml"), "xlsx"),
        ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"),
        ("照片", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        ("disguised.exe", PDF, "pdf"),  # the content decides, and the name gets the right extension
    ],
)
def test_accepted_types_are_known_by_content(world, name, content, kind):
    notice = issue(world, inspection_item(world))
    attachment = services.report_attachment_add(by=world.holder, disposition=notice, upload=upload(name, content))
    assert attachment.kind == kind
    assert attachment.name.endswith("." + ("jpg" if kind == "jpeg" else kind))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("报告.pdf", b"MZ\x90\x00 an executable named pdf"),
        ("宏.docx", office_file("word/document.xml", macro=True)),
        ("压缩.zip", office_file("other.txt")),
        ("page.html", b"<html><script>alert(1)</script>"),
        ("空.pdf", b""),
    ],
)
def test_refused_types_leave_nothing_behind(world, folder, name, content):
    notice = issue(world, inspection_item(world))
    with pytest.raises(ValidationError):
        services.report_attachment_add(by=world.holder, disposition=notice, upload=upload(name, content))
    assert ReportAttachment.objects.count() == 0
    assert not Path(folder).exists() or not any(Path(folder).rglob("*"))


def test_too_large_is_refused_before_reading(world, settings):
    settings.RISK_REGISTRY_WARNING_FILE_MAX_BYTES = 100
    notice = issue(world, inspection_item(world))
    with pytest.raises(ValidationError) as refused:
        services.report_attachment_add(by=world.holder, disposition=notice, upload=upload("大.pdf", PDF + b"x" * 200))
    assert refused.value.code == "too_large"
    assert ReportAttachment.objects.count() == 0


def test_only_the_recipient_attaches_and_only_while_the_notice_waits(world):
    notice = issue(world, inspection_item(world))
    for other in (world.discipline, world.head, world.holder2):
        with pytest.raises(PermissionDenied):
            services.report_attachment_add(by=other, disposition=notice, upload=upload("a.pdf", PDF))
    step(world, notice, "respond")
    with pytest.raises(ValidationError):
        services.report_attachment_add(by=world.holder, disposition=notice, upload=upload("a.pdf", PDF))
    assert ReportAttachment.objects.count() == 0


def download(client, user, attachment):
    client.force_login(user)
    return client.post(f"/warnings/files/{attachment.pk}/")


def test_downloads_go_to_the_recipient_and_the_acting_office_with_a_chinese_name(world, client):
    notice = issue(world, inspection_item(world))
    attachment = services.report_attachment_add(by=world.holder, disposition=notice, upload=upload("report.pdf", PDF))
    for user in (world.holder, world.discipline):
        response = download(client, user, attachment)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response["Content-Disposition"]
        assert "%E5%9B%9E%E5%91%8A%E9%99%84%E4%BB%B6" in response["Content-Disposition"]  # 回告附件
    reads = AuditEntry.objects.filter(action=AuditAction.DISPOSITION_ATTACHMENT_READ, target_id=notice.pk)
    assert reads.count() == 2
    assert download(client, world.leader, attachment).status_code == 403  # sees the notice, not its files
    assert download(client, world.holder2, attachment).status_code == 404
    assert download(client, world.outsider, attachment).status_code == 404
    assert reads.count() == 2
    client.force_login(world.holder)
    assert client.get(f"/warnings/files/{attachment.pk}/").status_code == 405  # a read is audited: POST only


def test_files_of_a_confidential_item_reach_only_its_handlers_and_the_recipient(world, client):
    notice = issue(world, petition_item(world), notice_facts="你在审批工作中存在需要说明的情况。")
    attachment = services.report_attachment_add(by=world.holder, disposition=notice, upload=upload("report.pdf", PDF))
    assert download(client, world.holder, attachment).status_code == 200
    assert download(client, world.discipline, attachment).status_code == 200
    assert download(client, world.superior, attachment).status_code == 403  # the row masked, the files closed


def test_upload_page_flow_with_a_message_for_a_refused_file(world, client):
    notice = issue(world, inspection_item(world))
    client.force_login(world.holder)
    response = client.post(f"/warnings/notices/{notice.pk}/files/", {"file": upload("x.html", b"<html>")}, follow=True)
    assert "只能上传" in response.content.decode() or "PDF" in response.content.decode()
    assert ReportAttachment.objects.count() == 0
    client.post(f"/warnings/notices/{notice.pk}/files/", {"file": upload("整改.pdf", PDF)})
    page = client.get(f"/warnings/notices/{notice.pk}/").content.decode()
    assert "整改.pdf" in page and 'data-testid="attach-form"' in page
    client.force_login(world.discipline)
    assert client.post(f"/warnings/notices/{notice.pk}/files/", {"file": upload("a.pdf", PDF)}).status_code == 403


def test_stored_names_are_never_paths():
    with pytest.raises(ValueError):
        files.path_of("../../etc/passwd")
