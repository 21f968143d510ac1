"""Configurable vocabularies (risk types, power categories): global defaults, per-institution overrides."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Vocabulary(models.Model):
    """A term an institution may replace with its own list.

    Rows with no institution are the defaults from the seeds. An institution that defines any term
    of a vocabulary uses only its own terms (see ``risk_registry.selectors.vocabulary_for``).
    """

    institution = models.ForeignKey(
        "risk_registry.Institution",
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
