"""Read queries shared by the API, the staff pages and the reminder emails.

Querysets here carry their select_related / prefetch_related so that a list
costs the same few queries whatever its length.
"""

import datetime as dt

from django.db.models import BigIntegerField, Count, Func, Q, QuerySet
from django.utils.translation import gettext as _

from clinics.models import Absence, Clinic, User
from clinics.selectors import practitioners_of
from core.services import now as now_or
from patients.models import EnrolmentStatus
from sessions.booking import slots as slot_rules

from .models import (
    OCCUPYING,
    BookingChange,
    BookingChangeKind,
    ChangeReason,
    OutcomeMeasurement,
    PatientCancellation,
    Reminder,
    Session,
    SessionStatus,
)


def sessions_of(clinic: Clinic) -> QuerySet[Session]:
    return (
        Session.objects.filter(clinic=clinic)
        .select_related("enrolment", "patient", "step", "practitioner", "room", "clinic")
        .order_by("target_date", "enrolment_id", "sequence")
    )


def awaiting_results(clinic: Clinic, *, now: dt.datetime | None = None) -> QuerySet[Session]:
    """Visits that took place but were never completed: booked sessions of
    active enrolments whose booked start has passed (each can be completed
    now, `Session.can_complete`), oldest first. Home applications are the
    patient's and are not chased here."""
    now = now_or(now)
    return (
        sessions_of(clinic)
        .filter(awaiting_results_q(now), enrolment__status=EnrolmentStatus.ACTIVE)
        .order_by("start", "pk")
    )


def awaiting_results_q(now: dt.datetime) -> Q:
    return Q(status=SessionStatus.BOOKED, start__lte=now)


def booking_change_counts(clinic: Clinic, *, since: dt.datetime) -> list[dict]:
    """Cancellations and rebookings since `since`, counted per kind and
    reason (every reason listed, zeros too), and the patients' own online
    cancellations: two queries."""
    counts = {
        (row["kind"], row["reason"]): row["n"]
        for row in BookingChange.objects.filter(clinic=clinic, at__gte=since)
        .values("kind", "reason")
        .annotate(n=Count("id"))
    }
    rows = [
        {
            "reason": label,
            "code": code,
            "cancelled": counts.get((BookingChangeKind.CANCELLED, code), 0),
            "rebooked": counts.get((BookingChangeKind.REBOOKED, code), 0),
        }
        for code, label in ChangeReason.choices
    ]
    # A patient's own cancellation from an email's link leaves no BookingChange (issue 24).
    online = PatientCancellation.objects.filter(clinic=clinic, at__gte=since).count()
    rows.append({"reason": _("Patient cancelled online"), "code": "online", "cancelled": online, "rebooked": 0})
    return rows


def session_list_of(clinic: Clinic | None) -> QuerySet[Session]:
    """The sessions list of the API: its references are ids, so only the step
    (name, kind, duration) is joined, and every row shares the `clinic` object
    given (the related manager hands it to each row), whose zone the times
    are rendered in. No clinic (the schema generator's fake view) lists nothing."""
    if clinic is None:
        return Session.objects.none()
    return clinic.sessions.select_related("step").order_by("target_date", "enrolment_id", "sequence")


def reminders_of(clinic: Clinic) -> QuerySet[Reminder]:
    return Reminder.objects.filter(clinic=clinic).select_related("clinic").order_by("due_at", "id")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


class EpochMicroseconds(Func):
    """An instant as whole microseconds since 1970 UTC, exact. The free-slot
    search reads thousands of booked times in a busy fortnight; loading them
    as integers and making the datetimes in Python costs a third of loading
    them as timestamps (docs/benchmarks.md)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint")


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def from_epoch_microseconds(value: int) -> dt.datetime:
    """The instant an EpochMicroseconds value names, in UTC."""
    return _EPOCH + value * _MICROSECOND


def free_slots(
    session: Session,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    practitioner: User | None = None,
    now: dt.datetime | None = None,
    limit: int = 2000,
) -> list[slot_rules.Slot]:
    """Free slots of the clinic's slot length inside the session's window
    (narrowed by date_from/date_to), inside opening hours, not on closures,
    not in the past, where a practitioner, a room and the patient are free.
    A fixed handful of queries, whatever the range."""
    now = now_or(now)
    clinic = session.clinic
    tz = clinic.tz
    first = max(session.window_start, date_from or session.window_start, now.astimezone(tz).date())
    last = min(session.window_end, date_to or session.window_end)
    if first > last or session.is_home:
        return []
    practitioners = [practitioner] if practitioner is not None else list(practitioners_of(clinic))
    range_start = dt.datetime.combine(first, dt.time.min, tzinfo=tz) - dt.timedelta(days=1)
    range_end = dt.datetime.combine(last, dt.time.max, tzinfo=tz) + dt.timedelta(days=1)
    busy = (
        Session.objects.filter(clinic=clinic, status__in=OCCUPYING, start__lt=range_end, end__gt=range_start)
        .exclude(pk=session.pk)
        .order_by()  # the model's ordering would join enrolments to sort rows nobody reads in order
        .values_list(EpochMicroseconds("start"), EpochMicroseconds("end"), "practitioner_id", "room_id", "patient_id")
    )
    # One pass over the bookings sorts them to their calendars. A patient's
    # bookings in other clinics are not ours to see; this clinic's are.
    practitioner_busy: dict[int, list] = {p.pk: [] for p in practitioners}
    room_busy: dict[int, list] = {r: [] for r in clinic.rooms.filter(active=True).values_list("pk", flat=True)}
    patient_busy = []
    for start_us, end_us, practitioner_id, room_id, patient_id in busy:
        start, end = from_epoch_microseconds(start_us), from_epoch_microseconds(end_us)
        if practitioner_id in practitioner_busy:
            practitioner_busy[practitioner_id].append((start, end))
        if room_id in room_busy:
            room_busy[room_id].append((start, end))
        if patient_id == session.patient_id:
            patient_busy.append((start, end))
    # A practitioner's absence is a busy stretch over whole clinic-local days.
    for absence in Absence.objects.filter(
        practitioner_id__in=list(practitioner_busy), first_day__lte=last, last_day__gte=first
    ):
        practitioner_busy[absence.practitioner_id].append(
            (
                dt.datetime.combine(absence.first_day, dt.time.min, tzinfo=tz),
                dt.datetime.combine(absence.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
            )
        )
    hours: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in clinic.opening_hours.all():
        hours.setdefault(row.weekday, []).append((row.opens, row.closes))
    closures = set(clinic.closures.filter(date__range=(first, last)).values_list("date", flat=True))
    return slot_rules.free_slots(
        days=_days(first, last),
        opening_hours=hours,
        closures=closures,
        slot_minutes=clinic.slot_minutes,
        duration_minutes=session.step.duration_minutes,
        tz=tz,
        not_before=now,
        practitioner_busy=practitioner_busy,
        room_busy=room_busy,
        patient_busy=patient_busy,
        limit=limit,
    )


def correction_reasons(events) -> dict[int, str]:
    """For the audit log: the reason given with each outcome correction among
    `events`, from the history row the correction wrote (the same value, the
    same user, the same moment)."""
    wanted = [
        e for e in events
        if e.action == "change" and e.object_type == "treatment_sessions.outcomemeasurement" and e.object_id.isdigit()
    ]
    if not wanted:
        return {}
    rows = list(
        OutcomeMeasurement.history.filter(id__in={int(e.object_id) for e in wanted}, history_type="~")
        .exclude(history_change_reason=None)
        .values_list("id", "history_user_id", "history_date", "history_change_reason")
    )
    reasons = {}
    for event in wanted:
        near = [
            (abs((at - event.at).total_seconds()), reason)
            for pk, user_id, at, reason in rows
            if pk == int(event.object_id) and user_id == event.user_id and abs((at - event.at).total_seconds()) < 60
        ]
        if near:
            reasons[event.pk] = min(near)[1]
    return reasons
