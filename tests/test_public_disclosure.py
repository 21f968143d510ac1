"""The public disclosure page (向社会公开职权目录、权力运行流程图和裁量权基准): the powers in force,
their flows and discretion benchmarks, nothing private; staff only unless the institution opens it."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import strip_tags

from positions.models import Disclosure, PowerItem
from risk_registry import services
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry
from risk_registry.organisation.names import person

pytestmark = pytest.mark.django_db


def _open(world):
    Disclosure.objects.update_or_create(institution=world.a, defaults={"scope": Disclosure.Scope.PUBLIC})


def _leaks(html: str) -> list[str]:
    """Every risk point's description and every user's name found in the page, and every username
    found in its text (a username such as ``head`` is also an HTML tag)."""
    texts = list(RiskPoint.objects.values_list("description", flat=True))
    texts += list(RiskPoint.objects.exclude(manifestation="").values_list("manifestation", flat=True))
    users = list(get_user_model().objects.all())
    texts += [person(user) for user in users]
    found = [text for text in texts if text and text in html]
    words = strip_tags(html).split()
    return found + [user.username for user in users if user.username in words]


def test_open_page_shows_powers_flows_and_discretion_and_nothing_private(world, client):
    PowerItem.objects.filter(pk=world.power.pk).update(discretion="一般情形：5个工作日；复杂情形：10个工作日")
    RiskPoint.objects.filter(pk=world.submitted.pk).update(power_item=world.power, process_step=world.step)
    retired = PowerItem.objects.create(institution=world.a, name="已取消的审批", category=world.power.category)
    services.power_item_retire(item=retired, on=datetime.date(2026, 2, 1), reason="取消")
    _open(world)
    response = client.get(reverse("public_page", args=[world.a.code]))  # no login
    assert response.status_code == 200
    html = response.content.decode()
    assert "企业登记审批" in html and "一般情形：5个工作日" in html and "《行政许可法》" in html
    assert html.count("<svg") == 1 and all(step in html for step in ("受理", "审查", "决定", "送达"))
    assert "已取消的审批" not in html
    assert RiskPoint.objects.count() > 5 and _leaks(html) == []


def test_staff_only_page_asks_anonymous_to_log_in_and_hides_from_outsiders(world, client, login):
    url = reverse("public_page", args=[world.a.code])
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response.url
    assert login(world.outsider).get(url).status_code == 404
    assert login(world.nobody).get(url).status_code == 404
    html = login(world.holder3).get(url).content.decode()
    assert "企业登记审批" in html
    assert _leaks(html) == []  # the page has no navigation bar: not even the reader's own name


def test_discipline_office_opens_the_page_audited(world, login, client):
    office = login(world.discipline)
    assert 'data-testid="disclosure-scope"' in office.get(reverse("public_page", args=[world.a.code])).content.decode()
    response = office.post(reverse("disclosure_scope", args=[world.a.code]), {"scope": "public"})
    assert response.status_code == 302
    assert Disclosure.objects.get(institution=world.a).scope == "public"
    entry = AuditEntry.objects.get(action="disclosure.scope")
    assert entry.actor == world.discipline and entry.changes == {"scope": [None, "public"]}
    client.logout()
    assert client.get(reverse("public_page", args=[world.a.code])).status_code == 200


@pytest.mark.parametrize("persona", ["holder", "head", "leader", "outsider", "nobody"])
def test_others_may_not_change_the_scope(world, login, persona):
    before = AuditEntry.objects.count()
    response = login(getattr(world, persona)).post(
        reverse("disclosure_scope", args=[world.a.code]), {"scope": "public"}
    )
    assert response.status_code == (404 if persona in ("outsider", "nobody") else 403)
    assert not Disclosure.objects.filter(institution=world.a).exists() and AuditEntry.objects.count() == before


def test_a_bad_scope_changes_nothing(world, login):
    login(world.discipline).post(reverse("disclosure_scope", args=[world.a.code]), {"scope": "everyone!"})
    assert not Disclosure.objects.filter(institution=world.a).exists()


def test_unknown_institution_is_404_without_login(client):
    assert client.get(reverse("public_page", args=["no-such-unit"])).status_code == 404
