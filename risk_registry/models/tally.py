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
