"""Site-wide middleware of the pages: Chinese first, no NUL bytes in the address, a fresh inbox
badge after the user's own writes.

Chinese first: the browser's Accept-Language does not override the product's default.

Government offices run browsers in many languages; the product speaks Simplified Chinese until
the user picks English in the language switcher (a cookie), whatever the browser asks for.
"""

from django.db import connection
from django.utils.translation import gettext as _

from risk_registry.web import todo
from risk_registry.web.params import BadParameter

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


class DefaultLanguageMiddleware:
    """Drop Accept-Language so LocaleMiddleware falls back to the cookie, then LANGUAGE_CODE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NulByteMiddleware:
    """400 for a NUL byte in the query string: PostgreSQL refuses it in text, and a search for it
    would otherwise end in a 500. Forms refuse it in posted text themselves (Django's CharField)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            raise BadParameter(_("The address contains a character that is not allowed (NUL)."))
        return self.get_response(request)


class FreshBadgeMiddleware:
    """A request by a signed-in user that wrote to the database (an ``INSERT``, ``UPDATE`` or
    ``DELETE`` other than the session's own) drops the inbox badge kept in the session
    (``todo.badge_of``): the page after the user's own action counts again. A request that wrote
    nothing — a refusal, a form sent back with its errors, a confirmation step — leaves the session
    row as it was (a refused request changes nothing). Only the methods that may write are watched
    (any but GET, HEAD, OPTIONS, TRACE: a GET never writes)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return self.get_response(request)
        writes = WriteWatch()
        with connection.execute_wrapper(writes):
            response = self.get_response(request)
        if writes.seen and request.user.is_authenticated:  # still signed in (not a logout)
            todo.forget_badge(request)
        return response


class WriteWatch:
    """An ``execute_wrapper`` that notes whether a statement wrote a row outside the sessions."""

    WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, execute, sql, params, many, context):
        if not self.seen:
            head = sql.lstrip()[:40].upper()
            self.seen = head.startswith(self.WRITES) and "DJANGO_SESSION" not in head
        return execute(sql, params, many, context)
