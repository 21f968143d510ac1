"""Admin for controls and rules."""

from django.contrib import admin

from controls.models import Control, Rule


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("title", "document_number", "institution", "effective_on")
    search_fields = ("title",)
    raw_id_fields = ("institution",)


@admin.register(Control)
class ControlAdmin(admin.ModelAdmin):
    list_display = ("measure", "line", "owner", "frequency", "risk_point")
    list_filter = ("line", "frequency")
    raw_id_fields = ("risk_point", "rule")
