from django.contrib import admin

# Users, wards, reference ranges and their pending changes: the system administrator's.
from . import sysadmin  # noqa: F401
from .models import AuditEvent, SecurityEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is never edited or deleted, here or anywhere."""

    list_display = (
        "seq",
        "at",
        "actor_username",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "app_version",
    )
    list_filter = ("action",)
    search_fields = ("actor_username", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only: written by core/security_log.py, pruned by age (never edited by hand)."""

    list_display = ("at", "kind", "username", "client_ip", "path", "count")
    list_filter = ("kind",)
    search_fields = ("username", "client_ip")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
