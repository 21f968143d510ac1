"""Redirects back to the Referer go only to this site's pages: never an open redirect."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from risk_registry.web.redirects import redirect_back

FALLBACK = "/documents/"


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "https://testserver.evil.example/",
        "javascript:alert(1)",
        "http://testserver\\@evil.example/",
        "",
    ],
)
def test_a_referer_off_this_site_falls_back(referer):
    request = RequestFactory().get("/documents/export/", HTTP_REFERER=referer)
    assert redirect_back(request, fallback=FALLBACK)["Location"] == FALLBACK


@pytest.mark.parametrize("referer", ["http://testserver/risks/?year=2026", "/risks/?year=2026"])
def test_a_referer_on_this_site_is_followed(referer):
    request = RequestFactory().get("/documents/export/", HTTP_REFERER=referer)
    assert redirect_back(request, fallback=FALLBACK)["Location"] == referer


def test_a_failed_export_does_not_redirect_to_the_referers_site(world, login):
    client = login(world.holder)
    response = client.post(
        reverse("documents_export"), {"form": "overview", "format": "doc"}, HTTP_REFERER="https://evil.example/phish"
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("documents_home")
    page = client.get(response["Location"]).content.decode()
    assert "doc" in page  # the reason of the failure is shown on the page it lands on


def test_a_failed_export_goes_back_to_the_list_it_came_from(world, login):
    came_from = "http://testserver/risks/?year=2026"
    response = login(world.holder).post(
        reverse("documents_export"), {"form": "overview", "format": "doc"}, HTTP_REFERER=came_from
    )
    assert response["Location"] == came_from
