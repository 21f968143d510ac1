"""The open holdings of a set of posts, read from one index: ``holding_open``.

The rotation form lists a bureau's current holdings (1,100 at province scale) and a form names the
holders of an institution's posts (``access.people_of``); PostgreSQL, pricing that many probes of
the posts' index above one pass over the table, read every holding of the province (527,000:
30–45 ms); from this partial, covering index the same rows take about 6 ms.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("positions", "0003_public_disclosure"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="holding",
            index=models.Index(
                condition=models.Q(("ended_on__isnull", True)),
                fields=["position"],
                include=("id", "user", "started_on"),
                name="holding_open",
            ),
        ),
    ]
