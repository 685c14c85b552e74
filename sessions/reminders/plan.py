"""Which reminder rows a session should have (SPEC §5), and keeping the
outbox in step with it.

`wanted_reminders` is pure. `sync_reminders` compares it with the live rows
and voids or adds the difference; services call it inside the same
transaction as the change that caused it, so a stale reminder can never be
claimed after the change committed.
"""

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from core.timezones import at_local
from sessions.models import (
    NOTICE_KINDS,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
)

# Home sessions and "time to book" emails go out at this clinic-local hour.
MORNING = dt.time(8, 0)

# Before any due time: asks wanted_reminders for every row, past or not.
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)

# Kinds derived from the session's state. A `missed` email is made once by
# mark_no_show and only voided here (when the session is booked again).
PLANNED_KINDS = frozenset(
    {ReminderKind.BOOKED, ReminderKind.HOME, ReminderKind.WINDOW_OPEN, ReminderKind.QUESTIONNAIRE}
)


@dataclass(frozen=True)
class Wanted:
    kind: str
    due_at: dt.datetime
    offset_hours: int | None = None


def booked_reminders(start: dt.datetime, offsets_hours: Sequence[int], now: dt.datetime) -> list[Wanted]:
    """One per offset, due `offset` hours before `start`. Those already past
    due are dropped, except the last one before the session when every one
    has passed: booking 23 hours ahead sends the 24-hour reminder at once,
    never the 72-hour one; booking 50 hours ahead sends only the 24-hour one,
    at its time."""
    if start <= now:
        return []
    # Offsets are elapsed hours, so this is plain UTC arithmetic (Python
    # subtracts from an aware time in one zone on the wall clock): 72 hours
    # before a Monday 09:00 after the spring change is Friday 08:00 local.
    start = start.astimezone(dt.UTC)
    dues = sorted(
        (Wanted(ReminderKind.BOOKED, start - dt.timedelta(hours=h), h) for h in set(offsets_hours)),
        key=lambda w: w.due_at,
    )
    future = [w for w in dues if w.due_at >= now]
    past = [w for w in dues if w.due_at < now]
    return future or past[-1:]


def wanted_reminders(
    *,
    status: str,
    is_home: bool,
    start: dt.datetime | None,
    target_date: dt.date,
    window_start: dt.date,
    tz: zoneinfo.ZoneInfo,
    offsets_hours: Sequence[int],
    now: dt.datetime,
    can_email: bool,
    questionnaire_lead_hours: int | None = None,
) -> list[Wanted]:
    """`questionnaire_lead_hours`: the clinic's lead time when the booked
    session wants a questionnaire (patient-reported measures, not answered
    yet), else None. It is due that long before the start, once per booking;
    booked later than that, it goes out at once (its due time has passed)."""
    if not can_email:
        return []
    if status == SessionStatus.BOOKED and start is not None:
        wanted = booked_reminders(start, offsets_hours, now)
        if questionnaire_lead_hours is not None and start > now:
            due = start.astimezone(dt.UTC) - dt.timedelta(hours=questionnaire_lead_hours)
            wanted.append(Wanted(ReminderKind.QUESTIONNAIRE, due, questionnaire_lead_hours))
        return wanted
    if status == SessionStatus.PLANNED:
        if is_home:
            due = at_local(target_date, MORNING, tz)
            return [Wanted(ReminderKind.HOME, due)] if due > now else []
        due = at_local(window_start, MORNING, tz)
        # A window that opened before this (re)planning gets no "time to book"
        # email: the patient is at reception or has just been told.
        return [Wanted(ReminderKind.WINDOW_OPEN, due)] if due > now else []
    return []


def sync_reminders(session: Session, *, now: dt.datetime) -> None:
    """Void pending rows that no longer fit the session, add missing ones.

    Rows already sent, failed or being sent are history and kept; a row that
    matches (same kind and due time) is never made twice."""
    clinic = session.clinic
    patient = session.patient
    # Active, or a follow-up kept after a withdrawal from treatment.
    enrolment_active = not session.enrolment_refusal()
    state = {
        "status": session.status if enrolment_active else SessionStatus.CANCELLED,
        "is_home": session.is_home,
        "start": session.start,
        "target_date": session.target_date,
        "window_start": session.window_start,
        "tz": clinic.tz,
        "offsets_hours": clinic.reminder_offsets_hours or [],
        "can_email": patient.can_receive_reminders,
        "questionnaire_lead_hours": (
            clinic.questionnaire_lead_hours
            if enrolment_active and session.status == SessionStatus.BOOKED and wants_questionnaire(session)
            else None
        ),
    }
    wanted = wanted_reminders(**state, now=now)
    live = list(session.reminders.exclude(status=ReminderStatus.VOID))
    have = {(r.kind, r.due_at) for r in live}
    # A pending row that fell due a moment ago and still fits the session
    # (same kind and due time) is the scanner's to send, not stale: judging
    # it by `now` would void a reminder that was rightly planned. So rows
    # are kept against every row the session's state calls for, past or not.
    wanted_keys = {(w.kind, w.due_at) for w in wanted_reminders(**state, now=EARLIEST)}
    keep_missed = session.status == SessionStatus.PLANNED and patient.can_receive_reminders and enrolment_active
    stale = [
        r.pk
        for r in live
        if r.status == ReminderStatus.PENDING
        and (
            (r.kind in PLANNED_KINDS and (r.kind, r.due_at) not in wanted_keys)
            or (r.kind == ReminderKind.MISSED and not keep_missed)
            or (r.kind in NOTICE_KINDS and not _notice_fits(r, session, can_email=patient.can_receive_reminders))
        )
    ]
    if stale:
        Reminder.objects.filter(pk__in=stale, status=ReminderStatus.PENDING).update(status=ReminderStatus.VOID)
    Reminder.objects.bulk_create(
        Reminder(clinic=clinic, session=session, kind=w.kind, due_at=w.due_at, offset_hours=w.offset_hours)
        for w in wanted
        if (w.kind, w.due_at) not in have
    )


def wants_questionnaire(session: Session) -> bool:
    """The session's step has patient-reported measures (SPEC §17) and the
    questionnaire has not been answered yet (a move after the answers sends none)."""
    return session.asks_questionnaire and not session.questionnaire_answered


def _notice_fits(notice: Reminder, session: Session, *, can_email: bool) -> bool:
    """A confirmation or "moved" notice fits while the booking it names still
    stands; a cancellation while the session was not booked again since
    (sessions/reminders/notices.py plans them; outbox.notice_stale_reason judges the
    same at send time)."""
    if not can_email:
        return False
    if notice.kind == ReminderKind.CANCELLED:
        return notice.ics_sequence == session.ics_sequence
    return (
        session.enrolment.status == "active"
        and session.status == SessionStatus.BOOKED
        and session.start == notice.event_start
    )


def add_missed_reminder(session: Session, *, now: dt.datetime) -> None:
    if session.patient.can_receive_reminders:
        Reminder.objects.create(clinic=session.clinic, session=session, kind=ReminderKind.MISSED, due_at=now)
