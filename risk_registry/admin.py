"""Admin for the organisation, grading, vocabularies and the (read-only) audit trail."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from risk_registry.models import DecisionRules, RiskPoint
from risk_registry.organisation.models import (
    AuditEntry,
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    RiskType,
)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "parent", "depth")
    search_fields = ("name", "code")
    list_filter = ("kind",)
    readonly_fields = ("path", "depth")
    raw_id_fields = ("parent",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "institution", "kind", "order")
    search_fields = ("name", "institution__name")
    raw_id_fields = ("institution",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "institution", "role", "department")
    list_filter = ("role",)
    search_fields = ("user__username", "institution__name")
    raw_id_fields = ("user", "institution", "department")


class GradeLevelFormSet(BaseInlineFormSet):
    """Check the matrix against the levels being saved with it (the scheme's own clean() can only
    see levels already in the database)."""

    def clean(self):
        super().clean()
        codes = {
            form.cleaned_data["code"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("code")
        }
        self.instance.check_level_codes(codes)


class GradeLevelInline(admin.TabularInline):
    model = GradeLevel
    formset = GradeLevelFormSet
    extra = 0


@admin.register(GradingScheme)
class GradingSchemeAdmin(admin.ModelAdmin):
    """Presets (no institution) are read-only: institutions adopt copies of them, taken from
    risk_registry/presets.py, so an edit here would silently not reach anyone."""

    list_display = ("name", "code", "institution")
    inlines = [GradeLevelInline]
    raw_id_fields = ("institution",)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.institution_id is None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.institution_id is None:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(RiskType)
class RiskTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "institution", "order", "is_active")
    raw_id_fields = ("institution",)


@admin.register(RiskPoint)
class RiskPointAdmin(admin.ModelAdmin):
    list_display = ("id", "description", "institution", "department", "level", "state", "year")
    list_filter = ("state", "year")
    search_fields = ("description",)
    raw_id_fields = ("institution", "department", "position", "power_item", "process_step", "created_by")
    list_select_related = ("institution", "department", "level")
    show_full_result_count = False


@admin.register(DecisionRules)
class DecisionRulesAdmin(admin.ModelAdmin):
    """For the site's administrators; a discipline office sets its rules on the register page
    (audited there through ``registers.decision_rules_update``)."""

    list_display = ("institution", "team_size", "quorum", "majority", "updated_at")
    raw_id_fields = ("institution",)
    list_select_related = ("institution",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "actor_kind", "action", "target_type", "target_id", "institution", "summary")
    list_filter = ("action", "actor_kind")
    list_select_related = ("actor", "institution")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
