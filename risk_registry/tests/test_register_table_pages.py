"""Issue 11: the register table in pages (a bureau's register has 4,730 points), its filters whole
over every page, and "all N matching points" acting on the whole register through the same service
after a confirmation that names how many points change."""

from __future__ import annotations

import pytest

from controls.models import Control
from risk_registry.models import RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.workflow import selectors as wf_selectors

pytestmark = pytest.mark.django_db

REGISTER = "/registers/bureau-a/2026"


@pytest.fixture
def one_a_page(monkeypatch):
    monkeypatch.setattr(wf_selectors, "TABLE_PAGE", 1)


def _rows(response) -> list[int]:
    return [row.point.pk for row in response.context["table"]["rows"]]


def _snapshot(*points) -> list[tuple]:
    return list(
        RiskPoint.objects.filter(pk__in=[p.pk for p in points]).order_by("pk").values_list("pk", "state", "version")
    )


def test_the_table_shows_one_page_and_counts_every_matching_point(world, client, one_a_page):
    client.force_login(world.discipline)
    first, second = client.get(f"{REGISTER}/"), client.get(f"{REGISTER}/?page=2")
    assert first.context["table"]["count"] == 2 and first.context["table"]["pages"] == 2
    assert len(_rows(first)) == 1 and len(_rows(second)) == 1
    assert set(_rows(first) + _rows(second)) == {world.submitted.pk, world.finance_point.pk}
    html = first.content.decode()
    assert 'data-testid="table-pages"' in html and "page=2#table" in html
    assert 'data-testid="bulk-all"' in html
    assert _rows(client.get(f"{REGISTER}/?page=9")) == _rows(second)  # past the end: the last page


def test_a_bad_page_number_is_a_clear_400(world, client):
    client.force_login(world.discipline)
    assert client.get(f"{REGISTER}/?page=0").status_code == 400
    assert client.get(f"{REGISTER}/?page=abc").status_code == 400


def test_the_vague_filter_is_whole_over_the_pages(world, client, one_a_page):
    """The vague flag was filtered in Python after the rows were cut: with pages it is in SQL."""
    Control.objects.filter(risk_point=world.submitted).update(owner="")  # no owner: vague
    Control.objects.filter(risk_point=world.finance_point).update(
        owner="财务科长", frequency="每月", evidence="复核记录", measure="报销单据由两人分别核对并签字"
    )
    client.force_login(world.discipline)
    response = client.get(f"{REGISTER}/?flag=vague")
    assert _rows(response) == [world.submitted.pk]
    assert response.context["table"]["count"] == 1
    row = response.context["table"]["rows"][0]
    assert "vague" in [code for code, _label in row.flags]


def test_all_matching_asks_to_confirm_the_count_and_changes_nothing_yet(world, client, one_a_page):
    client.force_login(world.discipline)
    before = _snapshot(world.submitted, world.finance_point)
    response = client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2", "page": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "这 2 个风险点" in html  # the count it will change, in the user's language
    assert 'name="digest"' in html and 'name="confirmed"' in html
    assert _snapshot(world.submitted, world.finance_point) == before


def test_all_matching_confirmed_moves_every_point_of_the_register_and_audits_each(world, client, one_a_page):
    client.force_login(world.discipline)
    shown = client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2"})
    digest = shown.context["carried"][-1]
    assert digest[0] == "digest"
    response = client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2", "confirmed": "1", "digest": digest[1]})
    assert response.status_code == 302
    assert [row[1] for row in _snapshot(world.submitted, world.finance_point)] == [S.REVIEWED, S.REVIEWED]
    assert (
        AuditEntry.objects.filter(
            action="risk_point.review", target_id__in=[world.submitted.pk, world.finance_point.pk]
        ).count()
        == 2
    )


def test_all_matching_keeps_to_the_filters(world, client, one_a_page):
    client.force_login(world.discipline)
    data = {"action": "review", "all": "1", "department": str(world.finance.pk)}
    digest = dict(client.post(f"{REGISTER}/bulk/", data).context["carried"])["digest"]
    client.post(f"{REGISTER}/bulk/", {**data, "confirmed": "1", "digest": digest})
    assert RiskPoint.objects.get(pk=world.finance_point.pk).state == S.REVIEWED
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.SUBMITTED


def test_all_matching_changed_since_the_confirmation_writes_nothing_and_asks_again(world, client, one_a_page):
    client.force_login(world.discipline)
    digest = dict(client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2"}).context["carried"])["digest"]
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(version=99)  # someone else saved it meanwhile
    before = _snapshot(world.submitted, world.finance_point)
    response = client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2", "confirmed": "1", "digest": digest})
    assert response.status_code == 200  # the confirmation again, with the new set
    assert _snapshot(world.submitted, world.finance_point) == before
    assert 'data-testid="confirm-sentence"' in response.content.decode()


def test_all_matching_with_no_point_the_step_applies_to_writes_nothing(world, client, one_a_page):
    client.force_login(world.discipline)
    before = _snapshot(world.submitted, world.finance_point)
    response = client.post(f"{REGISTER}/bulk/", {"action": "define", "all": "2"}, follow=True)
    assert _snapshot(world.submitted, world.finance_point) == before
    assert "没有" in response.content.decode() or "None of" in response.content.decode()


def test_all_matching_reaches_only_the_users_points(world, client, one_a_page):
    """A department head's "all" is the points of their department the step applies to; nothing of
    another department moves."""
    client.force_login(world.head)
    response = client.post(f"{REGISTER}/bulk/", {"action": "review", "all": "2"})
    chosen = [p.pk for p in response.context["points"]] if response.status_code == 200 else []
    assert world.finance_point.pk not in chosen


def test_the_tables_count_is_the_state_counts_total_unless_a_filter_narrows_it(world, client):
    """Unfiltered, the table counts what the state counts above it count (one pass over the register
    for both); a filter counts again, and a draft the office may not see is in neither."""
    client.force_login(world.discipline)
    page = client.get(f"{REGISTER}/?sort=level&page=1").context
    visible = {world.submitted.pk, world.finance_point.pk}
    assert page["table"]["count"] == page["total"] == len(visible)
    assert world.draft.state == S.DRAFT and world.draft.pk not in visible
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(state=S.REVIEWED)
    narrowed = client.get(f"{REGISTER}/?state=reviewed").context
    assert narrowed["table"]["count"] == 1 and narrowed["total"] == 2
