"""A rule's file (制度 as a PDF, a Word document or a scan): sniffed by content, bounded in size,
stored outside the web root in the configured folder, served only to those who may see the rule
(and on the public page only for a published rule in force, as far as the page's scope allows),
named by the rule's title, every change audited."""

from __future__ import annotations

import io
import urllib.parse
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from controls import attachments
from controls.models import Rule
from controls.services import rule_attachment_set, rule_create
from positions.models import Disclosure
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def folder(settings, tmp_path):
    settings.RISK_REGISTRY_RULE_FILES_DIR = str(tmp_path / "rule-files")
    return tmp_path / "rule-files"


@pytest.fixture
def rule(world):
    return rule_create(institution=world.a, department=world.dept, title="行政审批工作规程", by=world.discipline)


def file(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def rule_post(world, title: str, **extra) -> dict:
    return {
        "title": title,
        "document_number": "甲局发〔2026〕3号",
        "issuing_body": "甲局",
        "effective_on": "2026-01-01",
        "department": world.dept.pk,
        "summary": "",
        "text": "",
        **extra,
    }


def stored(folder) -> list[str]:
    return sorted(path.name for path in folder.glob("*")) if folder.exists() else []


def filename_of(response) -> str:
    disposition = response["Content-Disposition"]
    return urllib.parse.unquote(disposition.split("filename*=utf-8''")[1])


def test_a_rule_recorded_with_its_pdf_is_stored_outside_the_web_root_and_audited(world, login, folder):
    client = login(world.discipline)
    response = client.post(
        reverse("rule_create", args=[world.a.code]),
        rule_post(world, "公务接待管理办法", attachment=file(PDF, "C:\\扫描件\\接待办法.PDF")),
    )
    assert response.status_code == 302
    rule = Rule.objects.get(title="公务接待管理办法")
    assert rule.attachment_name == "接待办法.pdf" and rule.attachment_type == "application/pdf"
    assert rule.attachment_size == len(PDF) and rule.text == ""
    assert stored(folder) == [rule.attachment_key]  # a random key, not the user's name
    assert (folder / rule.attachment_key).read_bytes() == PDF
    entry = AuditEntry.objects.get(action="rule.attach", target_id=rule.pk)
    assert entry.actor == world.discipline and entry.changes["attachment"][1]["name"] == "接待办法.pdf"
    page = client.get(reverse("rule_detail", args=[rule.pk])).content.decode()
    assert reverse("rule_attachment", args=[rule.pk]) in page and "接待办法.pdf" in page


@pytest.mark.parametrize("persona", ["holder", "head", "leader", "superior"])
def test_whoever_sees_the_rule_downloads_its_file_with_a_chinese_name(world, login, rule, persona):
    data = docx()  # (a zip's bytes carry the time it was written)
    rule_attachment_set(rule=rule, name="规程.docx", data=data, by=world.discipline)
    response = login(getattr(world, persona)).get(reverse("rule_attachment", args=[rule.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == attachments.DOCX.content_type
    assert filename_of(response) == "行政审批工作规程.docx"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_others_get_404_and_the_anonymous_the_login(world, login, client, rule):
    rule_attachment_set(rule=rule, name="规程.pdf", data=PDF, by=world.discipline)
    url = reverse("rule_attachment", args=[rule.pk])
    assert client.get(url).status_code == 302
    for persona in ("outsider", "outsider_holder", "nobody"):
        assert login(getattr(world, persona)).get(url).status_code == 404


def test_a_rule_without_a_file_or_whose_file_is_gone_is_404(world, login, rule, folder):
    client = login(world.discipline)
    assert client.get(reverse("rule_attachment", args=[rule.pk])).status_code == 404
    rule = rule_attachment_set(rule=rule, name="规程.pdf", data=PDF, by=world.discipline)
    (folder / rule.attachment_key).unlink()
    assert client.get(reverse("rule_attachment", args=[rule.pk])).status_code == 404


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 a program", "办法.pdf"),  # named .pdf, is not one
        (b"<html><script>alert(1)</script></html>", "办法.png"),
        (other_zip(), "办法.docx"),  # a zip, not a Word document
        (b"", "空.pdf"),
    ],
)
def test_a_file_that_is_not_what_is_accepted_is_refused_and_nothing_is_written(world, login, folder, data, name):
    client = login(world.discipline)
    before = (Rule.objects.count(), AuditEntry.objects.count())
    response = client.post(
        reverse("rule_create", args=[world.a.code]), rule_post(world, "某办法", attachment=file(data, name))
    )
    assert response.status_code == 200
    assert response.context["form"].errors["attachment"]
    assert (Rule.objects.count(), AuditEntry.objects.count()) == before
    assert stored(folder) == []


def test_a_file_over_the_limit_is_refused(world, login, folder, settings, rule):
    settings.RISK_REGISTRY_RULE_FILE_MAX_BYTES = 1024
    client = login(world.discipline)
    response = client.post(
        reverse("rule_edit", args=[rule.pk]),
        rule_post(world, rule.title, attachment=file(PDF + b"0" * 2000, "大文件.pdf")),
    )
    assert response.status_code == 200 and "1 KB" in str(response.context["form"].errors["attachment"])
    assert not Rule.objects.get(pk=rule.pk).has_attachment and stored(folder) == []


def test_a_new_file_replaces_the_old_one_which_is_removed_and_the_file_can_be_taken_off(
    world, login, folder, rule, django_capture_on_commit_callbacks
):
    client = login(world.head)  # the head manages 审批科's rules
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("rule_edit", args=[rule.pk]), rule_post(world, rule.title, attachment=file(PDF, "一.pdf")))
    first = Rule.objects.get(pk=rule.pk).attachment_key
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("rule_edit", args=[rule.pk]), rule_post(world, rule.title, attachment=file(PNG, "扫描.png"))
        )
    rule.refresh_from_db()
    assert rule.attachment_type == "image/png" and stored(folder) == [rule.attachment_key] != [first]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("rule_edit", args=[rule.pk]), rule_post(world, rule.title, remove_attachment="on"))
    rule.refresh_from_db()
    assert not rule.has_attachment and stored(folder) == []
    assert AuditEntry.objects.filter(action="rule.attach", target_id=rule.pk).count() == 3


def test_a_revision_may_be_a_file_instead_of_text(world, login, rule):
    client = login(world.discipline)
    url = reverse("rule_revise", args=[rule.pk])
    client.post(url, {"on": "2026-06-01", "text": "", "note": "无正文"})
    assert Rule.objects.get(pk=rule.pk).revised_on is None  # neither text nor file: refused
    client.post(url, {"on": "2026-06-01", "text": "", "note": "修订", "attachment": file(PDF, "修订稿.pdf")})
    rule.refresh_from_db()
    assert rule.revised_on is not None and rule.attachment_name == "修订稿.pdf"
    assert {"rule.revise", "rule.attach"} <= set(
        AuditEntry.objects.filter(target_id=rule.pk).values_list("action", flat=True)
    )


def test_a_repealed_rule_keeps_its_file_as_it_was(world, rule):
    Rule.objects.filter(pk=rule.pk).update(repealed_on="2026-05-01")
    with pytest.raises(ValidationError):
        rule_attachment_set(rule=rule, name="x.pdf", data=PDF, by=world.discipline)
    assert not Rule.objects.get(pk=rule.pk).has_attachment


def test_the_public_page_serves_only_published_rules_in_force_within_its_scope(world, login, client, rule):
    rule = rule_attachment_set(rule=rule, name="规程.pdf", data=PDF, by=world.discipline)
    url = reverse("public_rule_attachment", args=[world.a.code, rule.pk])
    page_url = reverse("public_page", args=[world.a.code])
    Disclosure.objects.update_or_create(institution=world.a, defaults={"scope": Disclosure.Scope.PUBLIC})
    assert client.get(url).status_code == 404  # not published
    assert "行政审批工作规程" not in client.get(page_url).content.decode()
    Rule.objects.filter(pk=rule.pk).update(published=True)
    page = client.get(page_url).content.decode()
    assert "行政审批工作规程" in page and url in page
    response = client.get(url)
    assert response.status_code == 200 and filename_of(response) == "行政审批工作规程.pdf"
    other = rule_create(institution=world.b, title="乙局制度", published=True)
    other = rule_attachment_set(rule=other, name="乙.pdf", data=PDF)
    assert client.get(reverse("public_rule_attachment", args=[world.a.code, other.pk])).status_code == 404
    # staff only: the anonymous reader is asked to log in, an outsider gets 404, staff get the file
    Disclosure.objects.filter(institution=world.a).update(scope=Disclosure.Scope.STAFF)
    assert client.get(url).status_code == 302
    assert login(world.outsider).get(url).status_code == 404
    assert login(world.holder3).get(url).status_code == 200
    Rule.objects.filter(pk=rule.pk).update(repealed_on="2026-05-01")
    assert login(world.holder3).get(url).status_code == 404  # repealed: off the page


def test_sniffing_knows_the_four_kinds_and_nothing_else():
    assert attachments.sniff(PDF) == attachments.PDF
    assert attachments.sniff(PNG) == attachments.PNG
    assert attachments.sniff(b"\xff\xd8\xff\xe0 jpeg") == attachments.JPEG
    assert attachments.sniff(docx()) == attachments.DOCX
    assert attachments.sniff(other_zip()) is None
    assert attachments.sniff(b"GIF89a") is None
    with pytest.raises(ValueError):
        attachments.path_of("../../etc/passwd")
