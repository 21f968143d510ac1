"""Site-wide security: session limits, no caching of signed-in pages, the CSP, who is asking.

The settings these read, their defaults and why: config/settings/base.py and docs/operations.md
("Sign-in and sessions").
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

SESSION_STARTED = "security_session_started_at"
SESSION_SEEN = "security_session_seen_at"
# The last activity is written at most once a minute: a session save on every request would be
# a database write per page (and per htmx poll). The idle limit is therefore kept to the minute.
SEEN_RESOLUTION_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="security_session_stamp_login")
def session_stamp_login(sender, request, user, **kwargs) -> None:
    """A session starts at login (a second login of the same user in one session starts it anew)."""
    now = timezone.now().timestamp()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now


def session_ended_because(session, *, now: float) -> str | None:
    """Why the signed-in ``session`` has ended at ``now`` (a Unix time), or None while it lasts.

    A signed-in session without stamps (one from before this code) starts now.
    """
    started = session.setdefault(SESSION_STARTED, now)
    seen = session.setdefault(SESSION_SEEN, now)
    hours = settings.RISK_REGISTRY_SESSION_ABSOLUTE_HOURS
    minutes = settings.RISK_REGISTRY_SESSION_IDLE_MINUTES
    if now - started >= hours * 3600:
        return ngettext(
            "You were signed in for %(hours)d hour, the longest a session lasts: please log in again.",
            "You were signed in for %(hours)d hours, the longest a session lasts: please log in again.",
            hours,
        ) % {"hours": hours}
    if now - seen >= minutes * 60:
        return ngettext(
            "You were signed out after %(minutes)d minute without activity: please log in again.",
            "You were signed out after %(minutes)d minutes without activity: please log in again.",
            minutes,
        ) % {"minutes": minutes}
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SESSION_SEEN] = now
    return None


class SessionLimitsMiddleware:
    """End a session that was idle too long or has lasted too long (ASVS 3.3).

    It only signs the user out, with a message: LoginRequiredMiddleware, after it, then sends the
    request to the login page with ``next``, as for anyone not signed in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = session_ended_because(request.session, now=timezone.now().timestamp())
            if reason is not None:
                logout(request)
                messages.warning(request, reason)
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for a signed-in user are never stored by the browser or a proxy (the back button
    after logout on a shared office computer shows nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class ContentSecurityPolicyMiddleware:
    """The same Content-Security-Policy on every response (RISK_REGISTRY_CONTENT_SECURITY_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.RISK_REGISTRY_CONTENT_SECURITY_POLICY)
        return response


def client_ip(request: HttpRequest) -> str | None:
    """The address a login attempt is counted against (django-axes' AXES_CLIENT_IP_CALLABLE).

    Behind RISK_REGISTRY_PROXY_COUNT proxies, each appending the address it was called from to
    X-Forwarded-For, the client is the entry the outermost proxy appended; entries left of it are
    whatever the client sent, and never trusted. Without proxies: REMOTE_ADDR.
    """
    count = settings.RISK_REGISTRY_PROXY_COUNT
    if count > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            candidate = forwarded[-count]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass  # a proxy that does not append: count the request against the proxy itself
    return request.META.get("REMOTE_ADDR")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page of a locked login (django-axes' AXES_LOCKOUT_CALLABLE): 429, in the user's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
