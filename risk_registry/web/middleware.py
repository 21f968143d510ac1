"""Site-wide middleware of the pages: Chinese first, no NUL bytes in the address, a fresh inbox
badge after the user's own writes.

Chinese first: the browser's Accept-Language does not override the product's default.

Government offices run browsers in many languages; the product speaks Simplified Chinese until
the user picks English in the language switcher (a cookie), whatever the browser asks for.
"""

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
    """A request that may write (any method but GET, HEAD, OPTIONS, TRACE) by a signed-in user
    drops the inbox badge kept in the session (``todo.badge_of``): the page after the user's own
    action counts again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS and request.user.is_authenticated:
            todo.forget_badge(request)
        return self.get_response(request)
