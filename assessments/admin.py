from django.contrib import admin

from assessments.models import Cycle, Notification, Phase, ScanRun, SelfAssessment, Task, TaskNotice


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "year", "state", "tasks_generated_at"]
    list_filter = ["state", "year"]
    inlines = [PhaseInline]
    raw_id_fields = ["institution", "launched_by", "closed_by"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["key", "kind", "cycle", "institution", "owner", "due_on"]
    list_filter = ["kind"]
    raw_id_fields = ["cycle", "phase", "institution", "department", "position", "control", "owner"]
    search_fields = ["key"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "stage", "task_count", "source", "object_id", "created_at", "read_at", "email_status"]
    list_filter = ["stage", "email_status"]
    raw_id_fields = ["recipient", "scan"]


@admin.register(TaskNotice)
class TaskNoticeAdmin(admin.ModelAdmin):
    list_display = ["task", "stage", "scan", "recipients"]
    list_filter = ["stage"]
    raw_id_fields = ["task", "scan"]


@admin.register(ScanRun)
class ScanRunAdmin(admin.ModelAdmin):
    list_display = ["id", "as_of", "started_at", "finished_at", "tasks_considered", "notifications_created"]


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(admin.ModelAdmin):
    list_display = ["cycle", "institution", "submitted_by", "submitted_at"]
    raw_id_fields = ["cycle", "institution", "submitted_by"]
