"""The points graded more or less serious than the point they were carried from: partial indexes
``riskpoint_raised`` and ``riskpoint_lowered``, and the statistics ``riskpoint_rank_moves``.

The oversight dashboard links its "raised" and "lowered" figures to the risk list
(``?change=raised``). For the province's office the list walked the ids down through every point
(4 s; a city's office 0.4 s): PostgreSQL estimates a comparison of two columns
(``carried_from_rank > level_rank``) as a third of the rows, whatever they hold, so it expected to
find a page at once. The list says the condition as ``(…) IS TRUE`` (``selectors.RANK_MOVES``),
which PostgreSQL estimates from the statistics of the expression, and each index holds only such
points, keyed on the path like the scope so that a part of the tree reads its own.

Written in SQL: a model's ``Index.condition`` cannot say ``IS TRUE`` of a comparison.
"""

from django.db import migrations

SQL = """
CREATE STATISTICS riskpoint_rank_moves ON (carried_from_rank > level_rank), (carried_from_rank < level_rank)
    FROM risk_registry_riskpoint;
CREATE INDEX riskpoint_raised ON risk_registry_riskpoint (institution_path varchar_pattern_ops, year, id)
    WHERE (carried_from_rank > level_rank) IS TRUE;
CREATE INDEX riskpoint_lowered ON risk_registry_riskpoint (institution_path varchar_pattern_ops, year, id)
    WHERE (carried_from_rank < level_rank) IS TRUE;
"""
REVERSE_SQL = """
DROP INDEX IF EXISTS riskpoint_lowered;
DROP INDEX IF EXISTS riskpoint_raised;
DROP STATISTICS IF EXISTS riskpoint_rank_moves;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0025_riskpoint_state_indexes"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
