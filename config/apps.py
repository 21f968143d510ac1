"""The project's own app: it only connects the signal receivers of config/security.py."""

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "config"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        # Importing the module connects its receivers (Django's documented place for it).
        from config import security  # noqa: F401
