"""Admin for positions, holdings and the power inventory."""

from django.contrib import admin

from positions.models import Holding, Position, PowerCategory, PowerItem, ProcessStep


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ("title", "department", "institution", "kind", "is_key_post")
    list_filter = ("kind", "is_key_post")
    search_fields = ("title",)
    raw_id_fields = ("institution", "department")


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):
    """Read-only here: holdings start and end through services, which grant and revoke permissions."""

    list_display = ("user", "position", "started_on", "ended_on")
    raw_id_fields = ("user", "position")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProcessStepInline(admin.TabularInline):
    model = ProcessStep
    extra = 0


@admin.register(PowerItem)
class PowerItemAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "institution", "department")
    search_fields = ("name",)
    raw_id_fields = ("institution", "department", "positions")
    inlines = [ProcessStepInline]


@admin.register(PowerCategory)
class PowerCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "institution", "order", "is_active")
    raw_id_fields = ("institution",)
