"""Province scale (issue 11): a point's subtree by its own column, search by index, no duplicate indexes.

- ``institution_path``: the institution's materialised path on the point, filled here and then
  kept by PostgreSQL: a BEFORE trigger on the point's insert (and on an update naming the
  institution or the column), and an AFTER trigger on the institution's ``path``. The access
  module filters a subtree's points by a prefix of it (index ``riskpoint_scope``, read index-only),
  never through a join on the institution table that walked the whole table.
- Search: the ``pg_trgm`` extension (Debian's postgresql package ships it) with GIN trigram
  indexes on the upper-cased texts, which Django's ``icontains`` compares, for terms of three
  characters and more; for two-character terms, which trigrams cannot serve, the stored array of
  the texts' distinct two-character pieces (``risk_registry_bigrams``) with a GIN index.
- Duplicates dropped: the single-column indexes of ``institution``, ``department``, ``position``
  and ``level`` (each leads a composite index), both indexes of ``state`` (one a LIKE index no query
  uses; subtree lists read the state from ``riskpoint_scope``), and the boolean
  ``needs_regrading`` (a partial index of the flagged points by path replaces it).
"""

import django.contrib.postgres.fields
from django.contrib.postgres.operations import TrigramExtension
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The distinct two-character pieces of the two texts (each apart: no piece spans them).
BIGRAMS_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_bigrams(a text, b text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT piece), '{}'::text[]) FROM (
        SELECT substr(a, i, 2) AS piece FROM generate_series(1, length(a) - 1) AS i
        UNION ALL
        SELECT substr(b, i, 2) FROM generate_series(1, length(b) - 1) AS i
    ) AS pieces
$$;
"""
BACKFILL_SQL = """
UPDATE risk_registry_riskpoint AS p SET institution_path = i.path
FROM organisation_institution AS i WHERE i.id = p.institution_id;
"""
TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION risk_registry_point_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.institution_path := (SELECT path FROM organisation_institution WHERE id = NEW.institution_id);
    RETURN NEW;
END;
$$;
CREATE TRIGGER risk_registry_point_path
    BEFORE INSERT OR UPDATE OF institution_id, institution_path ON risk_registry_riskpoint
    FOR EACH ROW EXECUTE FUNCTION risk_registry_point_path();
CREATE OR REPLACE FUNCTION risk_registry_institution_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE risk_registry_riskpoint SET institution_path = NEW.path WHERE institution_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER risk_registry_institution_path
    AFTER UPDATE OF path ON organisation_institution
    FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION risk_registry_institution_path();
"""
TRIGRAM_SQL = """
CREATE INDEX riskpoint_description_trgm ON risk_registry_riskpoint USING gin (upper(description) gin_trgm_ops);
CREATE INDEX riskpoint_manifestation_trgm ON risk_registry_riskpoint USING gin (upper(manifestation) gin_trgm_ops);
"""
DROP_TRIGRAM_SQL = """
DROP INDEX IF EXISTS riskpoint_description_trgm;
DROP INDEX IF EXISTS riskpoint_manifestation_trgm;
"""
DROP_TRIGGERS_SQL = """
DROP TRIGGER IF EXISTS risk_registry_institution_path ON organisation_institution;
DROP FUNCTION IF EXISTS risk_registry_institution_path();
DROP TRIGGER IF EXISTS risk_registry_point_path ON risk_registry_riskpoint;
DROP FUNCTION IF EXISTS risk_registry_point_path();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0008_grade_level_colour_normalised"),
        ("positions", "0003_public_disclosure"),
        ("risk_registry", "0011_riskpoint_stored_control_quality"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Old indexes dropped first, the path filled before the rewrite of the generated column
        # (which leaves no dead rows of the fill behind), the new indexes built last.
        TrigramExtension(),
        migrations.RunSQL(BIGRAMS_SQL, "DROP FUNCTION IF EXISTS risk_registry_bigrams(text, text);"),
        migrations.AlterField(
            model_name="riskpoint",
            name="department",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_points",
                to="organisation.department",
                verbose_name="department",
            ),
        ),
        migrations.AlterField(
            model_name="riskpoint",
            name="institution",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_points",
                to="organisation.institution",
                verbose_name="institution",
            ),
        ),
        migrations.AlterField(
            model_name="riskpoint",
            name="level",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_points",
                to="organisation.gradelevel",
                verbose_name="level",
            ),
        ),
        migrations.AlterField(
            model_name="riskpoint",
            name="needs_regrading",
            field=models.BooleanField(default=False, verbose_name="needs re-grading"),
        ),
        migrations.AlterField(
            model_name="riskpoint",
            name="position",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="risk_points",
                to="positions.position",
                verbose_name="position",
            ),
        ),
        migrations.AlterField(
            model_name="riskpoint",
            name="state",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("submitted", "Submitted"),
                    ("reviewed", "Reviewed by department"),
                    ("defined", "Level defined"),
                    ("appraised", "Democratically appraised"),
                    ("approved", "Approved by leadership"),
                    ("in_notice", "In public notice"),
                    ("issued", "Issued"),
                ],
                default="draft",
                max_length=16,
                verbose_name="state",
            ),
        ),
        migrations.AddField(
            model_name="riskpoint",
            name="institution_path",
            field=models.CharField(default="", editable=False, max_length=255),
        ),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="riskpoint",
            name="search_bigrams",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(
                    models.F("description"), models.F("manifestation"), function="risk_registry_bigrams"
                ),
                output_field=django.contrib.postgres.fields.ArrayField(base_field=models.TextField(), size=None),
            ),
        ),
        migrations.RunSQL(TRIGGERS_SQL, DROP_TRIGGERS_SQL),
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                fields=["institution_path"],
                include=("year", "state", "id"),
                name="riskpoint_scope",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                condition=models.Q(("needs_regrading", True)),
                fields=["institution_path"],
                name="riskpoint_regrading",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="riskpoint",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_bigrams"], name="riskpoint_bigrams"),
        ),
        migrations.RunSQL(TRIGRAM_SQL, DROP_TRIGRAM_SQL),
    ]
