"""A server error shows the site's own Chinese page, and nothing of the error itself."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings


@pytest.fixture
def failing_site(settings, client):
    settings.ROOT_URLCONF = "config.tests.urls_failing"
    client.raise_request_exception = False
    return client


def test_a_server_error_shows_the_chinese_500_page(failing_site, db):
    response = failing_site.get("/fail/")
    page = response.content.decode()

    assert response.status_code == 500
    assert "服务器出错" in page
    assert "请稍后再试" in page
    assert "secret detail" not in page and "RuntimeError" not in page and "Traceback" not in page
    assert response["Content-Security-Policy"] == django_settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY
