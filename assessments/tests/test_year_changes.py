"""The changes of a register from one year to the next: every kind counted, a page of rows, a
filter by kind, and a fixed number of queries whatever the register's size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import selectors
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db


def _copy(source: RiskPoint, **changes) -> RiskPoint:
    """A point of the next year carried from ``source`` (submitted after the rollover), with ``changes``."""
    fields = {
        name: getattr(source, name)
        for name in (
            "institution",
            "department",
            "position",
            "risk_type",
            "description",
            "likelihood",
            "severity",
            "level",
        )
    }
    carried = {"year": source.year + 1, "carried_from": source, "state": RiskPointState.SUBMITTED}
    return RiskPoint.objects.create(**{**fields, **carried, **changes})


@pytest.fixture
def next_year(world, cycle):
    """甲局's 2027 register: 违规简化审批程序 carried unchanged, 会计岗's point carried with another
    description, one new point; its other submitted 2026 points are not carried over."""
    kept = _copy(world.submitted)
    changed = _copy(world.finance_point, description="会计岗新表述")
    new = _copy(world.submitted, position=world.position2, description="新增风险点", carried_from=None)
    return kept, changed, new


def test_every_kind_is_counted_and_listed_in_order(world, cycle, next_year, client):
    kept, changed, new = next_year
    client.force_login(world.discipline)
    changes = selectors.year_changes(user=world.discipline, institution=world.a, year=2026)
    previous = RiskPoint.objects.filter(institution=world.a, year=2026).exclude(state=RiskPointState.DRAFT)
    dropped = previous.exclude(pk__in=[world.submitted.pk, world.finance_point.pk]).count()
    assert changes.counts == {"changed": 1, "new": 1, "dropped": dropped, "carried": 1}
    assert [(c.kind, c.point.pk) for c in changes.rows[:2]] == [("changed", changed.pk), ("new", new.pk)]
    assert changes.rows[0].fields == ["description"] and changes.rows[0].before.pk == world.finance_point.pk
    assert changes.rows[-1].kind == "carried" and changes.rows[-1].point.pk == kept.pk
    page = client.get(f"/cycles/{cycle.pk}/changes/bureau-a/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "有变更: 1" in page and "新增: 1" in page and f"未结转: {dropped}" in page


def test_a_kind_and_a_page(world, cycle, next_year, client, monkeypatch):
    monkeypatch.setattr(selectors, "CHANGES_PAGE", 1)
    client.force_login(world.discipline)
    url = f"/cycles/{cycle.pk}/changes/bureau-a/"
    only_new = selectors.year_changes(user=world.discipline, institution=world.a, year=2026, kind="new")
    assert [c.kind for c in only_new.rows] == ["new"] and only_new.counts["dropped"] >= 1
    second = selectors.year_changes(user=world.discipline, institution=world.a, year=2026, page="2")
    assert [c.kind for c in second.rows] == ["new"] and second.page.paginator.num_pages == sum(second.counts.values())
    body = client.get(url + "?kind=new").content.decode()
    assert "新增风险点" in body and "会计岗新表述" not in body
    assert client.get(url + "?kind=nonsense&page=x").status_code == 200


def test_queries_do_not_grow_with_the_register(world, cycle, next_year, client):
    client.force_login(world.discipline)
    url = f"/cycles/{cycle.pk}/changes/bureau-a/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(8):
        _copy(world.submitted, description=f"改写{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
