"""Chinese first: the browser's Accept-Language does not override the product's default.

Government offices run browsers in many languages; the product speaks Simplified Chinese until
the user picks English in the language switcher (a cookie), whatever the browser asks for.
"""


class DefaultLanguageMiddleware:
    """Drop Accept-Language so LocaleMiddleware falls back to the cookie, then LANGUAGE_CODE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
