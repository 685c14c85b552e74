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
from collections.abc import Generator
from email.utils import formataddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from clinics.models import Clinic
from core.services import now as now_or
from core.text import header_text
from messaging import links
from sessions import stencils
from sessions.models import NOTICE_KINDS, Reminder, ReminderKind, Session

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
) -> str:
    """The session's calendar entry, a VEVENT as iCalendar text; a notice
    passes the booking it is about (a cancelled one is no longer on the
    session) and its SEQUENCE."""
    clinic = session.clinic
    step, protocol = session.step, session.step.protocol
    tz = clinic.tz
    lines = [
        "BEGIN:VEVENT",
        _ics_line("SUMMARY", _ics_text(f"{step.name} – {clinic.name}")),
        # Times in the clinic's zone with its TZID (and a VTIMEZONE, added by
        # _calendar), so calendars show 09:00 on either side of a DST change.
        _ics_time("DTSTART", (start or session.start).astimezone(tz)),
        _ics_time("DTEND", (end or session.end).astimezone(tz)),
        f"DTSTAMP:{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        _ics_line("UID", _ics_text(session_uid(session))),
        # Every booking, rebooking and cancellation raises it (sessions/reminders/notices.py),
        # so a calendar replaces its entry instead of adding a second one.
        f"SEQUENCE:{session.ics_sequence if sequence is None else sequence}",
        _ics_line("DESCRIPTION", _ics_text(f"{step.name} ({protocol.name}) at {clinic.name}." + _contact_line(clinic))),
    ]
    if clinic.address:
        lines.append(_ics_line("LOCATION", _ics_text(clinic.address)))
    lines += [f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "END:VEVENT"]
    return "\r\n".join(lines) + "\r\n"


def _contact_line(clinic: Clinic) -> str:
    ways = [w for w in (clinic.phone, clinic.sender_email) if w]
    return f" To reschedule, contact the clinic: {', '.join(ways)}." if ways else ""


def calendar_ics(sessions, *, now: dt.datetime | None = None) -> bytes:
    """An iCalendar file with one VEVENT per booked session (with a start)."""
    now = now_or(now)
    booked = [session for session in sessions if session.start is not None]
    return _calendar("PUBLISH", booked, [session_event(session, now=now) for session in booked])


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
    starts = [reminder.event_start or reminder.session.start]  # the event's own start, as session_event takes it
    return _calendar("CANCEL" if cancelled else "PUBLISH", [reminder.session], [event], starts=starts)


# The events are written as text rather than through icalendar's object
# model: for the one event of an email that cost more than the rest of the
# message together (docs/benchmarks.md). icalendar still writes the VTIMEZONEs
# (once per zone and span, _vtimezone) and reads the files back in the tests.


def _calendar(method: str, sessions, events: list[str], *, starts=None) -> bytes:
    """The VCALENDAR around these sessions' events, with a VTIMEZONE for
    each zone an event names; `starts` the events' starts when they are not
    the sessions' own (a notice's booking)."""
    head = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{ICS_PRODID}\r\nMETHOD:{method}\r\n".encode()
    if not events:
        return head + b"END:VCALENDAR\r\n"
    days: dict[str, list[dt.date]] = {}
    for session, start in zip(sessions, starts or [session.start for session in sessions], strict=True):
        tz = session.clinic.tz
        if tzid := _tzid(tz.key):
            days.setdefault(tzid, []).append(start.astimezone(tz).date())
    # A year either side (whole years, so that one VTIMEZONE serves many
    # files) keeps it short and covers the events. VTIMEZONEs come before
    # the events that name them.
    zones = b"".join(
        _vtimezone(tzid, (min(span) - dt.timedelta(days=366)).year, (max(span) + dt.timedelta(days=366)).year)
        for tzid, span in sorted(days.items())
    )
    return head + zones + "".join(events).encode() + b"END:VCALENDAR\r\n"


@functools.lru_cache(maxsize=256)
def _tzid(key: str) -> str | None:
    """The TZID an event's times name in this zone, or None for UTC (and
    the zones icalendar takes for it), whose times are written with Z."""
    return icalendar.vDDDTypes(dt.datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo(key))).params.get("TZID")


def _ics_time(name: str, moment: dt.datetime) -> str:
    tzid = _tzid(moment.tzinfo.key)
    if tzid is None:
        return f"{name}:{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    return f"{name};TZID={tzid}:{moment:%Y%m%dT%H%M%S}"


def _ics_text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545 §3.3.11): backslash, semicolon and
    comma escaped, a line break written as \\n."""
    escaped = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return escaped.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _ics_line(name: str, value: str) -> str:
    """A content line folded to 75 octets a line (RFC 5545 §3.1): a
    continuation starts with a space, and a character is never split."""
    line = f"{name}:{value}"
    data = line.encode()
    if len(data) <= 75:
        return line
    pieces, start, room = [], 0, 75
    while start < len(data):
        end = min(start + room, len(data))
        while end < len(data) and 0x80 <= data[end] < 0xC0:  # inside a character: end before it
            end -= 1
        pieces.append(data[start:end].decode())
        start, room = end, 74  # the continuation's leading space is the 75th octet
    return "\r\n ".join(pieces)


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


def email_context(reminder: Reminder) -> tuple[dict, dict[str, str]]:
    """What the templates get: the values that follow from the clinic and
    kind, and the email's own strings (its fields, sessions/stencils.py);
    nothing else of the patient or the session."""
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    tz = clinic.tz
    shared = {
        "kind": reminder.kind,
        "clinic": clinic,
        "timezone": tz.key,
        "contact_email": clinic.sender_email,
        "cancel_cutoff_hours": clinic.cancel_cutoff_hours,
    }
    fields = {
        "patient_name": patient.full_name,
        "step_name": session.step.name,
        "protocol_name": session.step.protocol.name,
    }
    if reminder.kind in (ReminderKind.HOME, ReminderKind.WINDOW_OPEN, ReminderKind.MISSED):
        # The days of an unbooked session; the emails about a booking name its time.
        fields["window_from"] = long_date(session.window_start)
        fields["window_to"] = long_date(session.window_end)
        fields["target_day"] = long_date(session.target_date)
    # A notice names the booking it was planned for; a reminder the
    # session's booking as it is now (after a move, the new time only).
    start = reminder.event_start if reminder.kind in NOTICE_KINDS else session.start
    end = reminder.event_end if reminder.kind in NOTICE_KINDS else session.end
    if start is not None:
        fields["when"] = long_time(start, tz)
        fields["until"] = f"{end.astimezone(tz):%H:%M}" if end else ""
    if reminder.previous_start is not None:
        fields["previous_when"] = long_time(reminder.previous_start, tz)
    if reminder.kind == ReminderKind.MISSED:
        missed = _missed_start(session)
        fields["missed_when"] = long_time(missed, tz) if missed else ""
    if reminder.kind in (ReminderKind.BOOKED, ReminderKind.CONFIRMATION, ReminderKind.MOVED):
        fields["visit_url"] = links.visit_url(session)
    if reminder.kind in (ReminderKind.WINDOW_OPEN, ReminderKind.MISSED) and clinic.patients_may_request_booking:
        fields["book_request_url"] = links.book_request_url(session)
    fields["unsubscribe_url"], fields["one_click_unsubscribe_url"] = links.unsubscribe_urls(patient.pk)
    return shared, fields


def build_email(reminder: Reminder, *, now: dt.datetime | None = None) -> EmailMultiAlternatives:
    steps = composing(reminder, now=now)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def composing(reminder: Reminder, *, now: dt.datetime | None = None) -> Generator[None, None, EmailMultiAlternatives]:
    """`build_email` a step at a time: each `next()` does a part of the work
    and the generator returns the email. The outbox composes the next email
    this way while the SMTP server answers each command of the one before
    (messaging/outbox.py)."""
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    shared, fields = email_context(reminder)
    yield
    subject = header_text(SUBJECTS[reminder.kind].format(clinic=clinic.name, when=fields.get("when", "")))
    text = stencils.render(f"reminders/{reminder.kind}.txt", clinic=clinic, shared=shared, fields=fields)
    yield
    html = stencils.render(f"reminders/{reminder.kind}.html", clinic=clinic, shared=shared, fields=fields)
    yield
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
            "X-Regimen-Kind": reminder.kind,
            "Auto-Submitted": "auto-generated",
            # RFC 8058: a mail program's "unsubscribe" button POSTs here.
            "List-Unsubscribe": f"<{fields['one_click_unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    if reminder.kind in NOTICE_KINDS:
        message.attach("appointment.ics", notice_ics(reminder, now=now).decode("utf-8"), "text/calendar")
    elif reminder.kind == ReminderKind.BOOKED and session.start is not None:
        message.attach("appointment.ics", calendar_ics([session], now=now).decode("utf-8"), "text/calendar")
    return message
