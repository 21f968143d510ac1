"""`make test`: the real PostgreSQL and Redis on this machine unless the environment names others."""

import os
import tempfile

from config.env import env
from config.services import broker_settings, database_settings

from .base import *  # noqa: F403
from .base import VAR_DIR

DATABASE_URL = env.url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/risk_registry")
REDIS_URL = env.url("REDIS_URL", default="redis://127.0.0.1:6379/15", schemes=("redis", "rediss"))
DATABASES = {"default": database_settings(DATABASE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = 0
_broker = broker_settings(REDIS_URL, str(VAR_DIR / "broker"))
CELERY_BROKER_URL = _broker.url
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options

SECRET_KEY = "test-only-key-" + "x" * 40
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests create many users
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Playwright's sync API runs an event loop in the test thread; the ORM calls of the live-server
# fixtures are still synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Report files of warning notices: a folder of the test run's own (one per process), never var/
RISK_REGISTRY_WARNING_FILES_DIR = env.string(
    "RISK_REGISTRY_WARNING_FILES_DIR", default=os.path.join(tempfile.gettempdir(), f"rr-warning-files-{os.getpid()}")
)
# Filed versions' kept PDFs (documents/filed.py): the test run's own folder too
RISK_REGISTRY_FILED_DIR = env.string(
    "RISK_REGISTRY_FILED_DIR", default=os.path.join(tempfile.gettempdir(), f"rr-filed-{os.getpid()}")
)
# Laid-out PDF parts are not kept (the tests of documents/part_cache.py turn it on in a folder of their own)
RISK_REGISTRY_PDF_PARTS_DIR = env.string("RISK_REGISTRY_PDF_PARTS_DIR", default="")
