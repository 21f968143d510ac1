from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskRegistryConfig(AppConfig):
    name = "risk_registry"
    verbose_name = _("Risk register")

    def ready(self) -> None:
        # Importing the module connects its receiver (the inbox badge counted at login).
        from risk_registry.web import todo  # noqa: F401
