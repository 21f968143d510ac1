"""The kind of a point's post stored on the point (``RiskPoint.position_kind``), and an index that
holds every column the oversight page groups a subtree's points by (``riskpoint_figures``).

The oversight page counts a subtree's points by band, risk type, power category and position kind,
with what to watch and the per-institution figures, in one grouped query. For a city of the
province (204,000 of 2.2 million points) that query read the whole table (2.9 GB: the points are
wide, with their texts and search bigrams) and hashed all 527,000 posts for their kind: 3 s. With
the kind on the point and every grouped column in an index on the institution's path and the
year, it is an index-only range scan of the subtree's entries and a hash of the levels. The path
leads and the institution's id is not in it (the grouped query reads it from the path): with
either, PostgreSQL took the index for other queries of a year that name institutions by id
(every entry of the year read, index-only, instead of those institutions' few).

The kind is kept by PostgreSQL, like ``carried_from_rank`` (0014): a BEFORE trigger on a point's
insert or a change of its ``position_id`` reads the post's kind ("" for a department's point); an AFTER trigger on a change of
a post's kind writes it into the post's points. ``reconcile_stored`` recomputes it.
"""

from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_point_position_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.position_kind := COALESCE((SELECT kind FROM positions_position WHERE id = NEW.position_id), '');
    RETURN NEW;
END;
$$;
CREATE TRIGGER risk_registry_point_position_kind
    BEFORE INSERT OR UPDATE OF position_id ON risk_registry_riskpoint
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_position_kind();

CREATE OR REPLACE FUNCTION risk_registry_position_kind_to_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_registry_riskpoint SET position_kind = NEW.kind WHERE position_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_position_kind_to_points
    AFTER UPDATE OF kind ON positions_position
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION risk_registry_position_kind_to_points();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS risk_registry_position_kind_to_points ON positions_position;
DROP FUNCTION IF EXISTS risk_registry_position_kind_to_points();
DROP TRIGGER IF EXISTS risk_registry_point_position_kind ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_position_kind();
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET position_kind = pos.kind
FROM positions_position AS pos WHERE pos.id = p.position_id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("positions", "0003_public_disclosure"),
        ("risk_registry", "0015_riskpoint_control_runs"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskpoint",
            name="position_kind",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=16, verbose_name="kind of the post"
            ),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER_SQL, DROP_TRIGGER_SQL),
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                fields=["institution_path", "year"],
                include=(
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
                ),
                name="riskpoint_figures",
                opclasses=["varchar_pattern_ops", "int2_ops"],
            ),
        ),
    ]
