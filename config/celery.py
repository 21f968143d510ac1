"""The Celery app: a worker and exactly one beat, configured from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("risk_registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
