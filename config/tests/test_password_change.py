"""The password-change page: the new password logs in, the old one no longer does."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

OLD = "the-old-password-1"
NEW = "a-new-and-long-pass-2"


@pytest.fixture
def clerk(db, django_user_model):
    return django_user_model.objects.create_user(username="clerk", password=OLD)


def logs_in(password: str) -> bool:
    client = Client()
    client.post(reverse("login"), {"username": "clerk", "password": password})
    return SESSION_KEY in client.session


def test_the_user_menu_links_to_the_page(clerk, client):
    client.force_login(clerk)
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("password_change")}"' in page
    assert "修改密码" in page


def test_changing_the_password_replaces_it_and_keeps_the_user_signed_in(clerk, client):
    client.force_login(clerk)
    response = client.post(
        reverse("password_change"), {"old_password": OLD, "new_password1": NEW, "new_password2": NEW}, follow=True
    )

    assert response.redirect_chain == [(reverse("password_change_done"), 302)]
    assert "密码已修改" in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(NEW) and not clerk.check_password(OLD)
    assert client.session[SESSION_KEY] == str(clerk.pk)  # this session goes on
    assert logs_in(NEW)
    assert not logs_in(OLD)


def test_a_wrong_current_password_is_refused_in_chinese(clerk, client):
    client.force_login(clerk)
    response = client.post(
        reverse("password_change"), {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW}
    )

    assert response.status_code == 200
    assert "你的旧密码不正确。请重新输入。" in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(OLD)


def test_a_weak_new_password_is_refused(clerk, client):
    client.force_login(clerk)
    response = client.post(
        reverse("password_change"), {"old_password": OLD, "new_password1": "12345678", "new_password2": "12345678"}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "这个密码太常见了。" in page and "密码只包含数字。" in page
    clerk.refresh_from_db()
    assert clerk.check_password(OLD)
