"""The demo county 云岭县 for ``python manage.py seed_demo``.

Data (``data/``, one module per institution), builder (``build.py``), output (``table.py``).
"""
