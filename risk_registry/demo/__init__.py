"""The demo county 云岭县 for ``python manage.py seed_demo``: data (data.py), builder (build.py), output (table.py)."""
