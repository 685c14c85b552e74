"""Notices about a change to a booking (SPEC §13): a confirmation when a
session is booked, a "moved" notice when it is rebooked, a cancellation when
the booking is given up. They are rows in the reminder outbox, due at once,
planned by the workflow that made the change and in its transaction, so
they have the outbox's guarantees (sent once, retried, only with consent).

Each change raises the session's `ics_sequence`; the row keeps the value and
the booking it is about, so the calendar file it carries replaces the entry
the patient already has (same UID, higher SEQUENCE)."""

import datetime as dt

from sessions.models import NOTICE_KINDS, Reminder, ReminderKind, ReminderStatus, Session


def _void_pending_notices(session: Session) -> list[Reminder]:
    """Pending notices not yet sent are overtaken by the new change; returns
    what they were (to tell a first booking from a move)."""
    pending = list(session.reminders.filter(kind__in=NOTICE_KINDS, status=ReminderStatus.PENDING))
    if pending:
        Reminder.objects.filter(pk__in=[r.pk for r in pending], status=ReminderStatus.PENDING).update(
            status=ReminderStatus.VOID, last_error="Overtaken by a later change to the booking."
        )
    return pending


def _patient_was_told(session: Session) -> bool:
    """Whether the patient has (or is being sent) a message with this
    booking in it: a notice or reminder already sent or on its way."""
    return session.reminders.filter(
        kind__in=(ReminderKind.CONFIRMATION, ReminderKind.MOVED, ReminderKind.BOOKED),
        status__in=(ReminderStatus.SENT, ReminderStatus.SENDING),
    ).exists()


def plan_booking_notice(session: Session, *, previous_start: dt.datetime | None, now: dt.datetime) -> None:
    """After `book_session`: a confirmation of a new booking, or a "moved"
    notice naming the old and the new time. A booking moved before its
    confirmation went out gets a confirmation of the new time instead."""
    session.ics_sequence += 1
    session.save(update_fields=["ics_sequence"])
    _void_pending_notices(session)
    if not session.patient.can_receive_reminders:
        return
    moved = previous_start is not None and previous_start != session.start and _patient_was_told(session)
    Reminder.objects.create(
        clinic=session.clinic,
        session=session,
        kind=ReminderKind.MOVED if moved else ReminderKind.CONFIRMATION,
        due_at=now,
        event_start=session.start,
        event_end=session.end,
        previous_start=previous_start if moved else None,
        ics_sequence=session.ics_sequence,
    )


def plan_cancel_notice(session: Session, *, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    """After a booking at [start, end) was given up (cancelled by staff or
    the patient, skipped, or its enrolment withdrawn). A booking whose
    confirmation never went out is cancelled silently: the patient's
    calendar has nothing to remove."""
    session.ics_sequence += 1
    session.save(update_fields=["ics_sequence"])
    _void_pending_notices(session)
    if not session.patient.can_receive_reminders or not _patient_was_told(session):
        return
    Reminder.objects.create(
        clinic=session.clinic,
        session=session,
        kind=ReminderKind.CANCELLED,
        due_at=now,
        event_start=start,
        event_end=end,
        ics_sequence=session.ics_sequence,
    )
