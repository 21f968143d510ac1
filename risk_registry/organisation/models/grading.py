"""Grading schemes: likelihood × severity → level, per institution, with the seeds' presets."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext_lazy as _

from ..colours import DEFAULT_COLOUR, is_hex_colour, normalise_colour, readable_ink, validate_colour
from .organisation import Role


class Band(models.TextChoices):
    """The county-wide scale every scheme's levels map onto: 高 / 中 / 低 (configurable per level).

    Schemes disagree on what their labels mean (三级 is the most serious level of one scheme and the
    least of another), so anything spanning institutions compares bands and ranks, never labels.
    """

    HIGH = "high", _("High band")
    MEDIUM = "medium", _("Medium band")
    LOW = "low", _("Low band")


#: Sort order of the bands: the most serious first.
BAND_ORDER: dict[str, int] = {Band.HIGH: 1, Band.MEDIUM: 2, Band.LOW: 3}


def band_order_expression(field: str = "band") -> Case:
    """SQL for a band's sort order (1 = 高), e.g. ``order_by(band_order_expression("level__band"),
    "level__rank")``: the same order as ``GradeLevel.sort_key``."""
    return Case(
        *(When(**{field: band}, then=Value(order)) for band, order in BAND_ORDER.items()),
        default=Value(len(BAND_ORDER) + 1),
        output_field=IntegerField(),
    )


class GradingScheme(models.Model):
    """A likelihood scale, a severity scale, and a matrix mapping each pair to a level.

    The seeds disagree on scales (一级 highest, 三级 highest, A/B/C, four levels), so each
    institution adopts a copy of a preset (``institution`` null) and may adjust it. ``matrix`` has
    one row per likelihood (1 = lowest) and one column per severity (1 = lowest); each cell is a
    level code of this scheme.
    """

    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grading_schemes",
        verbose_name=_("institution"),
        help_text=_("Empty for the presets that institutions copy."),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    likelihood_labels = models.JSONField(_("likelihood scale"), default=list)
    severity_labels = models.JSONField(_("severity scale"), default=list)
    matrix = models.JSONField(_("matrix"), default=list)

    class Meta:
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")
        ordering = ["institution_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="scheme_unique_code"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(institution__isnull=True), name="scheme_unique_preset_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def level_code_for(self, likelihood: int, severity: int) -> str:
        """The level code for a (likelihood, severity) pair, both counted from 1."""
        if not 1 <= likelihood <= len(self.likelihood_labels):
            raise ValidationError(_("Likelihood must be between 1 and %(n)d.") % {"n": len(self.likelihood_labels)})
        if not 1 <= severity <= len(self.severity_labels):
            raise ValidationError(_("Severity must be between 1 and %(n)d.") % {"n": len(self.severity_labels)})
        return self.matrix[likelihood - 1][severity - 1]

    def clean(self) -> None:
        rows, columns = len(self.likelihood_labels), len(self.severity_labels)
        if rows < 2 or columns < 2:
            raise ValidationError(_("A scheme needs at least two likelihoods and two severities."))
        if len(self.matrix) != rows or any(len(row) != columns for row in self.matrix):
            raise ValidationError(_("The matrix must have one row per likelihood and one column per severity."))
        if self.pk:
            self.check_level_codes(self.levels.values_list("code", flat=True))

    def check_level_codes(self, codes) -> None:
        """Every cell of the matrix must name one of ``codes`` (the scheme's levels)."""
        unknown = {cell for row in self.matrix or [] for cell in row} - set(codes)
        if unknown:
            raise ValidationError(
                _("The matrix names unknown levels: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
            )


class GradeLevel(models.Model):
    """One level of a scheme. ``rank`` 1 is the most serious; ``supervisor_role`` watches it;
    ``band`` places it on the county-wide scale (see ``Band``, ``level_band``)."""

    scheme = models.ForeignKey(GradingScheme, on_delete=models.CASCADE, related_name="levels", verbose_name=_("scheme"))
    code = models.CharField(_("code"), max_length=16)
    name = models.CharField(_("name"), max_length=40)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the most serious level."))
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default=DEFAULT_COLOUR,
        validators=[validate_colour],
        help_text=_("#rgb or #rrggbb, stored as #rrggbb."),
    )
    supervisor_role = models.CharField(_("supervised by"), max_length=16, choices=Role.choices)
    supervision = models.CharField(_("supervision"), max_length=200, blank=True)
    band = models.CharField(
        _("band"),
        max_length=8,
        choices=Band.choices,
        help_text=_("Where this level sits on the county-wide scale (high, medium, low), whatever its label."),
    )

    class Meta:
        verbose_name = _("grade level")
        verbose_name_plural = _("grade levels")
        ordering = ["scheme_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="level_unique_code"),
            models.UniqueConstraint(fields=["scheme", "rank"], name="level_unique_rank"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The colour as lower-case ``#rrggbb`` (``#C00`` → ``#cc0000``); anything else is refused by
        the field's validator (``full_clean`` runs both). A level's colour is a badge's background:
        black or white text on it must reach WCAG's 4.5:1 (``organisation.colours``)."""
        try:
            self.colour = normalise_colour(self.colour)
        except ValidationError:
            return
        if is_hex_colour(self.colour) and readable_ink(self.colour) is None:
            raise ValidationError(
                {"colour": _("Neither black nor white text is readable on this colour (contrast below 4.5:1).")}
            )

    @property
    def band_order(self) -> int:
        """1 for 高, 2 for 中, 3 for 低."""
        return BAND_ORDER.get(self.band, len(BAND_ORDER) + 1)

    @property
    def sort_key(self) -> tuple[int, int]:
        """The order of seriousness across schemes: band first, then the level's rank."""
        return (self.band_order, self.rank)


def level_band(level: GradeLevel) -> tuple[Band, tuple[int, int]]:
    """A level's band and its sort key across schemes (band order, then rank; smaller = more serious)."""
    return Band(level.band), level.sort_key
