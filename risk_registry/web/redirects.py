"""Redirects to an address the request names (Referer, ``next``): only ever to this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request: HttpRequest, *, fallback: str) -> HttpResponseRedirect:
    """Back to the page the user came from when it is a page of this site, else to ``fallback``.

    The Referer is whatever the client sent: followed blindly, a link on another site would turn
    this site into a redirector to that site's pages (an open redirect, used for phishing).
    """
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(referer)
    return redirect(fallback)
