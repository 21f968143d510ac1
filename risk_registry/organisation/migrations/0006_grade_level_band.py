"""Every grade level gets a band on the county-wide scale 高 / 中 / 低.

Existing levels (the presets and every institution's copy) are filled by rank with
``presets.default_band``: in each scheme the most serious level is high, the least serious low,
every level between them medium.
"""

from django.db import migrations, models

from risk_registry.organisation.presets import default_band


def fill_bands(apps, schema_editor):
    GradeLevel = apps.get_model("organisation", "GradeLevel")
    by_scheme: dict[int, list] = {}
    for level in GradeLevel.objects.order_by("scheme_id", "rank"):
        by_scheme.setdefault(level.scheme_id, []).append(level)
    changed = []
    for levels in by_scheme.values():
        for position, level in enumerate(levels, start=1):
            level.band = default_band(position, len(levels))
            changed.append(level)
    GradeLevel.objects.bulk_update(changed, ["band"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0005_audit_entry_private_and_time"),
    ]

    operations = [
        migrations.AddField(
            model_name="gradelevel",
            name="band",
            field=models.CharField(
                choices=[("high", "High band"), ("medium", "Medium band"), ("low", "Low band")],
                default="medium",
                help_text="Where this level sits on the county-wide scale (high, medium, low), whatever its label.",
                max_length=8,
                verbose_name="band",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_bands, migrations.RunPython.noop),
    ]
