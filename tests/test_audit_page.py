"""The audit page names each entry's object in words (its kind and its name, linked), never a code
such as ``positions.poweritem#3``; names come through the access module, one query per kind."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from risk_registry.organisation.models import AuditEntry
from risk_registry.services import power_item_update

pytestmark = pytest.mark.django_db


def _targets(html: str) -> list[str]:
    cells = re.findall(r'<td data-testid="audit-target">(.*?)</td>', html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_the_audit_page_names_objects_in_words(world, client):
    power_item_update(item=world.power, by=world.discipline, legal_basis="《行政许可法》第三十条")
    client.force_login(world.discipline)
    html = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    targets = _targets(html)
    assert "职权事项 企业登记审批" in targets
    assert f'href="/powers/{world.power.pk}/"' in html
    assert not any(re.search(r"[a-z_]+\.[a-z_]+#", t) for t in targets), targets  # no model codes


def test_the_audit_page_costs_the_same_queries_for_many_kinds_of_object(world, client):
    client.force_login(world.discipline)
    client.get("/audit/")
    with CaptureQueriesContext(connection) as few:
        client.get("/audit/")
    for number in range(5):
        power_item_update(item=world.power, by=world.discipline, name=f"企业登记审批{number}")
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=world.discipline,
            action="position.create",
            target_type="positions.position",
            target_id=p.pk,
            institution=world.a,
        )
        for p in (world.position, world.position2, world.position3)
    )
    with CaptureQueriesContext(connection) as many:
        client.get("/audit/")
    assert len(many) <= len(few) + 1  # the positions' kind, once


def test_the_filings_list_never_reads_the_snapshots(world, client):
    client.force_login(world.superior)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/filings/")
    assert response.status_code == 200
    version_reads = [q["sql"] for q in queries if 'FROM "risk_registry_registerversion"' in q["sql"]]
    assert version_reads and not any('"snapshot"' in sql for sql in version_reads)
