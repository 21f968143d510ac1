"""Production: PostgreSQL, Redis, HTTPS. Every secret comes from the environment, none has a default."""

from config.env import env

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env.string("SECRET_KEY")
DATABASES = {"default": database_settings(env.url("DATABASE_URL", schemes=("postgres", "postgresql")))}  # noqa: F405

# Several web and worker machines share one broker: the folder broker of base.py would split them.
_broker = broker_settings(env.url("REDIS_URL", schemes=("redis", "rediss")), str(VAR_DIR / "broker"))  # noqa: F405
CELERY_BROKER_URL = _broker.url
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options

SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
