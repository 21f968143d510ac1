"""Warning grades become the county's own scale (integrity_warnings.models.WarningGrade).

The fixed 1/2/3 integer grade of every item moves, without loss, to the default scale's level of the
same rank (一级/二级/三级, bands 高/中/低): no institution had a scale of its own before."""

import django.db.models.deletion
from django.db import migrations, models

from integrity_warnings.presets import install_default_grades


def forwards(apps, schema_editor):
    # the items' rows are updated before the ALTERs below in this one transaction: check the new
    # foreign key at once so PostgreSQL holds no pending trigger event when the table is altered
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    install_default_grades(apps)
    grade = apps.get_model("integrity_warnings", "WarningGrade")
    item = apps.get_model("integrity_warnings", "WarningItem")
    by_rank = dict(grade.objects.filter(institution__isnull=True).values_list("rank", "pk"))
    for rank, pk in by_rank.items():  # three levels: one UPDATE each, not one per item
        item.objects.filter(grade=rank).update(grade_level_id=pk)
    left = item.objects.filter(grade_level__isnull=True).values_list("number", "grade")
    if left:
        raise RuntimeError(f"warning items with a grade outside 1–3: {list(left)[:10]}")


def backwards(apps, schema_editor):
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    item = apps.get_model("integrity_warnings", "WarningItem")
    for row in item.objects.values("pk", "grade_level__rank").iterator():
        item.objects.filter(pk=row["pk"]).update(grade=min(row["grade_level__rank"], 3))


class Migration(migrations.Migration):
    dependencies = [
        ("integrity_warnings", "0003_report_attachments"),
        ("organisation", "0008_grade_level_colour_normalised"),
    ]

    operations = [
        migrations.CreateModel(
            name="WarningGrade",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("label", models.CharField(max_length=20, verbose_name="label")),
                ("rank", models.PositiveSmallIntegerField(verbose_name="rank (1 = most serious)")),
                (
                    "band",
                    models.CharField(
                        choices=[("high", "High band"), ("medium", "Medium band"), ("low", "Low band")],
                        max_length=8,
                        verbose_name="county-wide band",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="organisation.institution",
                        verbose_name="institution",
                    ),
                ),
            ],
            options={
                "verbose_name": "warning grade",
                "verbose_name_plural": "warning grades",
                "ordering": ["rank", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        deferrable=models.Deferrable["DEFERRED"],
                        fields=("institution", "rank"),
                        name="warninggrade_unique_rank",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("institution__isnull", True)),
                        fields=("rank",),
                        name="warninggrade_unique_default_rank",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="warningitem",
            name="grade_level",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="integrity_warnings.warninggrade",
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="warningitem", name="grade"),
        migrations.RenameField(model_name="warningitem", old_name="grade_level", new_name="grade"),
        migrations.AlterField(
            model_name="warningitem",
            name="grade",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="integrity_warnings.warninggrade",
                verbose_name="grade",
            ),
        ),
    ]
