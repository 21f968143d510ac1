"""The seeds' defaults: four grading presets, risk types and power categories (see presets.py)."""

from django.db import migrations

from risk_registry.presets import GRADING_PRESETS, POWER_CATEGORIES, RISK_TYPES


def create_defaults(apps, schema_editor):
    GradingScheme = apps.get_model("risk_registry", "GradingScheme")
    GradeLevel = apps.get_model("risk_registry", "GradeLevel")
    RiskType = apps.get_model("risk_registry", "RiskType")
    PowerCategory = apps.get_model("positions", "PowerCategory")
    for preset in GRADING_PRESETS:
        scheme, created = GradingScheme.objects.get_or_create(
            institution=None,
            code=preset["code"],
            defaults={
                "name": preset["name"],
                "description": preset["description"],
                "source": preset["source"],
                "likelihood_labels": preset["likelihood"],
                "severity_labels": preset["severity"],
                "matrix": preset["matrix"],
            },
        )
        if created:
            for level in preset["levels"]:
                GradeLevel.objects.create(scheme=scheme, **level)
    for order, (code, name) in enumerate(RISK_TYPES, start=1):
        RiskType.objects.get_or_create(institution=None, code=code, defaults={"name": name, "order": order})
    for order, (code, name) in enumerate(POWER_CATEGORIES, start=1):
        PowerCategory.objects.get_or_create(institution=None, code=code, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0001_initial"),
        ("positions", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
