"""Which times a patient may book online, and the booking itself (SPEC §18).

The free slots of the session's window from tomorrow, at most SHOWN_DAYS
days, grouped by day in the clinic's time, the patient's last practitioner
first; a time that would push a later booking of the course out of its
window is not offered. `book_by_patient` runs through the staff booking
(`book_locked`: window, opening hours, closures, no double booking,
cascade), without a staff user, so the session is `booked_by_patient`. A
booked session may be moved the same way until the clinic's
`cancel_cutoff_hours` before it. The page that offers them is
web/self_booking.py."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Room, User
from clinics.selectors import practitioners_of
from core.exceptions import Conflict
from core.languages import long_date
from core.services import now as now_or
from core.services import workflow
from protocols import schedule
from sessions.booking.responses import cancel_deadline
from sessions.booking.services import book_locked
from sessions.booking.slots import Slot
from sessions.models import Session, SessionStatus
from sessions.selectors import free_slots
from sessions.workflows import locked, state_of

SHOWN_DAYS = 14
TAKEN = gettext_lazy("Sorry, that time was just taken. Please choose another one below.")
TOO_LATE_TO_MOVE = gettext_lazy("It is too late to change this appointment online; please call the clinic.")
PUSHES_LATER = gettext_lazy(
    "A visit on this day would move a later visit of your course out of its window; choose another day."
)
NOT_BOOKABLE = gettext_lazy("This visit can no longer be booked online; please call the clinic.")


class Refusal(Conflict):
    """Why this session cannot be booked online at all (not a lost race)."""


# --- Which sessions, which slots -----------------------------------------------------------------


def local_today(session: Session, now: dt.datetime) -> dt.date:
    return now.astimezone(session.clinic.tz).date()


def is_open(session: Session, now: dt.datetime) -> bool:
    """The link works: the clinic allows it, the course goes on, the session
    is not done and its window (as it is now) has not closed."""
    return (
        session.clinic.patients_may_book
        and session.enrolment.status == "active"
        and not session.is_home
        and session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED)
        and local_today(session, now) <= session.window_end
    )


def may_move(session: Session, now: dt.datetime) -> bool:
    """A planned session may be booked; a booked one moved until the cut-off."""
    if session.status == SessionStatus.PLANNED:
        return True
    return session.status == SessionStatus.BOOKED and now < cancel_deadline(session)


def shown_days(session: Session, now: dt.datetime) -> tuple[dt.date, dt.date]:
    first = max(session.window_start, local_today(session, now) + dt.timedelta(days=1))
    last = min(session.window_end, first + dt.timedelta(days=SHOWN_DAYS - 1))
    return first, last


def last_practitioner_id(session: Session) -> int | None:
    """The practitioner of the booking being moved, else of the patient's
    latest visit in this clinic."""
    if session.status == SessionStatus.BOOKED and session.practitioner_id:
        return session.practitioner_id
    return (
        Session.objects.filter(
            clinic_id=session.clinic_id,
            patient_id=session.patient_id,
            status=SessionStatus.COMPLETED,
            practitioner__isnull=False,
        )
        .order_by("-start")
        .values_list("practitioner_id", flat=True)
        .first()
    )


def dates_keeping_course(session: Session, days: list[dt.date]) -> set[dt.date]:
    """The days of `days` on which booking `session` leaves every later
    booking of the course inside its window (the cascade, SPEC §3, run
    without saving: one query for the course, then pure)."""
    course = list(
        Session.objects.filter(enrolment_id=session.enrolment_id).select_related("clinic", "step").order_by("sequence")
    )
    states = [state_of(s) for s in course]
    enrolment_start = session.enrolment.start_date
    out_now = {r.sequence for r in schedule.cascade(enrolment_start, states) if r.out_of_window}
    index = next(i for i, s in enumerate(course) if s.pk == session.pk)
    keeping = set()
    for day in days:
        trial = list(states)
        own = trial[index]
        trial[index] = schedule.SessionState(
            sequence=own.sequence,
            occurrence=own.occurrence,
            rule=own.rule,
            status=SessionStatus.BOOKED,
            target_date=own.target_date,
            booked_date=day,
            completed_date=None,
        )
        pushed = {
            r.sequence
            for r in schedule.cascade(enrolment_start, trial)
            if r.out_of_window and r.sequence > session.sequence and r.sequence not in out_now
        }
        if not pushed:
            keeping.add(day)
    return keeping


@dataclass
class PractitionerTimes:
    practitioner_id: int
    name: str
    usual: bool
    slots: list[Slot] = field(default_factory=list)

    @property
    def times(self):
        return [(slot.start.isoformat(), f"{slot.start:%H:%M}") for slot in self.slots]


@dataclass
class Day:
    date: dt.date
    label: str
    groups: list[PractitionerTimes]


def offered_slots(session: Session, now: dt.datetime) -> list[Slot]:
    """The free slots the page offers, in time order: the shown days, only
    days that keep the course on schedule, never the current booking."""
    first, last = shown_days(session, now)
    if first > last:
        return []
    found = free_slots(session, date_from=first, date_to=last, now=now, limit=20_000)
    tz = session.clinic.tz
    days = sorted({slot.start.astimezone(tz).date() for slot in found})
    keeping = dates_keeping_course(session, days) if days else set()
    current = (session.start, session.practitioner_id) if session.status == SessionStatus.BOOKED else None
    return [
        slot
        for slot in found
        if slot.start.astimezone(tz).date() in keeping and (slot.start, slot.practitioner_id) != current
    ]


def grouped(session: Session, slots: list[Slot]) -> list[Day]:
    """By day in the clinic's time. Each time is shown once: with the
    patient's usual practitioner when they are free then, else with the
    first free colleague in name order, named. So the usual practitioner's
    times come first, then the others'; a phone shows a day's times, not
    one row per practitioner of a big clinic (twenty practitioners made a
    fortnight 4,000 buttons, half a megabyte)."""
    tz = session.clinic.tz
    usual = last_practitioner_id(session)
    staff = sorted(practitioners_of(session.clinic), key=lambda u: (u.pk != usual, u.display_name.lower(), u.pk))
    names = {u.pk: u.display_name for u in staff}
    order = {u.pk: i for i, u in enumerate(staff)}
    unknown = len(order)
    chosen: dict[dt.datetime, Slot] = {}
    for slot in slots:
        held = chosen.get(slot.start)
        if held is None or order.get(slot.practitioner_id, unknown) < order.get(held.practitioner_id, unknown):
            chosen[slot.start] = slot
    days: dict[dt.date, dict[int, PractitionerTimes]] = {}
    for start in sorted(chosen):
        slot = chosen[start]
        local = Slot(slot.start.astimezone(tz), slot.end.astimezone(tz), slot.practitioner_id, slot.room_id)
        groups = days.setdefault(local.start.date(), {})
        if slot.practitioner_id not in groups:
            groups[slot.practitioner_id] = PractitionerTimes(
                slot.practitioner_id, names.get(slot.practitioner_id, ""), slot.practitioner_id == usual
            )
        groups[slot.practitioner_id].slots.append(local)
    return [
        Day(day, long_date(day), sorted(groups.values(), key=lambda g: order.get(g.practitioner_id, unknown)))
        for day, groups in sorted(days.items())
    ]


# --- The booking ---------------------------------------------------------------------------------


def parse_choice(session: Session, data, now: dt.datetime) -> tuple[dt.datetime, User]:
    """`start` and `practitioner` from the form, or a ValidationError naming
    the field. Checks the shape and the window; whether the time is free is
    the booking's question."""
    errors: dict[str, list[str]] = {}
    raw_start = str(data.get("start", "")).strip()
    try:
        start = parse_datetime(raw_start) if raw_start else None
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        errors["start"] = [_("Choose a time from the list (an ISO 8601 time with its offset).")]
    else:
        try:
            day = start.astimezone(session.clinic.tz).date()
        except OverflowError:
            day = None
        first, last = shown_days(session, now)
        if day is None or not first <= day <= last:
            errors["start"] = [
                _("Choose a time between %(first)s and %(last)s, inside this visit's window.")
                % {"first": long_date(first), "last": long_date(last)}
                if first <= last
                else _("There are no more days in this visit's window to book online.")
            ]
    practitioner = None
    raw_practitioner = str(data.get("practitioner", "")).strip()
    if raw_practitioner.isdigit() and len(raw_practitioner) < 12:
        practitioner = practitioners_of(session.clinic).filter(pk=int(raw_practitioner)).first()
    if practitioner is None:
        errors["practitioner"] = [_("Choose one of the practitioners listed.")]
    if errors:
        raise ValidationError(errors)
    return start, practitioner


@workflow
def book_by_patient(
    *, session: Session, start: dt.datetime, practitioner: User, now: dt.datetime | None = None
) -> Session:
    """Book (or move) the session at a slot the page offers, through the
    staff booking, without a staff user: `booked_by_patient`."""
    now = now_or(now)
    session = locked(session)
    if not is_open(session, now):
        raise Refusal(NOT_BOOKABLE)
    if not may_move(session, now):
        raise Refusal(TOO_LATE_TO_MOVE)
    day = start.astimezone(session.clinic.tz).date()
    if not dates_keeping_course(session, [day]):
        raise ValidationError({"start": [PUSHES_LATER]})
    slot = next(
        (s for s in offered_slots(session, now) if s.start == start and s.practitioner_id == practitioner.pk), None
    )
    if slot is None:
        raise Conflict(TAKEN, field="start")
    room = Room.objects.get(pk=slot.room_id) if slot.room_id else None
    return book_locked(session, start=start, practitioner=practitioner, room=room, by=None, now=now)
