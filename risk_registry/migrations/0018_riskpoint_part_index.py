"""A city's points in id order: the index ``riskpoint_part`` on the path's first two levels and the id.

A city office's list and inbox read their newest points from it (``access.q_one_part``): the first
51 or 100 entries of the city's range, backwards and index-only, where ``riskpoint_scope``'s prefix
range had the city's 204,000 entries read and sorted (155 ms of the list's query at province scale,
load 8; 0.1 ms after). It carries the path, year, state and ``issued_before`` so that the visibility
filter is checked in the index. 23 s to build on the province's 2.26 million points (168 MB).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("risk_registry", "0017_riskpoint_level_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="riskpoint",
            index=models.Index(
                models.Func(
                    models.F("institution_path"),
                    models.Value("^/[0-9]+/[0-9]+/"),
                    function="substring",
                    output_field=models.CharField(),
                ),
                models.F("id"),
                include=("institution_path", "year", "state", "issued_before"),
                name="riskpoint_part",
            ),
        ),
    ]
