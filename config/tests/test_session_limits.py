"""Sessions end when idle, at an absolute limit and with the browser; signed-in pages are never stored."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from config.security import SESSION_SEEN, SESSION_STARTED

PASSWORD = "the-right-password-1"
START = datetime.datetime(2026, 3, 2, 8, 30, tzinfo=datetime.UTC)


class Clock:
    """The fake clock: ``django.utils.timezone.now`` answers ``clock.now`` until the test ends."""

    def __init__(self) -> None:
        self.now = START

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(timezone, "now", lambda: fake.now)
    return fake


@pytest.fixture
def signed_in(db, client, django_user_model, clock):
    """A user who has just logged in (at the clock's time) and opened one page."""
    user = django_user_model.objects.create_user(username="clerk", password=PASSWORD)
    client.force_login(user)
    assert client.get(PAGE).status_code == 200
    return client


PAGE = "/accounts/password/"  # any page that needs login; this one runs few queries


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


def test_a_session_idle_for_longer_than_the_limit_ends(signed_in, clock):
    clock.advance(minutes=settings.RISK_REGISTRY_SESSION_IDLE_MINUTES, seconds=1)
    response = signed_in.get(PAGE, follow=True)

    assert response.redirect_chain == [(f"{reverse('login')}?next={PAGE}", 302)]
    assert not is_signed_in(signed_in)
    assert f"您已 {settings.RISK_REGISTRY_SESSION_IDLE_MINUTES} 分钟没有操作" in response.content.decode()


def test_activity_extends_the_idle_window(signed_in, clock):
    idle = settings.RISK_REGISTRY_SESSION_IDLE_MINUTES
    for _ in range(4):  # four times two-thirds of the limit: longer than the limit in all
        clock.advance(minutes=idle * 2 / 3)
        assert signed_in.get(PAGE).status_code == 200
    assert is_signed_in(signed_in)

    clock.advance(minutes=idle, seconds=1)
    assert signed_in.get(PAGE).status_code == 302
    assert not is_signed_in(signed_in)


def test_just_inside_the_idle_limit_the_session_lasts(signed_in, clock):
    clock.advance(minutes=settings.RISK_REGISTRY_SESSION_IDLE_MINUTES, seconds=-1)
    assert signed_in.get(PAGE).status_code == 200
    assert is_signed_in(signed_in)


def test_a_session_ends_at_the_absolute_limit_however_active(signed_in, clock):
    hours = settings.RISK_REGISTRY_SESSION_ABSOLUTE_HOURS
    step = settings.RISK_REGISTRY_SESSION_IDLE_MINUTES - 5
    while clock.now + datetime.timedelta(minutes=step) < START + datetime.timedelta(hours=hours):
        clock.advance(minutes=step)
        assert signed_in.get(PAGE).status_code == 200, clock.now
    assert is_signed_in(signed_in)

    clock.now = START + datetime.timedelta(hours=hours)
    response = signed_in.get(PAGE, follow=True)
    assert response.redirect_chain[0] == (f"{reverse('login')}?next={PAGE}", 302)
    assert not is_signed_in(signed_in)
    assert f"您已登录 {hours} 小时" in response.content.decode()


def test_the_session_records_its_start_and_last_activity(signed_in, clock):
    session = signed_in.session
    assert session[SESSION_STARTED] == session[SESSION_SEEN] == START.timestamp()
    clock.advance(minutes=10)
    signed_in.get(PAGE)
    session = signed_in.session
    assert (session[SESSION_STARTED], session[SESSION_SEEN]) == (START.timestamp(), clock.now.timestamp())


def test_the_session_cookie_ends_with_the_browser(db, client, django_user_model):
    django_user_model.objects.create_user(username="clerk", password=PASSWORD)
    response = client.post(reverse("login"), {"username": "clerk", "password": PASSWORD})

    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert (cookie["expires"], cookie["max-age"]) == ("", "")  # no date: the browser drops it on close


@pytest.mark.parametrize("url", ["/", "/risks/", "/accounts/password/", "/inbox/"])
def test_signed_in_pages_are_never_stored(world, login, url):
    response = login(world.holder).get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_pages_for_anonymous_visitors_keep_their_own_caching(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
