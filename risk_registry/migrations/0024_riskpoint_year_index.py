"""One year's points newest first: the index ``riskpoint_year``.

A user who oversees a whole tree reads a page of the risk list by walking the ids backwards
(``selectors.walks_ids``). For the current year that finds the page in its first rows; for an
earlier year it passed every point of the later years first, and for a year without points it read
the whole table (province scale: 118–273 ms for ``/risks/?year=2025``). The index reads the year's
own range, newest first. The lists of a part of the tree use their own indexes and are unchanged.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0023_pointspread_sums_in_key_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(fields=["year", "id"], name="riskpoint_year"),
        ),
    ]
