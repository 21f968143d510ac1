"""The risk points' tallies per institution and year (``PointTally``), kept by PostgreSQL."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from risk_registry.organisation.tallies import tallies_rebuild

# "Submitted" as ``access.risk_points_visible_to`` says it for the offices and the leadership: out
# of draft, or issued once and reopened for revision. One expression for the triggers and the rebuild.
SUBMITTED_SQL = "(state <> 'draft' OR issued_before)"
KEY = "institution_id, year, level_band, level_scheme_id, submitted"
# The tallies as the points say they are.
COMPUTED = f"""
    SELECT institution_id, year, level_band, level_scheme_id, {SUBMITTED_SQL} AS submitted,
           count(*) AS total, sum(controls_count) AS controls, sum(control_runs) AS runs
    FROM risk_registry_riskpoint GROUP BY 1, 2, 3, 4, 5
"""  # noqa: S608 (constants only)
# Tallies at zero are the same as none (a deletion writes them down to zero).
STALE = f"""
    SELECT count(*) FROM ({COMPUTED}) AS c
    FULL OUTER JOIN (SELECT * FROM risk_registry_pointtally WHERE total <> 0) AS t
      ON (c.institution_id, c.year, c.level_band, c.submitted) = (t.institution_id, t.year, t.level_band, t.submitted)
     AND c.level_scheme_id IS NOT DISTINCT FROM t.level_scheme_id
    WHERE c.total IS DISTINCT FROM t.total OR c.controls IS DISTINCT FROM t.controls
       OR c.runs IS DISTINCT FROM t.runs
"""  # noqa: S608 (constants only)
REBUILD = f"""
    DELETE FROM risk_registry_pointtally;
    INSERT INTO risk_registry_pointtally ({KEY}, total, controls, runs) {COMPUTED};
"""  # noqa: S608 (constants only)


class PointTally(models.Model):
    """How many risk points an institution has in a year per band and scheme of their levels, and
    whether they are submitted (what the offices and the leadership read of it), with their stored
    controls and control runs summed: the oversight page's figures per institution without reading
    every point (a city of the province: about 3,000 tallies for 204,000 points).

    Kept by PostgreSQL (statement triggers on ``risk_registry_riskpoint``, migration 0020): every
    insert, update and delete of points adds its rows' figures, grouped, so that no writer can forget
    it (a service, a bulk update, a cascade, the register import's COPY, the triggers that store the
    points' level, controls and runs). ``manage.py reconcile_stored`` rebuilds it from the points (a
    COPY with the triggers off needs it). No foreign key is enforced: a tally at zero counts nothing.
    """

    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique key starts with it
        related_name="+",
        verbose_name=_("institution"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    level_band = models.CharField(_("band of the level"), max_length=8, blank=True, default="")
    level_scheme_id = models.BigIntegerField(_("scheme of the level"), null=True, blank=True)
    submitted = models.BooleanField(_("submitted"))
    total = models.IntegerField(_("risk points"), default=0)
    controls = models.IntegerField(_("controls"), default=0)
    runs = models.IntegerField(_("control runs recorded in the year"), default=0)

    class Meta:
        verbose_name = _("risk point tally")
        verbose_name_plural = _("risk point tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "year", "level_band", "level_scheme_id", "submitted"],
                name="pointtally_unique_key",
                nulls_distinct=False,  # a point without a level's scheme has one tally, not one per write
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.year} {self.level_band}: {self.total}"


def point_tallies_rebuild() -> int:
    """Rebuild every tally from the points (locked against writes meanwhile); returns how many
    tallies were stale (0: nothing changed)."""
    return tallies_rebuild("risk_registry_riskpoint", stale_sql=STALE, rebuild_sql=REBUILD)


# The charts' tallies (``PointSpread``): the oversight page's distributions and what to watch, per
# institution, year, submitted or not and every chart's key as the point stores it (its power item,
# whose category the page reads through it: a change of an item's category moves no tally).
SPREAD_KEY = "institution_path, year, submitted, institution_id, level_band, risk_type_id, power_item_id, position_kind"
# What to watch as ``dashboards.WATCHED`` says it, one 0/1 per point (NULL ranks compare as false).
SPREAD_SUMS = {
    "none_points": "controls_count = 0",
    "vague_points": "vague_controls > 0",
    "regrade_points": "needs_regrading",
    "new_points": "carried_from_id IS NULL",
    "raised_points": "COALESCE(carried_from_rank > level_rank, false)",
    "lowered_points": "COALESCE(carried_from_rank < level_rank, false)",
}
# The key less the power item, which may be NULL (joined apart, as NULLs never compare equal).
SPREAD_JOINED = [name for name in SPREAD_KEY.split(", ") if name != "power_item_id"]
SPREAD_COMPUTED = f"""
    SELECT institution_path, year, {SUBMITTED_SQL} AS submitted, institution_id, level_band, risk_type_id,
           power_item_id, position_kind, count(*) AS points,
           {", ".join(f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in SPREAD_SUMS.items())}
    FROM risk_registry_riskpoint GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""  # noqa: S608 (constants only)
SPREAD_STALE = f"""
    SELECT count(*) FROM ({SPREAD_COMPUTED}) AS c
    FULL OUTER JOIN (SELECT * FROM risk_registry_pointspread WHERE points <> 0) AS t
      ON ({", ".join(f"c.{name}" for name in SPREAD_JOINED)}) = ({", ".join(f"t.{name}" for name in SPREAD_JOINED)})
     AND c.power_item_id IS NOT DISTINCT FROM t.power_item_id
    WHERE c.points IS DISTINCT FROM t.points
       OR {" OR ".join(f"c.{name} IS DISTINCT FROM t.{name}" for name in SPREAD_SUMS)}
"""  # noqa: S608 (constants only)
SPREAD_REBUILD = f"""
    DELETE FROM risk_registry_pointspread;
    INSERT INTO risk_registry_pointspread ({SPREAD_KEY}, points, {", ".join(SPREAD_SUMS)}) {SPREAD_COMPUTED};
"""  # noqa: S608 (constants only)


class PointSpread(models.Model):
    """How many risk points an institution has in a year per chart key of the oversight page (the
    band, risk type, power item and post kind stored on the point), submitted or not, with what to
    watch counted (without controls, with a vague control, to re-grade, new, raised, lowered): the
    page's charts of a subtree without reading its points (a city of the province: about 26,000
    rows for 204,000 points). The power category is the item's, read through ``power_item``: a
    change of an item's category moves no row, and an item in use cannot be deleted (PROTECT).

    Keyed by the point's own copy of its institution's path (``institution_path``): a subtree is
    one range of the key, and a move of an institution (the points' paths rewritten) moves its
    rows. Kept by PostgreSQL as ``PointTally`` is (statement triggers on the points, migration
    0021), rebuilt by ``manage.py reconcile_stored``.
    """

    institution_path = models.CharField(_("path"), max_length=255)
    year = models.PositiveSmallIntegerField(_("year"))
    submitted = models.BooleanField(_("submitted"))
    institution = models.ForeignKey(
        "organisation.Institution",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("institution"),
    )
    level_band = models.CharField(_("band of the level"), max_length=8, blank=True, default="")
    risk_type = models.ForeignKey(
        "organisation.RiskType",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("risk type"),
    )
    power_item = models.ForeignKey(
        "positions.PowerItem",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("power item"),
    )
    position_kind = models.CharField(_("kind of the post"), max_length=16, blank=True, default="")
    points = models.IntegerField(_("risk points"), default=0)
    none_points = models.IntegerField(_("without controls"), default=0)
    vague_points = models.IntegerField(_("with a vague control"), default=0)
    regrade_points = models.IntegerField(_("flagged for re-grading"), default=0)
    new_points = models.IntegerField(_("new"), default=0)
    raised_points = models.IntegerField(_("raised"), default=0)
    lowered_points = models.IntegerField(_("lowered"), default=0)

    class Meta:
        verbose_name = _("risk point spread")
        verbose_name_plural = _("risk point spreads")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "institution_path",
                    "year",
                    "submitted",
                    "institution",
                    "level_band",
                    "risk_type",
                    "power_item",
                    "position_kind",
                ],
                name="pointspread_unique_key",
                nulls_distinct=False,  # points without a power item have one row, not one per write
                opclasses=["varchar_pattern_ops", "", "", "", "", "", "", ""],  # a subtree: a range of it
                # The sums too, so that the oversight page's grouped query over a subtree reads this
                # index alone: a city's 26,000 rows were 19,000 pages of the table read for them
                # (47-55 ms at province scale; 13 ms index-only).
                include=["points", *SPREAD_SUMS],
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_path} {self.year} {self.level_band}: {self.points}"


def point_spreads_rebuild() -> int:
    """Rebuild every spread row from the points (locked against writes meanwhile); returns how many
    were stale (0: nothing changed)."""
    return tallies_rebuild("risk_registry_riskpoint", stale_sql=SPREAD_STALE, rebuild_sql=SPREAD_REBUILD)
