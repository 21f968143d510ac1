"""Configurable vocabularies (risk types, power categories): global defaults, per-institution overrides."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Vocabulary(models.Model):
    """A term an institution may replace with its own list.

    Rows with no institution are the defaults from the seeds. An institution that defines any term
    of a vocabulary uses only its own terms (see ``risk_registry.selectors.vocabulary_for``).
    """

    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("institution"),
        help_text=_("Empty for the defaults every institution starts with."),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class RiskType(Vocabulary):
    """思想道德风险, 制度机制风险, 岗位职责风险 … (configurable; seeded with the seeds' defaults)."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("risk type")
        verbose_name_plural = _("risk types")
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="risktype_unique_code"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(institution__isnull=True), name="risktype_unique_default_code"
            ),
        ]
