"""The band, rank and scheme of a point's level stored on the point (``RiskPoint.level_band``,
``level_rank``, ``level_scheme_id``), and in the oversight page's index (``riskpoint_figures``).

The oversight page's one grouped query (``dashboards.Groups``) counts a subtree's points by band,
with the per-institution figures by band and scheme and "raised" / "lowered" against the level's
rank: after 0014–0016 it was an index-only range scan of the subtree's entries and a hash join with
every level (a province: 32,534), about half of its time for a city's 204,000 points. With the
three on the point and in the index, the query reads the index alone.

They are kept by PostgreSQL, like ``carried_from_rank`` (0014) and ``position_kind`` (0016), so that
no writer can forget them:

- a BEFORE trigger on the point's insert, and on an update that names ``level_id`` (every
  ``save()`` and every regrade does), reads the level's band, rank and scheme;
- an AFTER trigger on an update that changes a level's band, rank or scheme (the scheme editor
  changes bands: ``services.grading_scheme_edit``) writes them into the level's points.

``reconcile_stored`` recomputes them for rows written with the triggers off (COPY as a replica).

The backfill is one UPDATE of every point (each row is rewritten, with its entries in every
index): the figures' index is dropped before it and built again, with the three, after it, so
that the UPDATE does not also write entries into it.
"""

from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_point_level_figures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT l.band, l.rank, l.scheme_id INTO NEW.level_band, NEW.level_rank, NEW.level_scheme_id
    FROM organisation_gradelevel AS l WHERE l.id = NEW.level_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER risk_registry_point_level_figures
    BEFORE INSERT OR UPDATE OF level_id ON risk_registry_riskpoint
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_level_figures();

CREATE OR REPLACE FUNCTION risk_registry_level_figures_to_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_registry_riskpoint
    SET level_band = NEW.band, level_rank = NEW.rank, level_scheme_id = NEW.scheme_id
    WHERE level_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_level_figures_to_points
    AFTER UPDATE OF band, rank, scheme_id ON organisation_gradelevel
    FOR EACH ROW WHEN (
        OLD.band IS DISTINCT FROM NEW.band
        OR OLD.rank IS DISTINCT FROM NEW.rank
        OR OLD.scheme_id IS DISTINCT FROM NEW.scheme_id
    )
    EXECUTE FUNCTION risk_registry_level_figures_to_points();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS risk_registry_level_figures_to_points ON organisation_gradelevel;
DROP FUNCTION IF EXISTS risk_registry_level_figures_to_points();
DROP TRIGGER IF EXISTS risk_registry_point_level_figures ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_level_figures();
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET level_band = l.band, level_rank = l.rank, level_scheme_id = l.scheme_id
FROM organisation_gradelevel AS l WHERE l.id = p.level_id;
"""
FIGURES = (
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
)


def figures_index(*extra: str) -> models.Index:
    return models.Index(
        fields=["institution_path", "year"],
        include=FIGURES + extra,
        name="riskpoint_figures",
        opclasses=["varchar_pattern_ops", "int2_ops"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0008_grade_level_colour_normalised"),
        ("risk_registry", "0016_riskpoint_position_kind_figures_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="riskpoint", name="riskpoint_figures"),
        migrations.AddField(
            model_name="riskpoint",
            name="level_band",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=8, verbose_name="band of the level"
            ),
        ),
        migrations.AddField(
            model_name="riskpoint",
            name="level_rank",
            field=models.PositiveSmallIntegerField(
                db_default=0, default=0, editable=False, verbose_name="rank of the level"
            ),
        ),
        migrations.AddField(
            model_name="riskpoint",
            name="level_scheme_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True, verbose_name="scheme of the level"),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER_SQL, DROP_TRIGGER_SQL),
        migrations.AddIndex(
            model_name="riskpoint", index=figures_index("level_band", "level_rank", "level_scheme_id")
        ),
    ]
