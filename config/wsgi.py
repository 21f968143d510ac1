"""WSGI entry point (gunicorn config.wsgi): the application, then the worker's memory settled
(``config.process``: loaded once, frozen out of the garbage collector's walks)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

from config.process import settle  # noqa: E402 - needs the settings and apps loaded above

settle()
