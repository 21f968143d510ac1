"""The spreads' key index carries their sums: ``pointspread_unique_key`` with ``INCLUDE``.

The oversight page groups a subtree's spread rows by band, type, power item and post kind. Without
the sums in the index PostgreSQL read the table for a city's 26,000 rows (19,000 pages: 47-55 ms at
province scale, the page's slowest query); with them the query is an index-only range scan (13 ms).
The same index, one more time the size of the sums: no second index for the triggers to keep. The
triggers' ``ON CONFLICT`` names the key columns, which are unchanged. Rebuilt in about 2 s on the
province's 345,000 rows, with the table locked meanwhile.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0022_riskpoint_bare_index"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="pointspread", name="pointspread_unique_key"),
        migrations.AddConstraint(
            model_name="pointspread",
            constraint=models.UniqueConstraint(
                fields=(
                    "institution_path",
                    "year",
                    "submitted",
                    "institution",
                    "level_band",
                    "risk_type",
                    "power_item",
                    "position_kind",
                ),
                include=(
                    "points",
                    "none_points",
                    "vague_points",
                    "regrade_points",
                    "new_points",
                    "raised_points",
                    "lowered_points",
                ),
                name="pointspread_unique_key",
                nulls_distinct=False,
                opclasses=["varchar_pattern_ops", "", "", "", "", "", "", ""],
            ),
        ),
    ]
