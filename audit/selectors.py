"""Reading the audit log: one filter set for the page, the API and the CSV."""

import csv
import datetime as dt
from collections.abc import Iterator

from django import forms
from django_filters import rest_framework as filters

from clinics.models import Clinic
from core.api import FilterSet, IdFilter, IsoDateFilter
from core.text import csv_cell
from core.timezones import at_local

from .models import Action, AuditEvent


def events_of(clinic: Clinic | None):
    return AuditEvent.objects.filter(clinic=clinic).select_related("user")


class AuditFilter(FilterSet):
    user = IdFilter(field_name="user_id", label="Staff member (id)", help_text="A staff member's id")
    username = filters.CharFilter(field_name="username", max_length=150, label="Username", help_text="Exact username (also failed logins)")
    action = filters.ChoiceFilter(choices=Action.choices, label="Action", empty_label="Any action")
    patient = IdFilter(field_name="patient_ref", label="Patient (id)", help_text="Entries about this patient id")
    object_type = filters.CharFilter(field_name="object_type", max_length=100, label="Object type", help_text="e.g. patients.patient")
    object_id = filters.CharFilter(field_name="object_id", max_length=64, label="Object id")
    date_from = IsoDateFilter(field_name="at", method="on_or_after", label="From",
                              help_text="YYYY-MM-DD, a day in the clinic's time zone")
    date_to = IsoDateFilter(field_name="at", method="on_or_before", label="To",
                            help_text="YYYY-MM-DD, a day in the clinic's time zone")

    class Meta:
        model = AuditEvent
        fields = []

    # Days are the clinic's, as the log shows its times: an entry at 00:30 in
    # Berlin belongs to that Berlin day, not to the UTC day before.
    def on_or_after(self, queryset, name, day):
        return queryset.filter(at__gte=at_local(day, dt.time(0), self._zone()))

    def on_or_before(self, queryset, name, day):
        return queryset.filter(at__lt=at_local(day + dt.timedelta(days=1), dt.time(0), self._zone()))

    def _zone(self):
        return self.request.user.clinic.tz

    @property
    def form(self):
        form = super().form
        for name in ("date_from", "date_to"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date"})
        return form


CSV_COLUMNS = ["id", "at", "user_id", "username", "action", "object_type", "object_id", "patient_ref", "summary",
               "ip", "user_agent"]


class _Echo:
    def write(self, value):
        return value


def csv_rows(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [csv_cell(event.pk), event.at.isoformat(), csv_cell(event.user_id), *(
                csv_cell(getattr(event, name)) for name in CSV_COLUMNS[3:]
            )]
        )
