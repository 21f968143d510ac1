"""The rank of the point a point was carried over from, stored on the point:
``RiskPoint.carried_from_rank``.

The dashboards' "raised" / "lowered" figures and the list's ``change=raised|lowered`` filter
compared ``carried_from__level__rank`` with the point's own level's rank: a self-join of the points
and a second join of the levels, about a quarter of the oversight page's grouped query over a
subtree's points. The rank is kept by PostgreSQL, like ``issued_before`` (0013), so that no writer
can forget it (a service, a bulk update, the year's rollover, an import, a seed):

- a BEFORE trigger on the point's insert, and on an update that names ``carried_from_id`` (every
  ``save()`` does), reads the source point's level's rank (NULL without a source);
- an AFTER trigger on an update that changes a point's ``level_id`` writes the new rank into the
  points carried from it;
- an AFTER trigger on an update that changes a level's ``rank`` writes it into the points carried
  from a point at that level.

Rows loaded with the triggers off (``seed_province`` runs COPY as a replica) are set by
``manage.py reconcile_stored``, which recomputes the column for every point.
"""

from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_point_carried_rank() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.carried_from_id IS NULL THEN
        NEW.carried_from_rank := NULL;
    ELSE
        NEW.carried_from_rank := (
            SELECT l.rank FROM risk_registry_riskpoint AS s
            JOIN organisation_gradelevel AS l ON l.id = s.level_id
            WHERE s.id = NEW.carried_from_id
        );
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER risk_registry_point_carried_rank
    BEFORE INSERT OR UPDATE OF carried_from_id ON risk_registry_riskpoint
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_carried_rank();

CREATE OR REPLACE FUNCTION risk_registry_point_level_to_carried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_registry_riskpoint AS p
    SET carried_from_rank = (SELECT l.rank FROM organisation_gradelevel AS l WHERE l.id = NEW.level_id)
    WHERE p.carried_from_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_point_level_to_carried
    AFTER UPDATE OF level_id ON risk_registry_riskpoint
    FOR EACH ROW WHEN (OLD.level_id IS DISTINCT FROM NEW.level_id)
    EXECUTE FUNCTION risk_registry_point_level_to_carried();

CREATE OR REPLACE FUNCTION risk_registry_level_rank_to_carried() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_registry_riskpoint AS p SET carried_from_rank = NEW.rank
    FROM risk_registry_riskpoint AS s
    WHERE s.level_id = NEW.id AND p.carried_from_id = s.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_level_rank_to_carried
    AFTER UPDATE OF rank ON organisation_gradelevel
    FOR EACH ROW WHEN (OLD.rank IS DISTINCT FROM NEW.rank)
    EXECUTE FUNCTION risk_registry_level_rank_to_carried();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS risk_registry_level_rank_to_carried ON organisation_gradelevel;
DROP FUNCTION IF EXISTS risk_registry_level_rank_to_carried();
DROP TRIGGER IF EXISTS risk_registry_point_level_to_carried ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_level_to_carried();
DROP TRIGGER IF EXISTS risk_registry_point_carried_rank ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_carried_rank();
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET carried_from_rank = l.rank
FROM risk_registry_riskpoint AS s JOIN organisation_gradelevel AS l ON l.id = s.level_id
WHERE p.carried_from_id = s.id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0008_grade_level_colour_normalised"),
        ("risk_registry", "0013_riskpoint_issued_before"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskpoint",
            name="carried_from_rank",
            field=models.PositiveSmallIntegerField(
                blank=True, editable=False, null=True, verbose_name="rank of the point carried from"
            ),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER_SQL, DROP_TRIGGER_SQL),
    ]
