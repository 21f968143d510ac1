"""Ledger statistics: by channel, grade, outcome and month, each figure a link to the ledger
filtered to exactly the items it counts, scoped like the ledger, in a fixed number of queries."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.warnings_helpers import SECRET_FACTS, grade, inspection_item, issue, petition_item

pytestmark = pytest.mark.django_db


def links(body: str) -> dict[str, str]:
    """Text of each figure → its URL, from the statistics block."""
    block = body[body.index('data-testid="ledger-stats"') :]
    return {unescape(text): unescape(href) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block)}


def ledger_numbers(client, url: str) -> set[str]:
    body = client.get(url).content.decode()
    table = body[body.index('data-testid="ledger"') : body.index("</table>")]
    return set(re.findall(r"\d{4}-\d{3}", table))


def test_every_figure_links_to_the_items_it_counts(world, client):
    normal = inspection_item(world)
    secret = petition_item(world)
    issue(world, secret)
    client.force_login(world.discipline)
    body = client.get("/warnings/statistics/").content.decode()
    found = links(body)
    assert SECRET_FACTS not in body
    expected = {
        "信访举报: 1": {secret.number},
        "专项检查: 1": {normal.number},
        "二级（中）: 1": {secret.number},
        "三级（低）: 1": {normal.number},
        "中: 1": {secret.number},
        "低: 1": {normal.number},
        "处置中: 1": {secret.number},
        "已登记: 1": {normal.number},
        "2026-02: 2": {secret.number, normal.number},
    }
    for text, numbers in expected.items():
        assert text in found, (text, found)
        assert ledger_numbers(client, found[text]) == numbers, text


def test_filters_carry_into_the_links(world, client):
    inspection_item(world)
    petition_item(world)
    client.force_login(world.discipline)
    second = grade(world.a, 2)
    found = links(client.get(f"/warnings/statistics/?grade={second.pk}").content.decode())
    assert set(found) == {"信访举报: 1", "中: 1", "二级（中）: 1", "已登记: 1", "2026-02: 1"}
    assert f"grade={second.pk}" in found["信访举报: 1"] and "channel=" in found["信访举报: 1"]


def test_scoped_like_the_ledger(world, client):
    inspection_item(world)
    petition_item(world)
    client.force_login(world.leader)  # leadership: its institution's normal items only
    body = client.get("/warnings/statistics/").content.decode()
    assert "信访举报" not in links(body) and "专项检查: 1" in links(body)
    client.force_login(world.holder)
    assert client.get("/warnings/statistics/").status_code == 403
    client.force_login(world.outsider)  # bureau B's office: none of bureau A's
    assert links(client.get("/warnings/statistics/").content.decode()) == {}


def test_bad_filters_are_answered_not_crashed(world, client):
    client.force_login(world.discipline)
    response = client.get("/warnings/statistics/?month=2026-13&grade=x&institution=abc")
    assert response.status_code == 200


def test_a_fixed_number_of_queries(world, client):
    client.force_login(world.discipline)
    inspection_item(world)
    client.get("/warnings/statistics/")
    with CaptureQueriesContext(connection) as few:
        client.get("/warnings/statistics/")
    for _ in range(12):
        inspection_item(world)
        petition_item(world)
    with CaptureQueriesContext(connection) as many:
        client.get("/warnings/statistics/")
    assert len(many) == len(few)
