"""Notifications of the cycle's tasks become digests: one per recipient, kind of stage and scan,
listing its tasks; the per-task record of a stage sent (and to whom) moves to TaskNotice.

Rows written before are converted in place: each (task, stage) sent becomes a TaskNotice with its
recipients, and each old notification a digest of its one task (``remind-<d>`` → ``remind``)."""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TO_DIGESTS = """
INSERT INTO assessments_tasknotice (task_id, stage, scan_id, recipients)
SELECT task_id, stage, MIN(scan_id), ARRAY_AGG(recipient_id::bigint ORDER BY recipient_id)
FROM assessments_notification WHERE task_id IS NOT NULL GROUP BY task_id, stage;
UPDATE assessments_notification
SET task_ids = ARRAY[task_id]::bigint[], task_count = 1,
    stage = CASE WHEN stage LIKE 'remind-%%' THEN 'remind' ELSE stage END
WHERE task_id IS NOT NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_task_stored_done"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stage", models.CharField(max_length=16, verbose_name="stage")),
                (
                    "recipients",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), size=None, verbose_name="recipients"
                    ),
                ),
                (
                    "scan",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="assessments.scanrun",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notices",
                        to="assessments.task",
                        verbose_name="task",
                    ),
                ),
            ],
            options={"verbose_name": "task notice", "verbose_name_plural": "task notices"},
        ),
        migrations.AddConstraint(
            model_name="tasknotice",
            constraint=models.UniqueConstraint(fields=("task", "stage"), name="tasknotice_unique_stage"),
        ),
        migrations.AddField(
            model_name="notification",
            name="task_count",
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name="tasks"),
        ),
        migrations.AddField(
            model_name="notification",
            name="task_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), blank=True, default=list, size=None, verbose_name="tasks listed"
            ),
        ),
        migrations.RunSQL(TO_DIGESTS, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="notification", name="notification_unique_stage"),
        migrations.RemoveConstraint(model_name="notification", name="notification_unique_source_stage"),
        migrations.RemoveConstraint(model_name="notification", name="notification_task_or_source"),
        migrations.RemoveField(model_name="notification", name="task"),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source", ""), _negated=True),
                fields=("source", "object_id", "due_on", "recipient", "stage"),
                name="notification_unique_source_stage",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("object_id__isnull", True), ("source", ""), ("task_count__gt", 0)),
                    models.Q(
                        ("due_on__isnull", False),
                        ("object_id__isnull", False),
                        ("task_count", 0),
                        models.Q(("source", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="notification_digest_or_source",
            ),
        ),
    ]
