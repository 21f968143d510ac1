"""Risk points (廉政风险点) and the configurable risk types."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

# The first two levels of a materialised path ("/1/2/" of "/1/2/15/40/", NULL for "/1/"): a city's
# part of the province. Its index ``riskpoint_part`` keeps a city's points in id order.
PART_DEPTH = 2
_PART_PATTERN = "^/[0-9]+/[0-9]+/"


def path_part(column: str = "institution_path") -> Func:
    """``column``'s first ``PART_DEPTH`` levels, written exactly as the index ``riskpoint_part``
    says it (PostgreSQL uses an expression index only for the same expression)."""
    return Func(F(column), Value(_PART_PATTERN), function="substring", output_field=models.CharField())


class FoundBy(models.TextChoices):
    """How a point was found (seeds: 自己找、群众提、互相查、领导点、组织评)."""

    SELF = "self", _("Self-check")
    PUBLIC = "public", _("Raised by the public")
    PEERS = "peers", _("Cross-check by colleagues")
    LEADERS = "leaders", _("Pointed out by leaders")
    ORGANISATION = "organisation", _("Organisational review")
    UNRECORDED = "unrecorded", _("Not recorded")  # an imported register that does not say


class RiskPointState(models.TextChoices):
    """Workflow states of a point, from self-report to filing (transitions: the workflow issue)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    REVIEWED = "reviewed", _("Reviewed by department")
    DEFINED = "defined", _("Level defined")
    APPRAISED = "appraised", _("Democratically appraised")
    APPROVED = "approved", _("Approved by leadership")
    IN_NOTICE = "in_notice", _("In public notice")
    ISSUED = "issued", _("Issued")


class RiskPoint(models.Model):
    """What could go wrong, where, how likely and how serious, and its derived level.

    ``institution`` is stored even though the department implies it: every list is scoped by
    institution, and at province size (2 million points) that filter must hit an index without a
    join. ``level`` is derived from the institution's grading scheme by the services, never typed.
    """

    # The foreign keys that lead a composite index below have no index of their own (a duplicate).
    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("institution"),
        db_index=False,
    )
    # The institution's materialised path, kept by the database (a trigger on insert and update, and
    # on the institution's own path; see migration 0010): a subtree's points are a prefix range of
    # one index, never a join walked through the whole table. Never written by the application.
    institution_path = models.CharField(max_length=255, editable=False, default="")
    department = models.ForeignKey(
        "organisation.Department",
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("department"),
        db_index=False,
    )
    position = models.ForeignKey(
        "positions.Position",
        db_index=False,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("position"),
    )
    power_item = models.ForeignKey(
        "positions.PowerItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("power item"),
    )
    process_step = models.ForeignKey(
        "positions.ProcessStep",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("process step"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    risk_type = models.ForeignKey(
        "organisation.RiskType", on_delete=models.PROTECT, related_name="+", verbose_name=_("risk type")
    )
    found_by = models.CharField(_("how found"), max_length=16, choices=FoundBy.choices, default=FoundBy.SELF)
    description = models.TextField(_("risk description"))
    manifestation = models.TextField(_("manifestation"), blank=True)
    likelihood = models.PositiveSmallIntegerField(_("likelihood"), null=True, blank=True)
    severity = models.PositiveSmallIntegerField(_("severity"), null=True, blank=True)
    graded_directly = models.BooleanField(
        _("graded directly"),
        default=False,
        help_text=_(
            "The level was decided directly (直接定级, as published registers do), without likelihood and "
            "severity; assessing them later grades the point by the matrix."
        ),
    )
    level = models.ForeignKey(
        "organisation.GradeLevel",
        on_delete=models.PROTECT,
        related_name="risk_points",
        verbose_name=_("level"),
        db_index=False,
    )
    state = models.CharField(_("state"), max_length=16, choices=RiskPointState.choices, default=RiskPointState.DRAFT)
    # Kept by PostgreSQL (trigger ``risk_registry_point_issued``, migration 0013): set when the
    # point's state becomes issued, never cleared. A draft that carries it is a point reopened for
    # revision (修订中): it stays in the sight of those who read it when it was issued
    # (``access.risk_points_visible_to``); only a never-issued draft is private to its author.
    issued_before = models.BooleanField(_("issued before"), default=False, db_default=False, editable=False)
    notes = models.TextField(
        _("notes"), blank=True, help_text=_("Columns of an imported register that have no field of their own.")
    )
    head_in_charge = models.CharField(_("department head in charge"), max_length=100, blank=True)
    leader_in_charge = models.CharField(_("supervising leader"), max_length=100, blank=True)
    import_order = models.PositiveIntegerField(
        _("row in the imported file"), null=True, blank=True, editable=False, help_text="Keeps the file's row order."
    )
    carried_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carried_to",
        verbose_name=_("carried over from"),
        help_text=_("Last year's point this one was carried over from for re-checking (PDCA)."),
    )
    # Kept by PostgreSQL (triggers of migration 0014): the rank of ``carried_from``'s level, so that
    # "raised" / "lowered" compare two columns of the point instead of joining the point it came
    # from (the dashboards' grouped query, the list's ``change`` filter). ``reconcile_stored``
    # recomputes it for rows written with the triggers off (COPY as a replica).
    carried_from_rank = models.PositiveSmallIntegerField(
        _("rank of the point carried from"), null=True, blank=True, editable=False
    )
    carried_unfiled = models.BooleanField(
        _("carried from an unfiled register"),
        default=False,
        help_text=_(
            "Carried over from a register that was never filed: the year was closed by force, and this "
            "point is its last approved state."
        ),
    )
    needs_regrading = models.BooleanField(_("needs re-grading"), default=False)
    regrading_reason = models.CharField(_("re-grading reason"), max_length=255, blank=True)
    version = models.PositiveIntegerField(
        _("version"),
        default=0,
        editable=False,
        help_text="Bumped by every write (edit, transition, accepted proposal): a stale form is refused.",
    )
    # Stored control quality (``controls.services.control_quality_refresh``, one UPDATE on every
    # change of the point's controls; ``manage.py reconcile_stored`` recomputes every point): how
    # many controls the point has, and how many of them ``controls.quality`` finds vague.
    controls_count = models.PositiveIntegerField(_("controls"), default=0, db_default=0, editable=False)
    vague_controls = models.PositiveIntegerField(_("vague controls"), default=0, db_default=0, editable=False)
    # Kept by PostgreSQL (triggers of migration 0016): the kind of the post ("" for a department's
    # point), so that the oversight page's grouped query needs no join of the posts.
    position_kind = models.CharField(
        _("kind of the post"), max_length=16, blank=True, default="", db_default="", editable=False
    )
    # Kept by PostgreSQL (trigger of migration 0015, a recount on every write of a run;
    # ``reconcile_stored`` recounts every point): the runs of the point's controls dated in the
    # point's year, what the oversight dashboard's comparison sums per institution.
    control_runs = models.PositiveIntegerField(
        _("control runs recorded in the year"), default=0, db_default=0, editable=False
    )
    # Kept by PostgreSQL (triggers of migration 0017; ``reconcile_stored`` recomputes them): the
    # level's band, rank and scheme, so that the oversight page's grouped query reads the figures'
    # index alone, with no join of the levels.
    level_band = models.CharField(
        _("band of the level"), max_length=8, blank=True, default="", db_default="", editable=False
    )
    level_rank = models.PositiveSmallIntegerField(_("rank of the level"), default=0, db_default=0, editable=False)
    level_scheme_id = models.BigIntegerField(_("scheme of the level"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The text's distinct two-character pieces (risk_registry_bigrams, migration 0010), computed by
    # the database: a two-character Chinese search term (审批, 收费) is one GIN lookup; terms of
    # three and more use the trigram indexes of the two texts.
    search_bigrams = models.GeneratedField(
        expression=Func(F("description"), F("manifestation"), function="risk_registry_bigrams"),
        output_field=ArrayField(models.TextField()),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("risk point")
        verbose_name_plural = _("risk points")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["institution", "year", "-id"], name="riskpoint_inst_year"),
            # One year's points newest first, for a user who oversees a whole tree (the list walks
            # the ids, ``selectors.walks_ids``): walking the primary key instead passes every point
            # of the later years first, and all of them for a year without points.
            models.Index(fields=["year", "id"], name="riskpoint_year"),
            # One state's points of a year newest first: the list's state filter. A state may hold
            # none of a tree's points for months (nothing is in public notice before approval), and
            # a walk of the ids would then read every point of the year to find none.
            models.Index(fields=["state", "year", "id"], name="riskpoint_state"),
            # The points under revision (修订中), what an office's "draft" filter shows
            # (``access.sees_fresh_drafts``): a few among the fresh drafts it never sees.
            # Keyed on the path like the scope, so that a part of the tree reads its own few (with the
            # year first, PostgreSQL, which prices a partial index by its condition as though state
            # and issued_before were unrelated, read a city's 226,000 entries of the figures instead).
            models.Index(
                fields=["institution_path", "year", "id"],
                opclasses=["varchar_pattern_ops", "int2_ops", "int8_ops"],
                condition=Q(state="draft", issued_before=True),
                name="riskpoint_revising",
            ),
            models.Index(fields=["department", "-id"], name="riskpoint_department"),
            models.Index(fields=["position", "-id"], name="riskpoint_position"),
            models.Index(fields=["level", "-id"], name="riskpoint_level"),
            # A city's points newest first (``access.q_one_part`` says a city office's scope as this
            # expression, added by the list and the inbox): their 51 and 100 newest are the first
            # entries of the city's range, read backwards, index-only, instead of its 204,000
            # entries of ``riskpoint_scope`` read and sorted (a part of the tree one level deeper, a
            # county's 20,000, is still read and sorted).
            models.Index(
                path_part(),
                F("id"),
                include=["institution_path", "year", "state", "issued_before"],
                name="riskpoint_part",
            ),
            # A subtree's points (access.risk_points_visible_to: a prefix range, read index-only) and,
            # of a year, as the oversight page groups them (dashboards.Groups):
            # every column it reads, so that a city's 200,000 points are an index-only range scan.
            # Neither the year first nor the institution's id in it: with either, PostgreSQL took it
            # for queries that name institutions by id (all 2 million entries read index-only
            # instead of those institutions' few). Groups reads the institution from the path.
            models.Index(
                fields=["institution_path", "year"],
                opclasses=["varchar_pattern_ops", "int2_ops"],
                include=[
                    "state",
                    "issued_before",
                    "id",
                    "level_id",
                    "risk_type_id",
                    "power_item_id",
                    "position_kind",
                    "controls_count",
                    "vague_controls",
                    "needs_regrading",
                    "carried_from_id",
                    "carried_from_rank",
                    "control_runs",
                    "level_band",
                    "level_rank",
                    "level_scheme_id",
                ],
                name="riskpoint_figures",
            ),
            models.Index(
                fields=["institution_path"],
                opclasses=["varchar_pattern_ops"],
                condition=Q(needs_regrading=True),
                name="riskpoint_regrading",
            ),
            # A register's points without a control, newest first (the quality report lists 20):
            # only such points are in it, so a register where every point has one is answered from
            # an empty range instead of reading its thousands of points to find none.
            models.Index(fields=["institution", "year", "-id"], condition=Q(controls_count=0), name="riskpoint_bare"),
            GinIndex(fields=["search_bigrams"], name="riskpoint_bigrams"),
            # And two trigram GIN indexes on UPPER(description) and UPPER(manifestation), what
            # icontains compares: created by migration 0010 in SQL (Django's GinIndex cannot say it).
            # And the partial indexes of the points raised and lowered against their source
            # (``riskpoint_raised``, ``riskpoint_lowered``): migration 0026, in SQL (``IS TRUE``).
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(graded_directly=True) | models.Q(likelihood__isnull=False, severity__isnull=False),
                name="riskpoint_graded",
                violation_error_message="A point is graded by likelihood and severity, or directly.",
            )
        ]

    def __str__(self) -> str:
        return self.description[:40]

    @property
    def under_revision(self) -> bool:
        """Reopened for revision (修订中): a draft again after it had been issued."""
        return self.state == RiskPointState.DRAFT and self.issued_before

    @property
    def state_label(self) -> str:
        """The state as users read it: a reopened point is 修订中, not a fresh 草稿."""
        if self.under_revision:
            return str(_("Under revision"))
        # The choice's own label: ``get_state_display`` rebuilds the field's choices on every call,
        # which a list of 100 rows felt.
        try:
            return str(RiskPointState(self.state).label)
        except ValueError:
            return self.state

    @property
    def is_editable_draft(self) -> bool:
        return self.state == RiskPointState.DRAFT
