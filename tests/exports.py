"""The POST an export form sends: its form and format, and the list's filters as one query string."""

from __future__ import annotations

from django.utils.http import urlencode


def as_export_post(query: dict) -> dict:
    filters = {key: value for key, value in query.items() if key not in ("form", "format")}
    return {
        "form": query.get("form", "overview"),
        "format": query.get("format", "xlsx"),
        "filters": urlencode(filters, doseq=True),
    }
