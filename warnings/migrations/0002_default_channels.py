"""The default warning channels of the seeds (integrity_warnings.presets)."""

from django.db import migrations

from integrity_warnings.presets import install_default_channels


def forwards(apps, schema_editor):
    install_default_channels(apps)


class Migration(migrations.Migration):
    dependencies = [("integrity_warnings", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
