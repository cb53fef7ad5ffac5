from django.contrib import admin

from .models import AuditEvent, ReferenceRange


@admin.register(ReferenceRange)
class ReferenceRangeAdmin(admin.ModelAdmin):
    list_display = ("lab", "analyte", "sex", "lower", "upper", "unit")
    list_filter = ("lab", "analyte")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is never edited or deleted, here or anywhere."""

    list_display = ("seq", "at", "actor_username", "action", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("actor_username", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
