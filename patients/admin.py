from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _

from core.admin import HistoryAdmin, NoDeleteAdmin

from .models import Patient


class PatientAdminForm(forms.ModelForm):
    def clean_record_number(self):
        # The clinic is not a field of a manager's form, so Django's own
        # unique check skips the (clinic, record_number) constraint and the
        # database would answer with an error page instead.
        number = self.cleaned_data["record_number"]
        clinic_id = self.instance.clinic_id
        if clinic_id and Patient.objects.filter(clinic_id=clinic_id, record_number=number).exclude(
            pk=self.instance.pk
        ).exists():
            raise forms.ValidationError(_("A patient with this record number already exists."))
        return number


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin, HistoryAdmin):
    form = PatientAdminForm
    managers_may_edit = True
    list_display = ("record_number", "last_name", "first_name", "date_of_birth", "reminder_consent", "clinic")
    list_filter = ("clinic", "reminder_consent", "skin_type")
    list_select_related = ("clinic",)
    search_fields = ("record_number", "last_name", "first_name", "email")
    # Consent and email decide the reminder outbox; the staff pages change
    # them through sessions.patients.changes.update_patient, which re-plans it.
    readonly_fields = ("email", "reminder_consent", "reminder_consent_changed_at", "created_at")

    def has_add_permission(self, request):
        return False  # patients are registered in the staff pages or the API
