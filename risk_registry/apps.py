from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskRegistryConfig(AppConfig):
    name = "risk_registry"
    verbose_name = _("Risk register")
