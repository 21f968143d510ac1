"""A point reopened for revision (修订中) stays in sight: ``RiskPoint.issued_before``.

The flag is kept by PostgreSQL, so that no writer can forget it (a workflow step, a bulk update, a
seed): a BEFORE trigger on the point's insert and update sets it when the state is ``issued`` and
never lets it fall back once set (a save() of a stale instance writes the column too). The
backfill marks the points issued now and those reopened from issue before this migration (their
``risk_point.revise`` or ``risk_point.issue`` audit entries). ``riskpoint_scope`` carries the flag
beside the state, so the access module's subtree filter stays an index-only range.
"""

from django.conf import settings
from django.db import migrations, models

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_point_issued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'issued' THEN
        NEW.issued_before := true;
    ELSIF TG_OP = 'UPDATE' AND OLD.issued_before THEN
        NEW.issued_before := true;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER risk_registry_point_issued
    BEFORE INSERT OR UPDATE ON risk_registry_riskpoint
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_issued();
"""
DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS risk_registry_point_issued ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_issued();
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET issued_before = true
WHERE p.state = 'issued' OR EXISTS (
    SELECT 1 FROM organisation_auditentry AS a
    WHERE a.target_type = 'risk_registry.riskpoint' AND a.target_id = p.id
      AND a.action IN ('risk_point.issue', 'risk_point.revise')
);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0008_grade_level_colour_normalised"),
        ("positions", "0003_public_disclosure"),
        ("risk_registry", "0012_point_scope_path_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="riskpoint",
            name="riskpoint_scope",
        ),
        migrations.AddField(
            model_name="riskpoint",
            name="issued_before",
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name="issued before"),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(TRIGGER_SQL, DROP_TRIGGER_SQL),
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                fields=["institution_path"],
                include=("year", "state", "issued_before", "id"),
                name="riskpoint_scope",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
    ]
