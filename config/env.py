"""The one place that reads the process environment, strictly.

Every variable the product reads is declared in ``VARIABLES`` with its kind; reading a name that
is not declared is a programming error (it catches typos in the settings), and a value that does
not parse is a configuration error with a message that names the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Variable:
    kind: str  # "str", "bool", "int", "list", "url"
    help: str


VARIABLES: dict[str, Variable] = {
    "DJANGO_SETTINGS_MODULE": Variable("str", "settings module (config.settings.local/production/test)"),
    "SECRET_KEY": Variable("str", "Django secret key; required in production"),
    "DEBUG": Variable("bool", "debug pages; never true in production"),
    "DATABASE_URL": Variable("url", "postgres://user@host:port/name or sqlite:///path"),
    "REDIS_URL": Variable("url", "redis://host:port/db for the Celery broker and cache"),
    "ALLOWED_HOSTS": Variable("list", "comma-separated host names the site answers to"),
    "CSRF_TRUSTED_ORIGINS": Variable("list", "comma-separated https:// origins behind a proxy"),
    "EMAIL_HOST": Variable("str", "SMTP server; without it e-mail is written to the console"),
    "EMAIL_PORT": Variable("int", "SMTP port"),
    "EMAIL_HOST_USER": Variable("str", "SMTP user"),
    "EMAIL_HOST_PASSWORD": Variable("str", "SMTP password"),
    "EMAIL_USE_TLS": Variable("bool", "STARTTLS to the SMTP server"),
    "DEFAULT_FROM_EMAIL": Variable("str", "sender address of notifications"),
    "SECURE_SSL_REDIRECT": Variable("bool", "redirect http to https (off when a proxy does it)"),
    "RISK_REGISTRY_BROKER_DIR": Variable("str", "folder of the server-less broker used without REDIS_URL"),
    "RISK_REGISTRY_WARNING_FILES_DIR": Variable(
        "str", "folder of the files attached to warning reports, outside the web root (default var/warning-files)"
    ),
    "RISK_REGISTRY_ATTACHMENTS_DIR": Variable(
        "str", "folder of the decisions' attachments (meeting minutes), outside the web root; back it up"
    ),
    "RISK_REGISTRY_LOGIN_FAILURE_LIMIT": Variable(
        "int", "failed logins per account and per address before the login is locked (default 10)"
    ),
    "RISK_REGISTRY_LOGIN_COOLOFF_MINUTES": Variable("int", "minutes a locked login stays locked (default 15)"),
    "RISK_REGISTRY_PROXY_COUNT": Variable(
        "int", "reverse proxies in front of the web processes that append to X-Forwarded-For (default 0)"
    ),
    "RISK_REGISTRY_SESSION_IDLE_MINUTES": Variable("int", "minutes without a request that end a session (default 30)"),
    "RISK_REGISTRY_ROTATION_YEARS": Variable(
        "int", "key posts held longer than this many years are listed for rotation (default 5)"
    ),
    "RISK_REGISTRY_EXPORT_KEEP_DAYS": Variable(
        "int", "days a finished export's file is kept in var/exports before housekeeping removes it (default 7)"
    ),
    "RISK_REGISTRY_UPLOAD_KEEP_HOURS": Variable(
        "int", "hours an import upload waits for its confirmation before housekeeping removes it (default 24)"
    ),
    "RISK_REGISTRY_FILED_DIR": Variable("str", "folder of the filed versions' kept PDFs (default var/filed)"),
    "RISK_REGISTRY_PDF_PARTS_DIR": Variable(
        "str",
        "folder of the laid-out parts of long PDFs, kept by their HTML's SHA-256 (default var/pdf-parts; empty: off)",
    ),
    "RISK_REGISTRY_PDF_PARTS_KEEP_DAYS": Variable(
        "int", "days a laid-out PDF part unused is kept before housekeeping removes it (default 7)"
    ),
    "RISK_REGISTRY_PDF_PARTS_MAX_BYTES": Variable(
        "int", "bytes of laid-out PDF parts kept; housekeeping removes the least recently used beyond (default 512 MiB)"
    ),
    "RISK_REGISTRY_RULE_FILES_DIR": Variable("str", "folder of the files attached to rules (default var/rule-files)"),
    "RISK_REGISTRY_SESSION_ABSOLUTE_HOURS": Variable("int", "hours after login that end a session (default 12)"),
    "SESSION_EXPIRE_AT_BROWSER_CLOSE": Variable("bool", "the session cookie ends with the browser (default true)"),
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_MISSING = object()


class Env:
    """Typed access to the environment; ``source`` is injectable for tests."""

    def __init__(self, source: Mapping[str, str] | None = None) -> None:
        self._source = os.environ if source is None else source

    def _raw(self, name: str, expected_kind: str) -> str | None:
        variable = VARIABLES.get(name)
        if variable is None:
            raise ImproperlyConfigured(f"{name} is not a declared environment variable (config/env.py)")
        if variable.kind != expected_kind:
            raise ImproperlyConfigured(f"{name} is declared as {variable.kind}, read as {expected_kind}")
        value = self._source.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def string(self, name: str, default: object = _MISSING) -> str:
        value = self._raw(name, "str")
        return self._default(name, default) if value is None else value

    def boolean(self, name: str, default: object = _MISSING) -> bool:
        value = self._raw(name, "bool")
        if value is None:
            return self._default(name, default)
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false")

    def integer(self, name: str, default: object = _MISSING) -> int:
        value = self._raw(name, "int")
        if value is None:
            return self._default(name, default)
        try:
            return int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None

    def strings(self, name: str, default: object = _MISSING) -> list[str]:
        value = self._raw(name, "list")
        if value is None:
            return self._default(name, default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(self, name: str, default: object = _MISSING, schemes: tuple[str, ...] = ()) -> str:
        value = self._raw(name, "url")
        if value is None:
            return self._default(name, default)
        scheme = urlsplit(value).scheme
        if not scheme or (schemes and scheme not in schemes):
            allowed = ", ".join(schemes) or "any scheme"
            raise ImproperlyConfigured(f"{name}={value!r} is not a URL with {allowed}")
        return value

    @staticmethod
    def _default(name: str, default: object):
        if default is _MISSING:
            raise ImproperlyConfigured(f"{name} must be set in the environment")
        return default


env = Env()
