"""The deadline scan's reconciliation reads a slice of a cycle's tasks by id modulo the slices
(``assessments.models.RECONCILE_SLICES``) on this index instead of filtering every task of the cycle."""

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assessments", "0009_task_cycle_institution_covering")]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                models.F("cycle"),
                django.db.models.expressions.CombinedExpression(models.F("id"), "%%", models.Value(12)),
                name="task_cycle_slice",
            ),
        ),
    ]
