"""Ledger statistics: by channel, grade, outcome and month, each figure a link to the ledger
filtered to exactly the items it counts, scoped like the ledger, in a fixed number of queries."""

from __future__ import annotations

import datetime
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


def test_each_figure_counts_what_the_ledger_filtered_by_it_lists(world):
    """The figures are summed from one grouped query: each must equal the ledger filtered by its
    key and counted on its own, the overdue figure included (a notice past its due date)."""
    from django.db.models import Q

    from integrity_warnings.models import WarningItem
    from integrity_warnings.selectors import ledger_for, ledger_statistics

    for year, month, rank in ((2025, 11, 1), (2025, 11, 2), (2026, 1, 2), (2026, 2, 1)):
        petition_item(world, received_on=datetime.date(year, month, 5), grade=rank)
    for year, month in ((2025, 12), (2026, 1)):
        inspection_item(world, received_on=datetime.date(year, month, 9))
    issue(world, WarningItem.objects.filter(grade__rank=1).order_by("id").first())
    later = datetime.date(2027, 1, 4)  # the notice's due date has passed: overdue
    items = ledger_for(user=world.discipline, today=later)
    with CaptureQueriesContext(connection) as queries:
        stats = ledger_statistics(items)
    assert len(queries) == 1
    assert stats.total == items.count() == 6
    assert stats.overdue == items.filter(overdue=True).count() == 1

    for figures, key_of in (
        (stats.by_channel, lambda key: Q(channel_id=key)),
        (stats.by_band, lambda key: Q(grade__band=key)),
        (stats.by_grade, lambda key: Q(grade_id=key)),
        (stats.by_status, lambda key: Q(status=key)),
        (stats.by_month, lambda key: Q(received_on__year=int(key[:4]), received_on__month=int(key[5:]))),
    ):
        shown = {row["key"]: row["n"] for row in figures}
        assert shown == {key: items.filter(key_of(key)).count() for key in shown}, figures
        assert sum(shown.values()) == 6, figures
    assert [row["key"] for row in stats.by_month] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert [row["band"] for row in stats.by_grade] == sorted(
        (row["band"] for row in stats.by_grade), key=["high", "medium", "low"].index
    )


def test_a_big_scope_offers_its_top_institutions_and_the_one_asked_for(world, client, monkeypatch):
    """The ledger's institution filter offers a bounded part of a big scope (its top and the top's
    children, ``OFFERED_INSTITUTIONS`` at the most) and the one asked for; any visible one filters."""
    from risk_registry import selectors as risk_selectors

    monkeypatch.setattr(risk_selectors, "OFFERED_INSTITUTIONS", 2)
    client.force_login(world.superior)  # the county and its two bureaus: three institutions
    inspection_item(world)

    def offered(body: str) -> set[str]:
        select = body[body.index('name="institution"') : body.index("</select>", body.index('name="institution"'))]
        return set(re.findall(r'<option value="(\d+)"', select))

    body = client.get("/warnings/").content.decode()
    assert offered(body) == {str(world.county.pk), str(world.a.pk)}
    asked = client.get(f"/warnings/?institution={world.b.pk}").content.decode()
    assert offered(asked) == {str(world.county.pk), str(world.a.pk), str(world.b.pk)}
    assert f'<option value="{world.b.pk}" selected' in asked
    assert ledger_numbers(client, f"/warnings/?institution={world.a.pk}") != set()  # a filter, not an error


def test_a_level_of_another_part_of_the_trees_scale_is_no_filter(world, client):
    """乙局's own scale is out of 甲局's office's reach: asked for by id, its level is neither drawn
    (its label would name 乙局) nor applied; a level of the scale 甲局 uses still filters."""
    from integrity_warnings.models import WarningGrade

    foreign = WarningGrade.objects.create(institution=world.b, label="乙局特级", rank=1, band="high")
    inspection_item(world)
    client.force_login(world.discipline)
    body = client.get(f"/warnings/?grade={foreign.pk}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "乙局特级" not in body and "选择一个有效的选项" in body
    own = grade(world.a, 3)
    assert f'<option value="{own.pk}"' in client.get(f"/warnings/?grade={own.pk}").content.decode()
