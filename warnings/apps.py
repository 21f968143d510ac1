"""The warning ledger (预警信息台账) and dispositions. Imported as ``integrity_warnings``: see config/__init__.py."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityWarningsConfig(AppConfig):
    name = "integrity_warnings"
    verbose_name = _("Warnings")
