"""The tasks' tallies (``TaskTally``): rebuilt from the tasks by ``manage.py reconcile_stored``.

PostgreSQL's statement triggers keep them (migration 0009); this is for rows written with the
triggers off (``seed_province``'s COPY as a replica) and to check that nothing drifted.
"""

from __future__ import annotations

from risk_registry.organisation.tallies import tallies_rebuild

# The tallies as the tasks say they are: one row per cycle, institution, year, due date and filing.
COMPUTED = """
    SELECT cycle_id, institution_id, year, due_on, kind = 'register_file' AS filing,
           count(*) AS total, count(*) FILTER (WHERE done) AS done
    FROM assessments_task GROUP BY 1, 2, 3, 4, 5
"""
# Tallies at zero are the same as none (a cascade or a deletion writes them down to zero).
STALE = f"""
    SELECT count(*) FROM ({COMPUTED}) AS c
    FULL OUTER JOIN (SELECT * FROM assessments_tasktally WHERE total <> 0 OR done <> 0) AS t
      USING (cycle_id, institution_id, year, due_on, filing)
    WHERE c.total IS DISTINCT FROM t.total OR c.done IS DISTINCT FROM t.done
"""  # noqa: S608 (constants only)
REBUILD = f"""
    DELETE FROM assessments_tasktally;
    INSERT INTO assessments_tasktally (cycle_id, institution_id, year, due_on, filing, total, done) {COMPUTED};
"""  # noqa: S608 (constants only)


def task_tallies_rebuild() -> int:
    """Rebuild every tally from the tasks (locked against writes meanwhile); returns how many
    tallies were stale (0: nothing changed)."""
    return tallies_rebuild("assessments_task", stale_sql=STALE, rebuild_sql=REBUILD)
