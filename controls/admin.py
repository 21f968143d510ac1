"""Admin for controls and rules."""

from django.contrib import admin

from controls.models import Control, Rule


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows rows; adds, changes and deletes nothing (the services do, audited)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(ReadOnlyAdmin):
    """Read-only: rules are recorded, revised and repealed on the rule catalogue's pages, whose
    services audit each change and flag the points of the controls resting on the rule."""

    list_display = ("title", "document_number", "institution", "effective_on", "revised_on", "repealed_on")
    search_fields = ("title",)
    raw_id_fields = ("institution", "department")


@admin.register(Control)
class ControlAdmin(ReadOnlyAdmin):
    """Read-only: a control is written with its draft point, or after 审定 through a reviewed revision
    (``risk_registry.workflow.revisions``); an edit here would change an approved point's controls in
    place, unaudited."""

    list_display = ("measure", "line", "owner", "frequency", "risk_point")
    list_filter = ("line", "frequency")
    raw_id_fields = ("risk_point", "rule")
