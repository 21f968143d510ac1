from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from risk_registry.organisation import work


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Cycles and assessments")

    def ready(self) -> None:
        # the stored completion of tasks follows the work written by the layers below (docs/cycle.md)
        work.listen("assessments.completion.work_changed")
