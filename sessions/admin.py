from django import forms
from django.contrib import admin
from django.db import transaction

from clinics.models import CLINIC_SETTINGS, Clinic, Closure, OpeningHours
from core.admin import ClinicScopedAdmin, HistoryAdmin, ManagedInline, ReadOnlyAdmin
from patients.models import Enrolment
from protocols.services import load_library
from sessions.clinic import closure_refusal, replan_reminders, zone_change_refusal

from .models import AdverseEvent, Deviation, OutcomeMeasurement, Reminder, Session


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
class EnrolmentAdmin(ReadOnlyAdmin, HistoryAdmin):
    list_display = ("patient", "protocol", "start_date", "status", "clinician", "clinic")
    list_filter = ("clinic", "status")
    list_select_related = ("patient", "protocol", "clinician", "clinic")
    search_fields = ("patient__record_number", "patient__last_name", "patient__first_name")
    date_hierarchy = "start_date"
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin, HistoryAdmin):
    list_display = ("__str__", "patient", "status", "target_date", "start", "practitioner", "out_of_window", "clinic")
    list_filter = ("clinic", "status", "out_of_window")
    list_select_related = ("step", "patient", "practitioner", "clinic")
    search_fields = ("patient__record_number", "patient__last_name")
    date_hierarchy = "target_date"


@admin.register(OutcomeMeasurement)
class OutcomeMeasurementAdmin(ReadOnlyAdmin, HistoryAdmin):
    # Corrections go through sessions.services.correct_outcome (range check,
    # role); the history page shows every value a measurement has had.
    clinic_lookup = "session__clinic"
    list_display = ("measure", "value", "session", "patient", "recorded_by", "recorded_at")
    list_filter = ("session__clinic", "measure")
    list_select_related = ("measure", "session__step", "session__patient", "recorded_by")
    search_fields = ("session__patient__record_number", "session__patient__last_name", "measure__code")

    @admin.display(ordering="session__patient__last_name")
    def patient(self, obj):
        return obj.session.patient


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyAdmin, HistoryAdmin):
    clinic_lookup = "session__clinic"
    list_display = ("__str__", "severity", "related_to_treatment", "patient", "reported_by", "reported_at")
    list_filter = ("session__clinic", "severity", "related_to_treatment")
    list_select_related = ("session__patient", "enrolment__patient", "reported_by")

    @admin.display(ordering="session__patient__last_name")
    def patient(self, obj):
        # An event between visits has no session (issue 30: the list was a 500).
        if obj.session_id:
            return obj.session.patient
        return obj.enrolment.patient if obj.enrolment_id else None


@admin.register(Deviation)
class DeviationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    clinic_lookup = "session__clinic"
    list_display = ("kind", "reason", "session", "patient", "by", "at")
    list_filter = ("session__clinic", "kind")
    list_select_related = ("session__step", "session__patient", "by")

    @admin.display(ordering="session__patient__last_name")
    def patient(self, obj):
        return obj.session.patient


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("kind", "session", "due_at", "status", "attempts", "sent_at", "clinic")
    list_filter = ("clinic", "status", "kind")
    list_select_related = ("session__step", "clinic")
    date_hierarchy = "due_at"


# --- The clinic's settings: here, beside the bookings they guard (sessions/clinic.py) ------


class OpeningHoursInline(ManagedInline, admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureForm(forms.ModelForm):
    """The API's rule: a day with coming bookings is not closed until they are rebooked."""

    class Meta:
        model = Closure
        fields = ("date", "reason")

    def clean_date(self):
        day = self.cleaned_data["date"]
        if self.instance.clinic_id and "date" in self.changed_data and (
            refusal := closure_refusal(self.instance.clinic, [day])
        ):
            raise forms.ValidationError(refusal)
        return day


class ClosureInline(ManagedInline, admin.TabularInline):
    model = Closure
    form = ClosureForm
    extra = 0


class ClinicForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ("slug", *CLINIC_SETTINGS)

    def clean_timezone(self):
        zone = self.cleaned_data["timezone"]
        # The instance still holds the saved zone: the form applies it later.
        if self.instance.pk and (refusal := zone_change_refusal(self.instance, old=self.instance.timezone, new=zone)):
            raise forms.ValidationError(refusal)
        return zone


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin, admin.ModelAdmin):
    form = ClinicForm
    clinic_lookup = "pk"
    managers_may_edit = True
    list_display = ("name", "slug", "timezone", "slot_minutes", "sender_email")
    search_fields = ("name", "slug")
    inlines = [OpeningHoursInline, ClosureInline]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        # The slug names the clinic to the commands; only a superuser renames it.
        return () if request.user.is_superuser else ("slug",)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                load_library(obj)  # as create_clinic does: a new clinic starts with the standard protocols
            elif {"reminder_offsets_hours", "timezone"} & set(form.changed_data):
                replan_reminders(obj)  # as the API's clinic PATCH does
