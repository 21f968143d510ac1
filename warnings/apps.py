"""The warning ledger (预警信息台账) and dispositions. Imported as ``integrity_warnings``: see config/__init__.py."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from risk_registry.workflow import deadlines


class IntegrityWarningsConfig(AppConfig):
    name = "integrity_warnings"
    verbose_name = _("Warnings")

    def ready(self) -> None:
        # the response deadlines of notices go through the one deadline scan (docs/warnings.md)
        deadlines.register("integrity_warnings.deadlines.notice_deadlines")
