"""Read queries shared by the API, the staff pages and the reminder emails.

Querysets here carry their select_related / prefetch_related so that a list
costs the same few queries whatever its length.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet

from clinics.models import Clinic, User
from clinics.selectors import practitioners_of
from core.services import now as now_or
from patients.models import Enrolment
from protocols.models import OutcomeMeasure

from . import slots as slot_rules
from .models import OCCUPYING, OutcomeMeasurement, Reminder, Session, SessionStatus


def sessions_of(clinic: Clinic) -> QuerySet[Session]:
    return (
        Session.objects.filter(clinic=clinic)
        .select_related("enrolment", "patient", "step", "practitioner", "room", "clinic")
        .order_by("target_date", "enrolment_id", "sequence")
    )


def session_list_of(clinic: Clinic) -> QuerySet[Session]:
    """The sessions list of the API: its references are ids, so only the step
    (name, kind, duration) is joined, and every row shares the `clinic` object
    given (the related manager hands it to each row), whose zone the times
    are rendered in."""
    return clinic.sessions.select_related("step").order_by("target_date", "enrolment_id", "sequence")


def reminders_of(clinic: Clinic) -> QuerySet[Reminder]:
    return Reminder.objects.filter(clinic=clinic).select_related("clinic").order_by("due_at", "id")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


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
    busy = list(
        Session.objects.filter(clinic=clinic, status__in=OCCUPYING, start__lt=range_end, end__gt=range_start)
        .exclude(pk=session.pk)
        .order_by()  # the model's ordering would join enrolments to sort rows nobody reads in order
        .values_list("start", "end", "practitioner_id", "room_id", "patient_id")
    )
    # A patient's bookings in other clinics are not ours to see; this clinic's are.
    practitioner_busy = {p.pk: [(s, e) for s, e, pid, _, _ in busy if pid == p.pk] for p in practitioners}
    room_ids = list(clinic.rooms.filter(active=True).values_list("pk", flat=True))
    room_busy = {r: [(s, e) for s, e, _, rid, _ in busy if rid == r] for r in room_ids}
    patient_busy = [(s, e) for s, e, _, _, pat in busy if pat == session.patient_id]
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


@dataclass(frozen=True)
class Point:
    session_id: int
    sequence: int
    step_name: str
    date: dt.date
    value: Decimal


@dataclass(frozen=True)
class MeasureSummary:
    measure: OutcomeMeasure
    series: list[Point]

    @property
    def baseline(self) -> Point | None:
        return self.series[0] if self.series else None

    @property
    def latest(self) -> Point | None:
        return self.series[-1] if self.series else None

    @property
    def change(self) -> Decimal | None:
        if len(self.series) < 1:
            return None
        return self.latest.value - self.baseline.value

    @property
    def percent_change(self) -> Decimal | None:
        """(latest − baseline) / baseline × 100, to one decimal; none when the
        baseline is 0 (a wound that starts closed has no percent change)."""
        if not self.series or self.baseline.value == 0:
            return None
        percent = (self.latest.value - self.baseline.value) / self.baseline.value * 100
        return percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == 0:
            return None
        return (change > 0) == self.measure.higher_is_better


def outcome_summary(enrolment: Enrolment) -> list[MeasureSummary]:
    """Per measure: the series in session order, the first value as
    baseline, the latest, and the change from baseline. One query."""
    return outcome_summaries([enrolment]).get(enrolment.pk, [])


def outcome_summaries(enrolments: list[Enrolment]) -> dict[int, list[MeasureSummary]]:
    """outcome_summary of several enrolments of one clinic, by enrolment id,
    in one query (the patient page lists every course of a patient)."""
    if not enrolments:
        return {}
    tz = enrolments[0].clinic.tz
    rows = (
        OutcomeMeasurement.objects.filter(
            session__enrolment__in=[e.pk for e in enrolments], session__status=SessionStatus.COMPLETED
        )
        .select_related("measure", "session", "session__step")
        .order_by("session__enrolment_id", "measure__code", "session__sequence")
    )
    by_enrolment: dict[int, dict[str, MeasureSummary]] = {}
    for row in rows:
        by_measure = by_enrolment.setdefault(row.session.enrolment_id, {})
        summary = by_measure.setdefault(row.measure.code, MeasureSummary(row.measure, []))
        summary.series.append(
            Point(
                session_id=row.session_id,
                sequence=row.session.sequence,
                step_name=row.session.step.name,
                date=row.session.completed_at.astimezone(tz).date(),
                value=row.value,
            )
        )
    return {pk: list(by_measure.values()) for pk, by_measure in by_enrolment.items()}
