"""The emails to patients (SPEC §5, §13): reminders and the notices about a
booking (confirmed, moved, cancelled), each a plain-text and an HTML part
rendered from templates/reminders/, with an `.ics` attachment when they are
about a booking, a signed link to the patient's page and an unsubscribe link
(also in the List-Unsubscribe headers, RFC 8058).

Everything the patient reads is in the clinic's time zone, in words: a
booked 09:00 in Berlin is "Monday 30 March 2026, 09:00" whatever zone the
server runs in.
"""

import datetime as dt
import functools
import zoneinfo
from email.utils import formataddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from clinics.models import Clinic
from core.services import now as now_or
from core.text import header_text

from . import links
from .models import NOTICE_KINDS, Reminder, ReminderKind, Session

ICS_PRODID = "-//Regimen//Treatment reminders//EN"


def long_date(day: dt.date) -> str:
    # Built by hand rather than with %-d, which is not portable; %A and %B
    # are English in the C locale the workers run in.
    return f"{day:%A} {day.day} {day:%B %Y}"


def long_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'Monday 30 March 2026, 09:00': the wall-clock time of that day in the
    clinic's zone, so DST is already accounted for (and no zone name, which
    patients do not read)."""
    local = moment.astimezone(tz)
    return f"{long_date(local.date())}, {local:%H:%M}"


def sender(clinic: Clinic) -> str:
    return formataddr((header_text(clinic.name), clinic.sender_email or settings.DEFAULT_FROM_EMAIL))


def session_uid(session: Session) -> str:
    """Stable for the session's life, so a calendar replaces the event when
    the session is rebooked instead of adding a second one."""
    return f"session-{session.pk}@{session.clinic.slug}.regimen"


def session_event(
    session: Session,
    *,
    now: dt.datetime,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    sequence: int | None = None,
    cancelled: bool = False,
) -> icalendar.Event:
    """The session's calendar entry; a notice passes the booking it is about
    (a cancelled one is no longer on the session) and its SEQUENCE."""
    tz = session.clinic.tz
    clinic = session.clinic
    step, protocol = session.step, session.step.protocol
    event = icalendar.Event()
    event.add("uid", session_uid(session))
    # Times in the clinic's zone with its TZID (and a VTIMEZONE, added by
    # the calendar), so calendars show 09:00 on either side of a DST change.
    event.add("dtstart", (start or session.start).astimezone(tz))
    event.add("dtend", (end or session.end).astimezone(tz))
    event.add("dtstamp", now.astimezone(dt.UTC))
    # Every booking, rebooking and cancellation raises it (sessions/notices.py),
    # so a calendar replaces its entry instead of adding a second one.
    event.add("sequence", session.ics_sequence if sequence is None else sequence)
    event.add("summary", f"{step.name} – {clinic.name}")
    event.add("description", f"{step.name} ({protocol.name}) at {clinic.name}." + _contact_line(clinic))
    if clinic.address:
        event.add("location", clinic.address)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _contact_line(clinic: Clinic) -> str:
    ways = [w for w in (clinic.phone, clinic.sender_email) if w]
    return f" To reschedule, contact the clinic: {', '.join(ways)}." if ways else ""


def calendar_ics(sessions, *, now: dt.datetime | None = None) -> bytes:
    """An iCalendar file with one VEVENT per booked session (with a start)."""
    now = now_or(now)
    cal = _calendar("PUBLISH")
    events = [session_event(session, now=now) for session in sessions if session.start is not None]
    return _finish(cal, events)


def notice_ics(reminder: Reminder, *, now: dt.datetime | None = None) -> bytes:
    """The calendar file of a notice: the booking it names, with the SEQUENCE
    of the change; a cancellation is METHOD:CANCEL with STATUS:CANCELLED, so
    calendar programs remove the entry they have."""
    cancelled = reminder.kind == ReminderKind.CANCELLED
    event = session_event(
        reminder.session,
        now=now_or(now),
        start=reminder.event_start,
        end=reminder.event_end,
        sequence=reminder.ics_sequence,
        cancelled=cancelled,
    )
    return _finish(_calendar("CANCEL" if cancelled else "PUBLISH"), [event])


def _calendar(method: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    return cal


def _finish(cal: icalendar.Calendar, events) -> bytes:
    starts = []
    for event in events:
        cal.add_component(event)
        starts.append(event.decoded("dtstart").date())
    if not starts:
        return cal.to_ical()
    # A year either side (whole years, so that one VTIMEZONE serves many
    # files) keeps it short and covers the events. VTIMEZONEs come before
    # the events that name them.
    first, last = min(starts) - dt.timedelta(days=366), max(starts) + dt.timedelta(days=366)
    zones = b"".join(_vtimezone(tzid, first.year, last.year) for tzid in sorted(cal.get_missing_tzids()))
    head, begin, rest = cal.to_ical().partition(b"BEGIN:VEVENT\r\n")
    return head + zones + begin + rest


@functools.lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """A zone's VTIMEZONE over whole years, as iCalendar text, made once:
    working out and writing out a zone's transitions costs more than the
    rest of a reminder's file. Empty for a zone icalendar does not know."""
    try:
        zone = icalendar.Timezone.from_tzid(
            tzid, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year, 12, 31)
        )
    except ValueError:
        return b""
    return zone.to_ical()


def _missed_start(session: Session) -> dt.datetime | None:
    """A no-show clears the booking; its time is still in the history."""
    record = session.history.filter(start__isnull=False).order_by("-history_date", "-history_id").first()
    return record.start if record else None


SUBJECTS = {
    ReminderKind.BOOKED: "{clinic}: your appointment on {when}",
    ReminderKind.HOME: "{clinic}: today's home application",
    ReminderKind.WINDOW_OPEN: "{clinic}: time to book your next session",
    ReminderKind.MISSED: "{clinic}: we missed you, please rebook",
    ReminderKind.CONFIRMATION: "{clinic}: your appointment on {when} is booked",
    ReminderKind.MOVED: "{clinic}: your appointment has moved to {when}",
    ReminderKind.CANCELLED: "{clinic}: your appointment on {when} is cancelled",
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
    # A notice names the booking it was planned for; a reminder the
    # session's booking as it is now (after a move, the new time only).
    start = reminder.event_start if reminder.kind in NOTICE_KINDS else session.start
    end = reminder.event_end if reminder.kind in NOTICE_KINDS else session.end
    if start is not None:
        context["when"] = long_time(start, tz)
        context["until"] = f"{end.astimezone(tz):%H:%M}" if end else ""
    if reminder.previous_start is not None:
        context["previous_when"] = long_time(reminder.previous_start, tz)
    if reminder.kind == ReminderKind.MISSED:
        missed = _missed_start(session)
        context["missed_when"] = long_time(missed, tz) if missed else ""
    if reminder.kind in (ReminderKind.BOOKED, ReminderKind.CONFIRMATION, ReminderKind.MOVED):
        context["visit_url"] = links.visit_url(session)
        context["cancel_cutoff_hours"] = clinic.cancel_cutoff_hours
    if reminder.kind in (ReminderKind.WINDOW_OPEN, ReminderKind.MISSED) and clinic.patients_may_request_booking:
        context["book_request_url"] = links.book_request_url(session)
    context["unsubscribe_url"] = links.unsubscribe_url(patient.pk)
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
            # RFC 8058: a mail program's "unsubscribe" button POSTs here.
            "List-Unsubscribe": f"<{links.one_click_unsubscribe_url(patient.pk)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    if reminder.kind in NOTICE_KINDS:
        message.attach("appointment.ics", notice_ics(reminder, now=now).decode("utf-8"), "text/calendar")
    elif reminder.kind == ReminderKind.BOOKED and session.start is not None:
        message.attach("appointment.ics", calendar_ics([session], now=now).decode("utf-8"), "text/calendar")
    return message
