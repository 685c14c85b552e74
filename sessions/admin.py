from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from clinics.admin import ReadOnlyAdmin

from .models import AdverseEvent, Deviation, OutcomeMeasurement, Reminder, Session


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("__str__", "patient", "status", "target_date", "start", "practitioner", "out_of_window", "clinic")
    list_filter = ("clinic", "status", "out_of_window")
    list_select_related = ("step", "patient", "practitioner", "clinic")
    search_fields = ("patient__record_number", "patient__last_name")
    date_hierarchy = "target_date"


@admin.register(OutcomeMeasurement)
class OutcomeMeasurementAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
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
class AdverseEventAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    clinic_lookup = "session__clinic"
    list_display = ("__str__", "severity", "related_to_treatment", "patient", "reported_by", "reported_at")
    list_filter = ("session__clinic", "severity", "related_to_treatment")
    list_select_related = ("session__patient", "reported_by")

    @admin.display(ordering="session__patient__last_name")
    def patient(self, obj):
        return obj.session.patient


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
