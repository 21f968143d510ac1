"""The framework's floor for ``benchmark_pages``: an empty page for a signed-in user.

The benchmark swaps this URL map in (``override_settings(ROOT_URLCONF=…)``) while it runs: the
product's own pages (``include("config.urls")``, so every ``{% url %}`` of the navigation
resolves) plus one page that shows nothing but ``base.html``. Requesting it pays what every page
pays — the middleware, the session and the user, the scope, the navigation and its badge, the
base template — and nothing of its own, so the table can show how much of a page is the floor.
The product never routes to it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.http import require_GET

FLOOR_URL = "/benchmark-floor/"


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {})


urlpatterns = [
    path(FLOOR_URL.strip("/") + "/", floor),
    path("", include("config.urls")),
]
