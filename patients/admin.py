from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from clinics.admin import NoDeleteAdmin, ReadOnlyAdmin
from sessions.models import Session

from .models import Enrolment, Patient


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
            raise forms.ValidationError("A patient with this record number already exists.")
        return number


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin, SimpleHistoryAdmin):
    form = PatientAdminForm
    managers_may_edit = True
    list_display = ("record_number", "last_name", "first_name", "date_of_birth", "reminder_consent", "clinic")
    list_filter = ("clinic", "reminder_consent", "skin_type")
    list_select_related = ("clinic",)
    search_fields = ("record_number", "last_name", "first_name", "email")
    # Consent and email decide the reminder outbox; the staff pages change
    # them through patients.services.update_patient, which re-plans it.
    readonly_fields = ("email", "reminder_consent", "reminder_consent_changed_at", "created_at")

    def has_add_permission(self, request):
        return False  # patients are registered in the staff pages or the API


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (
        "sequence",
        "step",
        "status",
        "target_date",
        "window_start",
        "window_end",
        "start",
        "practitioner",
        "room",
        "out_of_window",
        "missed_count",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("step", "practitioner", "room")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # the enrolment's own admin has already checked who may see it


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("patient", "protocol", "start_date", "status", "clinician", "clinic")
    list_filter = ("clinic", "status")
    list_select_related = ("patient", "protocol", "clinician", "clinic")
    search_fields = ("patient__record_number", "patient__last_name", "patient__first_name")
    date_hierarchy = "start_date"
    inlines = [SessionInline]
