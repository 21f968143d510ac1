"""Filed register versions are frozen in the database too: a trigger refuses UPDATE and DELETE."""

from django.db import migrations

# Filed versions are insert-only at the database level too (PostgreSQL): no code path, admin or
# raw SQL by the application can alter a filed register.
FREEZE_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_version_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a filed register version is frozen and cannot be changed';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER risk_registry_version_frozen BEFORE UPDATE OR DELETE ON risk_registry_registerversion
    FOR EACH ROW EXECUTE FUNCTION risk_registry_version_frozen();
"""
UNFREEZE_SQL = """
DROP TRIGGER IF EXISTS risk_registry_version_frozen ON risk_registry_registerversion;
DROP FUNCTION IF EXISTS risk_registry_version_frozen();
"""


def freeze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FREEZE_SQL)


def unfreeze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNFREEZE_SQL)


class Migration(migrations.Migration):
    dependencies = [("risk_registry", "0001_initial")]

    operations = [migrations.RunPython(freeze, unfreeze)]
