"""One state's points of a year, and the points under revision: indexes ``riskpoint_state`` and
``riskpoint_revising``.

The risk list's state filter, for an office that oversees a whole tree, walked the ids down from
the newest point: a state that holds none of the tree's points at the time (nothing is in public
notice before approval) read every point of the year to find none, and an office's "draft" filter
(the points under revision: it never sees a fresh draft) read the 226,000 fresh drafts of the
province and threw them away (1.8 s). ``selectors.risk_points_for_list`` says "under revision" in
the query so that the partial index serves it.

PostgreSQL takes a point's state and ``issued_before`` to be unrelated, so it expected a tenth of a
quarter of the points to be under revision (57,793 at province scale, for none) and walked the
state's index past every fresh draft instead of reading the partial index: the extended statistics
``riskpoint_state_issued`` (the most common pairs of the two) tell it how many there are.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0024_riskpoint_year_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(fields=["state", "year", "id"], name="riskpoint_state"),
        ),
        migrations.RunSQL(
            "CREATE STATISTICS riskpoint_state_issued (mcv) ON state, issued_before FROM risk_registry_riskpoint",
            "DROP STATISTICS riskpoint_state_issued",
        ),
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                condition=models.Q(("issued_before", True), ("state", "draft")),
                fields=["institution_path", "year", "id"],
                name="riskpoint_revising",
                opclasses=["varchar_pattern_ops", "int2_ops", "int8_ops"],
            ),
        ),
    ]
