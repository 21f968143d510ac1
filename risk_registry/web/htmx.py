"""The one way a view answers htmx: the partial for an htmx swap, the whole page otherwise.

django-htmx's middleware reads the ``HX-*`` headers into ``request.htmx``. A partial is chosen
only for a real swap: htmx 2 also sends ``HX-Request`` when Back finds no page in its history
cache and re-fetches the URL (``HX-History-Restore-Request``), and then it replaces the whole
``<body>`` with the answer, so that answer must be the full page. Every answer says
``Vary: HX-Request, HX-History-Restore-Request``: the same URL has two bodies, and no cache (the
browser's included) may hand one out for the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails

VARY = ("HX-Request", "HX-History-Restore-Request")


def wants_partial(request: HttpRequest) -> bool:
    """An htmx swap asks for the fragment; a history restore (Back) and a plain visit do not."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)  # set by django_htmx's HtmxMiddleware
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def render_page_or_partial(
    request: HttpRequest, *, page: str, partial: str, context: Mapping[str, Any]
) -> HttpResponse:
    """Render ``partial`` for an htmx swap, ``page`` for everything else; set ``Vary``."""
    response = render(request, partial if wants_partial(request) else page, dict(context))
    patch_vary_headers(response, VARY)
    return response
