"""The warning ledger's confidentiality: every persona × every warning page, against a confidential
信访举报 and a normal item. Source and facts of the confidential item appear only to its granted
handler (the discipline office member who entered it): on no other page, for nobody else. Who may
open each page, and what each request writes: the permission harness (tests/harness.py).
"""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import delivery
from assessments.models import Notification
from assessments.scan import deadline_scan
from assessments.tests.conftest import at
from conftest import PERSONAS
from integrity_warnings.models import WarningItem
from integrity_warnings.services import report_attachment_add
from risk_registry.organisation.models import AuditAction, AuditEntry, Role
from risk_registry.organisation.services import membership_grant
from tests.warnings_helpers import SECRET_FACTS, SECRET_SOURCE, inspection_item, issue, petition_item

pytestmark = pytest.mark.django_db

OVERSIGHT = {"discipline", "superior", "leader", "principal"}
SUBTREE = {"discipline", "superior"}


def readable_text(response) -> str:
    """What a person would read in the response: the page, the workbook's cells or the PDF's text."""
    kind = response.get("Content-Type", "")
    if response.streaming:  # a report's file, as uploaded
        return b"".join(response.streaming_content).decode()
    if kind == "application/pdf":
        pages = PdfReader(io.BytesIO(response.content)).pages
        return "".join(page.extract_text() for page in pages).replace(" ", "").replace("\n", "")
    if "spreadsheetml" in kind:
        workbook = load_workbook(io.BytesIO(response.content))
        return "\n".join(
            str(v) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
        )
    return response.content.decode()


@pytest.fixture
def items(world):
    secret = petition_item(world)
    normal = inspection_item(world)
    secret_notice = issue(world, secret, notice_facts="你在审批工作中存在需要说明的情况。")
    normal_notice = issue(world, normal)
    report_attachment_add(  # the subject's report restates the allegation: read only by handlers
        by=world.holder,
        disposition=secret_notice,
        upload=SimpleUploadedFile("报告.pdf", f"%PDF-1.4 {SECRET_FACTS}".encode()),
    )
    deadline_scan(now=at("2026-03-12"))  # both notices sent, reminded and escalated (inboxes and e-mail)
    return world, secret, normal, secret_notice, normal_notice


# (name, method, url builder, data builder)
PAGES = [
    ("ledger", "get", lambda s, n, sn, nn: "/warnings/", None),
    ("ledger filtered", "get", lambda s, n, sn, nn: "/warnings/?grade=2&month=2026-02", None),
    (
        "new item form",
        "get",
        lambda s, n, sn, nn: "/warnings/new/",
        None,
    ),
    ("confidential item", "get", lambda s, n, sn, nn: f"/warnings/{s.pk}/", None),
    ("normal item", "get", lambda s, n, sn, nn: f"/warnings/{n.pk}/", None),
    (
        "issue form, confidential",
        "get",
        lambda s, n, sn, nn: f"/warnings/{s.pk}/issue/",
        None,
    ),
    (
        "verify normal",
        "post",
        lambda s, n, sn, nn: f"/warnings/{n.pk}/verify/",
        lambda s, n, sn, nn: {"verification": "true", "version": WarningItem.objects.get(pk=n.pk).version},
    ),
    (
        "notice of the confidential item",
        "get",
        lambda s, n, sn, nn: f"/warnings/notices/{sn.pk}/",
        None,
    ),
    (
        "notice of the normal item",
        "get",
        lambda s, n, sn, nn: f"/warnings/notices/{nn.pk}/",
        None,
    ),
    (
        "respond to the normal notice",
        "post",
        lambda s, n, sn, nn: f"/warnings/notices/{nn.pk}/respond/",
        lambda s, n, sn, nn: {"version": nn.version, "cause_analysis": "原因", "measures_taken": "措施"},
    ),
    (
        "accept the normal notice",
        "post",
        lambda s, n, sn, nn: f"/warnings/notices/{nn.pk}/accept/",
        lambda s, n, sn, nn: {"version": nn.version},
    ),
    ("ledger excel", "post", lambda s, n, sn, nn: "/warnings/export.xlsx", lambda s, n, sn, nn: {}),
    ("ledger pdf", "post", lambda s, n, sn, nn: "/warnings/export.pdf", lambda s, n, sn, nn: {"grade": "2"}),
    ("my notices", "get", lambda s, n, sn, nn: "/warnings/mine/", None),
    ("audit log", "get", lambda s, n, sn, nn: "/audit/", None),
    ("inbox of notifications", "get", lambda s, n, sn, nn: "/inbox/", None),
    ("ledger statistics", "get", lambda s, n, sn, nn: "/warnings/statistics/?grade=2", None),
    (
        "draft a risk point from the confidential item",
        "get",
        lambda s, n, sn, nn: f"/warnings/{s.pk}/risk-point/",
        None,
    ),
    (
        "report file of the confidential notice",
        "post",
        lambda s, n, sn, nn: f"/warnings/files/{sn.attachments.get().pk}/",
        lambda s, n, sn, nn: {},
    ),
]
CASES = [
    pytest.param(name, method, url, data, persona, id=f"{name}-{persona}")
    for name, method, url, data in PAGES
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "method", "url", "data", "persona"), CASES)
def test_warning_pages_by_persona(items, client, name, method, url, data, persona):
    world, secret, normal, secret_notice, normal_notice = items
    args = (secret, normal, secret_notice, normal_notice)
    client.force_login(getattr(world, persona))
    if method == "get":
        response = client.get(url(*args))
    else:
        response = client.post(url(*args), data(*args))
    body = readable_text(response)
    shows_secret = SECRET_SOURCE in body or SECRET_FACTS in body
    handler_page = persona == "discipline" and name in (
        "ledger",
        "ledger filtered",
        "confidential item",
        "ledger excel",
        "ledger pdf",
    )
    # the recipient wrote the file: it holds what they wrote (here the facts), for them and the handler
    handler_page |= persona in ("holder", "discipline") and name == "report file of the confidential notice"
    assert shows_secret == (handler_page and response.status_code == 200), (name, persona)


def test_ledger_masks_the_confidential_row_for_the_superior_office(items, client):
    world, secret, *_ = items
    client.force_login(world.superior)
    body = client.get("/warnings/").content.decode()
    assert secret.number in body and "保密" in body
    assert SECRET_FACTS not in body


def test_leadership_does_not_see_confidential_rows(items, client):
    world, secret, normal, *_ = items
    client.force_login(world.leader)
    body = client.get("/warnings/").content.decode()
    assert normal.number in body and f"/warnings/{secret.pk}/" not in body


def test_every_read_of_confidential_fields_is_audited(items, client):
    world, secret, normal, *_ = items
    client.force_login(world.discipline)
    reads = AuditEntry.objects.filter(action=AuditAction.WARNING_READ_CONFIDENTIAL, target_id=secret.pk)
    client.get(f"/warnings/{secret.pk}/")
    client.get(f"/warnings/{secret.pk}/")
    assert reads.count() == 2
    client.force_login(world.superior)
    client.get(f"/warnings/{secret.pk}/")  # masked: no read to audit
    client.get(f"/warnings/{normal.pk}/")
    assert reads.count() == 2


def test_a_granted_colleague_reads_the_secret_after_the_grant(items, client, django_user_model):
    world, secret, *_ = items
    colleague = django_user_model.objects.create_user(username="colleague", password="x-1234567")
    membership_grant(user=colleague, institution=world.a, role=Role.DISCIPLINE)
    client.force_login(colleague)
    assert SECRET_FACTS not in client.get(f"/warnings/{secret.pk}/").content.decode()
    client.force_login(world.discipline)
    assert client.post(f"/warnings/{secret.pk}/handlers/", {"user": colleague.pk}).status_code == 302
    client.force_login(colleague)
    assert SECRET_FACTS in client.get(f"/warnings/{secret.pk}/").content.decode()


def test_no_notification_e_mail_carries_the_secret(items, django_user_model):
    world, secret, _normal, secret_notice, _ = items
    for persona in PERSONAS:
        user = getattr(world, persona)
        user.email = f"{persona}@example.gov"
        user.save()
    ids = list(Notification.objects.values_list("id", flat=True))
    delivery.notifications_email_deliver(ids=ids)
    about_secret = [m for m in mail.outbox if secret_notice.number in m.body]
    assert {m.to[0] for m in about_secret} == {"holder@example.gov", "head@example.gov", "discipline@example.gov"}
    for message in mail.outbox:
        text = message.subject + message.body
        assert SECRET_SOURCE not in text and SECRET_FACTS not in text and secret.number not in text
