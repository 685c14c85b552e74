"""Reading the audit log: one filter set for the page, the API and the CSV."""

import csv
import datetime as dt
from collections.abc import Iterator

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from clinics.models import Clinic
from core.api import FilterSet, IdFilter, IsoDateFilter
from core.text import csv_cell
from core.timezones import at_local

from .models import Action, AuditEvent


def events_of(clinic: Clinic | None):
    return AuditEvent.objects.filter(clinic=clinic).select_related("user")


def _staff(request):
    from clinics.models import User

    clinic = getattr(getattr(request, "user", None), "clinic", None)
    return User.objects.filter(clinic=clinic).order_by("last_name", "first_name", "username")


class AuditFilter(FilterSet):
    # The page's filters, in words: a staff member by name, a patient by name, an action.
    staff = filters.ModelChoiceFilter(field_name="user", queryset=_staff, label=_("Staff member"),
                                      empty_label=_("Anyone"))
    patient_name = filters.CharFilter(method="by_patient_name", max_length=100, label=_("Patient name"),
                                      help_text=_("Entries about patients whose name matches"))
    user = IdFilter(field_name="user_id", label="Staff member (id)", help_text="A staff member's id")
    username = filters.CharFilter(field_name="username", max_length=150, label="Username", help_text="Exact username (also failed logins)")
    action = filters.ChoiceFilter(choices=Action.choices, label=_("Action"), empty_label=_("Any action"))
    patient = IdFilter(field_name="patient_ref", label="Patient (id)", help_text="Entries about this patient id")
    object_type = filters.CharFilter(field_name="object_type", max_length=100, label="Object type", help_text="e.g. patients.patient")
    object_id = filters.CharFilter(field_name="object_id", max_length=64, label="Object id")
    date_from = IsoDateFilter(field_name="at", method="on_or_after", label=_("From"),
                              help_text=_("YYYY-MM-DD, a day in the clinic's time zone"))
    date_to = IsoDateFilter(field_name="at", method="on_or_before", label=_("To"),
                            help_text=_("YYYY-MM-DD, a day in the clinic's time zone"))

    class Meta:
        model = AuditEvent
        fields = []

    # Days are the clinic's, as the log shows its times: an entry at 00:30 in
    # Berlin belongs to that Berlin day, not to the UTC day before.
    def on_or_after(self, queryset, name, day):
        return queryset.filter(at__gte=at_local(day, dt.time(0), self._zone()))

    def on_or_before(self, queryset, name, day):
        return queryset.filter(at__lt=at_local(day + dt.timedelta(days=1), dt.time(0), self._zone()))

    def by_patient_name(self, queryset, name, text):
        return queryset.filter(patient_ref__in=list(LOOKUPS["patient_search"](self.request.user.clinic, text)))

    def _zone(self):
        return self.request.user.clinic.tz

    @property
    def form(self):
        form = super().form
        for name in ("date_from", "date_to"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date"})
        form.fields["staff"].label_from_instance = lambda user: user.display_name
        return form


# The filters the page shows (the API and the CSV take the id-based ones too).
PAGE_FILTERS = ("staff", "patient_name", "action", "date_from", "date_to")


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


# --- The log in words, for the manager's page (issue 24) ------------------------------------------

# The audit app sits below the patients and sessions (tests/test_layers.py):
# they hand it what the page needs to put names and reasons to ids, from their
# AppConfig.ready(). Until they do, entries read without them.
LOOKUPS = {
    # (clinic, ids) -> {id: the patient's name}
    "patient_names": lambda clinic, ids: {},
    # (clinic, text) -> ids of the patients whose name matches
    "patient_search": lambda clinic, text: [],
    # (events) -> {event id: the reason given with an outcome correction}
    "correction_reasons": lambda events: {},
}

# Whole sentences per action, so each language puts the words in its own order.
# {thing}: what the entry is about ("a session", "the outcomes CSV"); {name}: the patient.
THING_OF = {
    Action.VIEW: _("Read {thing} of {name}"),
    Action.CREATE: _("Added {thing} of {name}"),
    Action.CHANGE: _("Changed {thing} of {name}"),
    Action.DELETE: _("Deleted {thing} of {name}"),
    Action.EXPORT: _("Exported {thing} of {name}"),
    Action.ERASE: _("Erased {thing} of {name}"),
    Action.REPORT: _("Read {thing} of {name}"),
}
THING = {
    Action.VIEW: _("Read {thing}"),
    Action.CREATE: _("Added {thing}"),
    Action.CHANGE: _("Changed {thing}"),
    Action.DELETE: _("Deleted {thing}"),
    Action.EXPORT: _("Exported {thing}"),
    Action.ERASE: _("Erased {thing}"),
    Action.REPORT: _("Read {thing}"),
}
VERBS = THING  # the actions told in words; others (logins, lockouts) by their label
RECORD_OF = {
    Action.VIEW: _("Read {name}'s record"),
    Action.CREATE: _("Added {name}'s record"),
    Action.CHANGE: _("Changed {name}'s record"),
    Action.DELETE: _("Deleted {name}'s record"),
    Action.EXPORT: _("Exported {name}'s record"),
    Action.ERASE: _("Erased {name}'s record"),
    Action.REPORT: _("Read {name}'s record"),
}
A_RECORD = {
    Action.VIEW: _("Read a patient's record"),
    Action.CREATE: _("Added a patient's record"),
    Action.CHANGE: _("Changed a patient's record"),
    Action.DELETE: _("Deleted a patient's record"),
    Action.EXPORT: _("Exported a patient's record"),
    Action.ERASE: _("Erased a patient's record"),
    Action.REPORT: _("Read a patient's record"),
}

# Entries about no row of a model, named by what they were.
NAMED_OBJECTS = {
    "export.outcomes": _("the outcomes CSV"),
    "report.cohort": _("the cohort report"),
    "audit.auditevent": _("the audit log CSV"),
}
# The rows staff work with, named in the reader's language (else the model's English name).
NAMED_ROWS = {
    "patients.enrolment": _("an enrolment"),
    "patients.consent": _("a consent"),
    "treatment_sessions.session": _("a session"),
    "treatment_sessions.outcomemeasurement": _("an outcome"),
    "treatment_sessions.adverseevent": _("an adverse event"),
    "treatment_sessions.sessionphoto": _("a photograph"),
    "treatment_sessions.decision": _("a decision"),
    "protocols.protocol": _("a protocol"),
    "protocols.lot": _("a lot"),
    "clinics.clinic": _("the clinic's settings"),
    "clinics.room": _("a room"),
    "clinics.user": _("a staff account"),
}

CORRECTED = "treatment_sessions.outcomemeasurement"


def _noun(object_type: str) -> str:
    from django.apps import apps

    if object_type in NAMED_OBJECTS:
        return str(NAMED_OBJECTS[object_type])
    if object_type in NAMED_ROWS:
        return str(NAMED_ROWS[object_type])
    try:
        noun = apps.get_model(object_type)._meta.verbose_name
        return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
    except (LookupError, ValueError):
        return object_type or "something"


def describe(event: AuditEvent, names: dict[int, str]) -> str:
    """One entry in words: "Read Hanna Weber's record", "Exported the outcomes CSV"."""
    if event.action not in VERBS:
        return event.get_action_display()  # logins, logouts, lockouts
    name = names.get(event.patient_ref) if event.patient_ref else None
    if event.object_type == "patients.patient":
        if name is None:
            return str(A_RECORD[event.action])
        if event.action == Action.EXPORT:
            if "FHIR" in event.summary:
                return _("Exported {name}'s FHIR bundle").format(name=name)
            return _("Exported {name}'s data").format(name=name)
        if event.action == Action.CREATE:
            return _("Added {name} as a patient").format(name=name)
        if event.action == Action.ERASE:
            return _("Erased {name}'s identifying data").format(name=name)
        return RECORD_OF[event.action].format(name=name)
    if event.object_type == CORRECTED and event.action == Action.CHANGE:
        return _("Corrected an outcome of {name}").format(name=name) if name else str(_("Corrected an outcome"))
    thing = _noun(event.object_type)
    return THING_OF[event.action].format(thing=thing, name=name) if name else THING[event.action].format(thing=thing)


def readable(events, clinic: Clinic | None) -> list[dict]:
    """The page's rows: who, what in words, when, from where, and details
    (the fields changed, a correction's reason)."""
    events = list(events)
    names = LOOKUPS["patient_names"](clinic, {e.patient_ref for e in events if e.patient_ref})
    reasons = LOOKUPS["correction_reasons"](events)
    rows = []
    for event in events:
        details = event.summary
        rows.append(
            {
                "event": event,
                "who": event.user.display_name if event.user_id and event.user else (event.username or "—"),
                "what": describe(event, names),
                "patient_name": names.get(event.patient_ref) if event.patient_ref else None,
                "details": details,
                "reason": reasons.get(event.pk, ""),
            }
        )
    return rows
