"""Failed logins are throttled per account and per address (django-axes), the admin's login included."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db.models import F, Sum
from django.test import Client
from django.urls import reverse

PASSWORD = "the-right-password-1"
ADDRESS = "198.51.100.20"
OTHER_ADDRESS = "203.0.113.40"


@pytest.fixture
def users(django_user_model):
    make = django_user_model.objects.create_user
    return {
        "clerk": make(username="clerk", password=PASSWORD),
        "colleague": make(username="colleague", password=PASSWORD),
        "admin": django_user_model.objects.create_superuser(username="admin", password=PASSWORD),
    }


def attempt(client: Client, username: str, password: str, *, address: str = ADDRESS, url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_sessions() -> list[str]:
    """User ids of every stored session that is signed in."""
    decoded = (session.get_decoded() for session in Session.objects.all())
    return [data[SESSION_KEY] for data in decoded if SESSION_KEY in data]


def failures(**lookup) -> int:
    return AccessAttempt.objects.filter(**lookup).aggregate(total=Sum("failures_since_start"))["total"] or 0


def age_attempts(by: datetime.timedelta) -> None:
    """Move every recorded failure back in time: the cool-off runs from the last failure."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


@pytest.mark.parametrize("login_url", ["login", "admin:login"])
def test_fifty_wrong_passwords_then_the_right_one_does_not_log_in(db, client, users, login_url):
    url = reverse(login_url)
    limit = settings.AXES_FAILURE_LIMIT
    responses = [attempt(client, "admin", f"guess-{n}", url=url) for n in range(50)]

    assert {response.status_code for response in responses[: limit - 1]} == {200}  # the form, with its error
    assert {response.status_code for response in responses[limit - 1 :]} == {429}
    refused = attempt(client, "admin", PASSWORD, url=url)
    assert refused.status_code == 429
    assert "登录已锁定" in refused.content.decode()
    assert SESSION_KEY not in client.session
    assert signed_in_sessions() == []
    assert not AccessLog.objects.filter(username="admin").exists()  # axes logs successful logins only
    # What axes recorded: every failure, the right password during the lockout included.
    assert failures(username="admin", ip_address=ADDRESS) == 51


def test_the_lockout_page_is_chinese_and_names_the_cool_off(db, client, users):
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = attempt(client, "clerk", f"guess-{n}")
    page = response.content.decode()
    assert response.status_code == 429
    assert "登录已锁定" in page
    assert f"请 {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} 分钟后再试" in page


def test_an_address_that_failed_too_often_is_locked_for_every_account(db, client, users):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", f"guess-{n}")

    colleague_here = attempt(client, "colleague", PASSWORD)
    assert colleague_here.status_code == 429
    assert signed_in_sessions() == []

    colleague_elsewhere = attempt(Client(), "colleague", PASSWORD, address=OTHER_ADDRESS)
    assert colleague_elsewhere.status_code == 302
    assert signed_in_sessions() == [str(users["colleague"].pk)]


def test_an_account_that_failed_too_often_is_locked_from_every_address(db, client, users):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", f"guess-{n}", address=f"192.0.2.{n + 1}")  # one failure per address

    refused = attempt(client, "clerk", PASSWORD, address=OTHER_ADDRESS)
    assert refused.status_code == 429
    assert signed_in_sessions() == []
    assert failures(username="clerk") == settings.AXES_FAILURE_LIMIT + 1
    assert failures(ip_address=OTHER_ADDRESS) == 1


def test_after_the_cool_off_the_right_password_logs_in(db, client, users):
    cool_off = settings.AXES_COOLOFF_TIME
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "clerk", f"guess-{n}")

    age_attempts(cool_off - datetime.timedelta(minutes=1))
    assert attempt(client, "clerk", PASSWORD).status_code == 429  # a minute early: still locked
    age_attempts(cool_off - datetime.timedelta(minutes=1))
    # That refused attempt counted as a failure and started the cool-off again.
    assert attempt(client, "clerk", PASSWORD).status_code == 429
    assert signed_in_sessions() == []

    age_attempts(cool_off + datetime.timedelta(seconds=1))
    response = attempt(client, "clerk", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session[SESSION_KEY] == str(users["clerk"].pk)
    assert AccessAttempt.objects.count() == 0  # expired failures are removed, not only ignored


def test_a_successful_login_does_not_wipe_the_failures_of_its_address(db, client, users):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "clerk", f"guess-{n}")
    assert attempt(Client(), "colleague", PASSWORD).status_code == 302  # the attacker's own valid account

    assert attempt(client, "clerk", "one-more-guess").status_code == 429
    assert failures(ip_address=ADDRESS) == settings.AXES_FAILURE_LIMIT


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(db, client, users, settings):
    settings.RISK_REGISTRY_PROXY_COUNT = 1
    client.post(
        reverse("login"),
        {"username": "clerk", "password": "wrong"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.77",  # the first entry is the client's own claim
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.77"]


def test_without_a_proxy_a_forwarded_header_is_ignored(db, client, users):
    client.post(
        reverse("login"),
        {"username": "clerk", "password": "wrong"},
        REMOTE_ADDR=ADDRESS,
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ADDRESS]
