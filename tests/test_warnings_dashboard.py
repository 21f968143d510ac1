"""The warnings section of the dashboards: counts by channel, grade, outcome and month, each a
link to the ledger filtered to exactly what it counts, scoped like the ledger; and the ledger's
pages keep their filters."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrity_warnings.web import views as warning_views
from tests.warnings_helpers import SECRET_FACTS, SECRET_SOURCE, grade, inspection_item, issue, petition_item

pytestmark = pytest.mark.django_db

YEAR = 2026


def section(body: str) -> str:
    start = body.index('data-testid="warnings-figures"')
    return body[start : body.index("<!-- /warnings-figures -->", start)]


def figures(body: str) -> dict[str, tuple[str, int]]:
    """``group:label`` → (ledger URL, count) of each figure in the section."""
    found = {}
    for group, label, href, count in re.findall(
        r'data-group="(\w+)" data-label="([^"]*)"[^>]*>\s*<a href="([^"]+)"[^>]*>(\d+)</a>', section(body)
    ):
        found[f"{group}:{unescape(label)}"] = (unescape(href), int(count))
    return found


def ledger_numbers(client, url: str) -> list[str]:
    body = client.get(url).content.decode()
    table = body[body.index('data-testid="ledger"') : body.index("</table>")]
    return re.findall(r">(\d{4}-\d{3})</a>", table)


def test_every_figure_equals_the_ledger_it_links_to(world, client):
    inspection_item(world)
    secret = petition_item(world)
    issue(world, secret)
    inspection_item(world, received_on=datetime.date(2026, 1, 10), grade=1)
    client.force_login(world.discipline)
    body = client.get(f"/dashboards/oversight/?year={YEAR}").content.decode()
    found = figures(body)
    assert SECRET_FACTS not in body and SECRET_SOURCE not in body
    assert found["channel:信访举报"][1] == 1 and found["channel:专项检查"][1] == 2
    assert found["month:2026-01"][1] == 1 and found["month:2026-02"][1] == 2
    assert {key.split(":")[0] for key in found} == {"channel", "band", "grade", "status", "month"}
    for key, (url, count) in found.items():
        assert url.startswith("/warnings/?"), key
        assert len(ledger_numbers(client, url)) == count, key
    assert "3" in section(body)  # the summary names the total


def test_a_chosen_institution_narrows_the_figures(world, client):
    inspection_item(world)
    client.force_login(world.superior)
    everything = figures(client.get(f"/dashboards/oversight/?year={YEAR}").content.decode())
    assert everything["channel:专项检查"][1] == 1
    only_b = client.get(f"/dashboards/oversight/?year={YEAR}&institution={world.b.code}").content.decode()
    assert figures(only_b) == {}
    only_a = figures(client.get(f"/dashboards/oversight/?year={YEAR}&institution={world.a.code}").content.decode())
    url, count = only_a["channel:专项检查"]
    assert f"institution={world.a.pk}" in url and len(ledger_numbers(client, url)) == count == 1


def test_leadership_counts_what_its_ledger_shows(world, client):
    inspection_item(world)
    petition_item(world)  # confidential: not in the leadership's ledger
    client.force_login(world.leader)
    body = client.get(f"/dashboards/leadership/?year={YEAR}").content.decode()
    found = figures(body)
    assert "channel:信访举报" not in found and found["channel:专项检查"][1] == 1
    for key, (url, count) in found.items():
        assert len(ledger_numbers(client, url)) == count, key
    assert SECRET_FACTS not in body


def test_no_section_for_who_cannot_see_the_ledger(world, client, monkeypatch):
    inspection_item(world)
    client.force_login(world.outsider)  # bureau B's office: a ledger, none of bureau A's items
    body = client.get(f"/dashboards/oversight/?year={YEAR}").content.decode()
    assert figures(body) == {}
    monkeypatch.setattr("risk_registry.web.warning_figures.warning_access.may_see_ledger", lambda user: False)
    client.force_login(world.discipline)
    body = client.get(f"/dashboards/oversight/?year={YEAR}").content.decode()
    assert 'data-testid="warnings-figures"' not in body


def test_query_count_is_flat(world, client):
    client.force_login(world.discipline)
    inspection_item(world)
    client.get(f"/dashboards/oversight/?year={YEAR}")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/dashboards/oversight/?year={YEAR}")
    for day in range(1, 12):
        inspection_item(world, received_on=datetime.date(2026, 1 + day % 2, day), grade=1 + day % 3)
        petition_item(world)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/dashboards/oversight/?year={YEAR}")
    assert len(many) == len(few)


def test_the_ledger_pages_keep_their_filters(world, client, monkeypatch):
    monkeypatch.setattr(warning_views, "PAGE_SIZE", 2)
    for _ in range(3):
        inspection_item(world)
    petition_item(world)
    client.force_login(world.discipline)
    third = grade(world.a, 3).pk
    body = client.get(f"/warnings/?grade={third}").content.decode()
    next_href = unescape(re.search(r'<a class="page-link" href="([^"]+)">下一页</a>', body).group(1))
    assert f"grade={third}" in next_href and "page=2" in next_href
    second = client.get(f"/warnings/{next_href}" if next_href.startswith("?") else next_href).content.decode()
    table = second[second.index('data-testid="ledger"') : second.index("</table>")]
    assert len(re.findall(r">(\d{4}-\d{3})</a>", table)) == 1  # the third grade-3 item, not the petition
    previous = unescape(re.search(r'<a class="page-link" href="([^"]+)">上一页</a>', second).group(1))
    assert f"grade={third}" in previous and "page=1" in previous
