"""The reminder emails (SPEC §5): a plain-text and an HTML part rendered from
templates/reminders/, and for a booked session an `.ics` attachment.

Everything the patient reads is in the clinic's time zone: a booked 09:00 in
Berlin is "09:00 (Europe/Berlin)" whatever zone the server runs in.
"""

import datetime as dt
import zoneinfo
from email.utils import formataddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from clinics.models import Clinic
from core.services import now as now_or
from core.text import header_text

from .models import Reminder, ReminderKind, Session

ICS_PRODID = "-//Regimen//Treatment reminders//EN"


def long_date(day: dt.date) -> str:
    # Built by hand rather than with %-d, which is not portable; %A and %B
    # are English in the C locale the workers run in.
    return f"{day:%A} {day.day} {day:%B %Y}"


def long_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'Monday 30 March 2026 at 09:00 (Europe/Berlin)': the wall-clock time
    of that day in the clinic's zone, so DST is already accounted for."""
    local = moment.astimezone(tz)
    return f"{long_date(local.date())} at {local:%H:%M} ({tz.key})"


def sender(clinic: Clinic) -> str:
    return formataddr((header_text(clinic.name), clinic.sender_email or settings.DEFAULT_FROM_EMAIL))


def session_uid(session: Session) -> str:
    """Stable for the session's life, so a calendar replaces the event when
    the session is rebooked instead of adding a second one."""
    return f"session-{session.pk}@{session.clinic.slug}.regimen"


def session_event(session: Session, *, now: dt.datetime) -> icalendar.Event:
    tz = session.clinic.tz
    clinic = session.clinic
    step, protocol = session.step, session.step.protocol
    event = icalendar.Event()
    event.add("uid", session_uid(session))
    # Times in the clinic's zone with its TZID (and a VTIMEZONE, added by
    # the calendar), so calendars show 09:00 on either side of a DST change.
    event.add("dtstart", session.start.astimezone(tz))
    event.add("dtend", session.end.astimezone(tz))
    event.add("dtstamp", now.astimezone(dt.UTC))
    # Rebooking changes the session's history, which makes this grow.
    event.add("sequence", session.history.count())
    event.add("summary", f"{step.name} – {clinic.name}")
    event.add("description", f"{step.name} ({protocol.name}) at {clinic.name}." + _contact_line(clinic))
    if clinic.address:
        event.add("location", clinic.address)
    event.add("status", "CONFIRMED")
    return event


def _contact_line(clinic: Clinic) -> str:
    ways = [w for w in (clinic.phone, clinic.sender_email) if w]
    return f" To reschedule, contact the clinic: {', '.join(ways)}." if ways else ""


def calendar_ics(sessions, *, now: dt.datetime | None = None) -> bytes:
    """An iCalendar file with one VEVENT per booked session (with a start)."""
    now = now_or(now)
    cal = icalendar.Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    starts = []
    for session in sessions:
        if session.start is None:
            continue
        cal.add_component(session_event(session, now=now))
        starts.append(session.start.date())
    if starts:
        # A year either side keeps the VTIMEZONE short and covers the events.
        cal.add_missing_timezones(
            first_date=min(starts) - dt.timedelta(days=366), last_date=max(starts) + dt.timedelta(days=366)
        )
    return cal.to_ical()


def _missed_start(session: Session) -> dt.datetime | None:
    """A no-show clears the booking; its time is still in the history."""
    record = session.history.filter(start__isnull=False).order_by("-history_date", "-history_id").first()
    return record.start if record else None


SUBJECTS = {
    ReminderKind.BOOKED: "{clinic}: your appointment on {when}",
    ReminderKind.HOME: "{clinic}: today's home application",
    ReminderKind.WINDOW_OPEN: "{clinic}: time to book your next session",
    ReminderKind.MISSED: "{clinic}: we missed you, please rebook",
}


def email_context(reminder: Reminder) -> dict:
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    tz = clinic.tz
    context = {
        "reminder": reminder,
        "kind": reminder.kind,
        "clinic": clinic,
        "patient": patient,
        "session": session,
        "step_name": session.step.name,
        "protocol_name": session.step.protocol.name,
        "timezone": tz.key,
        "contact_email": clinic.sender_email,
        "window_from": long_date(session.window_start),
        "window_to": long_date(session.window_end),
        "target_day": long_date(session.target_date),
    }
    if session.start is not None:
        context["when"] = long_time(session.start, tz)
        context["until"] = f"{session.end.astimezone(tz):%H:%M}" if session.end else ""
    if reminder.kind == ReminderKind.MISSED:
        missed = _missed_start(session)
        context["missed_when"] = long_time(missed, tz) if missed else ""
    return context


def build_email(reminder: Reminder, *, now: dt.datetime | None = None) -> EmailMultiAlternatives:
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    context = email_context(reminder)
    subject = header_text(SUBJECTS[reminder.kind].format(clinic=clinic.name, when=context.get("when", "")))
    text = render_to_string(f"reminders/{reminder.kind}.txt", context)
    html = render_to_string(f"reminders/{reminder.kind}.html", context)
    from_email = sender(clinic)
    domain = (clinic.sender_email or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "regimen.invalid"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[formataddr((header_text(patient.full_name), patient.email))],
        reply_to=[clinic.sender_email] if clinic.sender_email else None,
        headers={
            # The same id on every attempt: a receiving server that saw the
            # message already may drop the copy.
            "Message-ID": f"<reminder-{reminder.pk}@{domain}>",
            "X-Regimen-Reminder": str(reminder.pk),
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    if reminder.kind == ReminderKind.BOOKED and session.start is not None:
        message.attach("appointment.ics", calendar_ics([session], now=now).decode("utf-8"), "text/calendar")
    return message
