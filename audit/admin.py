from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Shown, never changed or deleted (the staff page /audit/ has filters and CSV)."""

    list_display = ("at", "username", "action", "object_type", "object_id", "patient_ref", "ip", "clinic")
    list_filter = ("action", "clinic")
    search_fields = ("username", "object_id", "summary")
    date_hierarchy = "at"

    def get_actions(self, request):
        return {}  # not even "delete selected"
