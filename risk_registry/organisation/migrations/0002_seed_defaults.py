"""The seeds' defaults: four grading presets, risk types and power categories (see presets.py)."""

from django.db import migrations

from risk_registry.organisation.presets import install_defaults


def create_defaults(apps, schema_editor):
    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0001_initial"),
        ("positions", "0001_initial"),  # power categories are a vocabulary of the positions app
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
