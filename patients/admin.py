from django.contrib import admin

from core.admin import HistoryAdmin, NoDeleteAdmin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin, HistoryAdmin):
    managers_may_edit = True
    list_display = ("record_number", "last_name", "first_name", "date_of_birth", "reminder_consent", "clinic")
    list_filter = ("clinic", "reminder_consent", "skin_type")
    list_select_related = ("clinic",)
    search_fields = ("record_number", "last_name", "first_name", "email")
    # Consent and email decide the reminder outbox; the staff pages change
    # them through sessions.patient_changes.update_patient, which re-plans it.
    readonly_fields = ("email", "reminder_consent", "reminder_consent_changed_at", "created_at")

    def has_add_permission(self, request):
        return False  # patients are registered in the staff pages or the API
