"""A grade level's colour is ``#rrggbb`` in lower case (see ``organisation/colours.py``).

Existing levels are normalised (``#C00`` → ``#cc0000``); a colour that is not ``#rgb`` or
``#rrggbb`` becomes the hex value of the CSS name it spells, if it is one of the basic names
(``red`` → ``#ff0000``), else the safe default grey ``#999999``. Each level changed that way is
reported on the migration's output (scheme, level, old value, new value).
"""

import sys

from django.core.exceptions import ValidationError
from django.db import migrations, models

import risk_registry.organisation.colours
from risk_registry.organisation.colours import DEFAULT_COLOUR, normalise_colour

# The CSS basic colour names, so that "red" keeps meaning red.
BASIC_NAMES = {
    "black": "#000000",
    "silver": "#c0c0c0",
    "gray": "#808080",
    "grey": "#808080",
    "white": "#ffffff",
    "maroon": "#800000",
    "red": "#ff0000",
    "purple": "#800080",
    "fuchsia": "#ff00ff",
    "green": "#008000",
    "lime": "#00ff00",
    "olive": "#808000",
    "yellow": "#ffff00",
    "navy": "#000080",
    "blue": "#0000ff",
    "teal": "#008080",
    "aqua": "#00ffff",
    "orange": "#ffa500",
}


def fixed_colour(value: str) -> tuple[str, bool]:
    """The normalised colour, and whether ``value`` was not a colour at all (then reported)."""
    try:
        return normalise_colour(value), False
    except ValidationError:
        return BASIC_NAMES.get((value or "").strip().lower(), DEFAULT_COLOUR), True


def normalise_colours(apps, schema_editor):
    GradeLevel = apps.get_model("organisation", "GradeLevel")
    changed = []
    for level in GradeLevel.objects.select_related("scheme").order_by("pk"):
        new, invalid = fixed_colour(level.colour)
        if new == level.colour:
            continue
        if invalid:
            sys.stdout.write(
                f"\n  grade level {level.pk} ({level.scheme.name} / {level.name}): "
                f"colour {level.colour!r} is not #rgb or #rrggbb, set to {new}"
            )
        level.colour = new
        changed.append(level)
    GradeLevel.objects.bulk_update(changed, ["colour"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0007_preset_sources_and_or_preset"),
    ]

    operations = [
        migrations.AlterField(
            model_name="gradelevel",
            name="colour",
            field=models.CharField(
                default="#999999",
                help_text="#rgb or #rrggbb, stored as #rrggbb.",
                max_length=7,
                validators=[risk_registry.organisation.colours.validate_colour],
                verbose_name="colour",
            ),
        ),
        migrations.RunPython(normalise_colours, migrations.RunPython.noop),
    ]
