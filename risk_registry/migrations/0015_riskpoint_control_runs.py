"""The control runs recorded in a point's year, stored on the point: ``RiskPoint.control_runs``.

The oversight dashboard's comparison counts, per institution, the runs dated in the year of the
controls of the year's points. Grouped at request time this joined the runs of the year to every
control and point (a city of the province: 2 million controls scanned, 4 s); stored on the point it
is one more sum in the per-institution grouping the page makes anyway (``dashboards.Groups``).
Kept by PostgreSQL, like ``issued_before`` (0013) and ``carried_from_rank`` (0014), so that no
writer can forget it: an AFTER trigger on every insert, delete or update of a run recounts the
runs of the point its control belongs to (a recount, not an increment: safe to repeat, and exact
whatever the statement did). Rows loaded with the triggers off (``seed_province``'s COPY) are
counted by ``manage.py reconcile_stored``.
"""

from django.db import migrations, models

RUNS_OF_POINT = """(
    SELECT count(*) FROM controls_controlrun AS r JOIN controls_control AS c ON c.id = r.control_id
    WHERE c.risk_point_id = p.id
      AND r.ran_on >= make_date(p.year::int, 1, 1) AND r.ran_on < make_date(p.year::int + 1, 1, 1)
)"""
TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION risk_registry_point_runs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    controls bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        controls := ARRAY[NEW.control_id];
    ELSIF TG_OP = 'DELETE' THEN
        controls := ARRAY[OLD.control_id];
    ELSE
        controls := ARRAY[OLD.control_id, NEW.control_id];
    END IF;
    UPDATE risk_registry_riskpoint AS p SET control_runs = {RUNS_OF_POINT}
    WHERE p.id IN (SELECT c.risk_point_id FROM controls_control AS c WHERE c.id = ANY(controls));
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_point_runs
    AFTER INSERT OR DELETE OR UPDATE OF control_id, ran_on ON controls_controlrun
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_runs();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS risk_registry_point_runs ON controls_controlrun;
DROP FUNCTION IF EXISTS risk_registry_point_runs();
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET control_runs = counted.runs
FROM (
    SELECT c.risk_point_id AS id, count(*) AS runs
    FROM controls_controlrun AS r JOIN controls_control AS c ON c.id = r.control_id
    JOIN risk_registry_riskpoint AS q ON q.id = c.risk_point_id
    WHERE r.ran_on >= make_date(q.year::int, 1, 1) AND r.ran_on < make_date(q.year::int + 1, 1, 1)
    GROUP BY c.risk_point_id
) AS counted
WHERE p.id = counted.id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("controls", "0005_control_revision"),
        ("risk_registry", "0014_riskpoint_carried_from_rank"),
    ]

    operations = [
        migrations.AddField(
            model_name="riskpoint",
            name="control_runs",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="control runs recorded in the year"
            ),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER_SQL, DROP_TRIGGER_SQL),
    ]
