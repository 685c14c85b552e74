"""The emails to patients (SPEC §5, §13): reminders and the notices about a
booking (confirmed, moved, cancelled), each a plain-text and an HTML part
rendered from templates/reminders/, with an `.ics` attachment when they are
about a booking, a signed link to the patient's page and an unsubscribe link
(also in the List-Unsubscribe headers, RFC 8058).

Everything the patient reads is in the patient's language (SPEC §20) and
the clinic's time zone, in words: a booked 09:00 in Berlin is "Monday 30
March 2026, 09:00" or "Montag, 30. März 2026, 09:00" whatever zone the
server runs in.
"""

import datetime as dt
from email.header import Header
from email.headerregistry import Address
from email.mime.text import MIMEText

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Clinic
from core.languages import clock_time, long_date, long_time
from core.services import now as now_or
from core.text import header_text
from messaging import links
from protocols.library import shown
from sessions.models import (
    NOTICE_KINDS,
    ONLINE_CANCELLATION_WORDING,
    PATIENT_WORDING,
    BookingChange,
    BookingChangeKind,
    PatientCancellation,
    Reminder,
    ReminderKind,
    Session,
    SessionStatus,
)

ICS_PRODID = "-//Regimen//Treatment reminders//EN"


def header_words(text: str, header: str | None = None) -> str:
    """A header value safe to hand to Django: forbidden characters gone
    (core.text.header_text), and non-ASCII text as RFC 2047 encoded words of
    at most 75 characters. Django 5.2 encodes non-ASCII headers itself, but
    through the stdlib's `email.header.Header` at its default of 76
    characters a word, one over RFC 2047's limit (tests/messaging/
    test_names.py catches it); the same stdlib class, told 75, does it
    right, and Django leaves the ASCII result alone and folds it at the
    spaces between the words. Given the header's name, the first word
    leaves room for "Subject: " on its line; without it the first fold
    came right after the colon, and a reader saw the subject begin with a
    space."""
    text = header_text(text)
    if text.isascii():
        return text
    return " ".join(Header(text, "utf-8", header_name=header).encode(maxlinelen=75, linesep=" ").split())


def mailbox(name: str, address: str) -> str:
    """'Name <address>' for a From or To header: `Address` quotes a name
    with a comma or quotes; a non-ASCII name is encoded words
    (`header_words`)."""
    return str(Address(display_name=header_words(name), addr_spec=address))


def sender_address(clinic: Clinic) -> str:
    return clinic.sender_email or settings.DEFAULT_FROM_EMAIL


def sender(clinic: Clinic) -> str:
    return mailbox(clinic.name, sender_address(clinic))


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
    (a cancelled one is no longer on the session) and its SEQUENCE. Its
    words are in the active language: callers write to a patient inside
    `translation.override(patient.reading_language)`.

    Times are in UTC: an event that does not repeat needs no VTIMEZONE, and
    a calendar shows it at the clinic's 09:00 on either side of a DST
    change. (icalendar 7.3.2's `Timezone.from_tzid` writes the spring
    onset an hour late, tests/messaging/test_calendar.py.)"""
    clinic = session.clinic
    step, protocol = session.step, session.step.protocol
    event = icalendar.Event()
    event.add("summary", _("Appointment: %(visit)s – %(clinic)s") % {"visit": shown(step.name), "clinic": clinic.name})
    event.add("dtstart", (start or session.start).astimezone(dt.UTC))
    event.add("dtend", (end or session.end).astimezone(dt.UTC))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("uid", session_uid(session))
    # Every booking, rebooking and cancellation raises it (sessions/reminders/notices.py),
    # so a calendar replaces its entry instead of adding a second one.
    event.add("sequence", session.ics_sequence if sequence is None else sequence)
    event.add("organizer", f"mailto:{sender_address(clinic)}", parameters={"CN": clinic.name})
    description = _("%(visit)s (%(protocol)s) at %(clinic)s.") % {
        "visit": shown(step.name),
        "protocol": shown(protocol.name),
        "clinic": clinic.name,
    }
    event.add("description", description + _contact_line(clinic))
    if clinic.address:
        event.add("location", clinic.address)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def _contact_line(clinic: Clinic) -> str:
    ways = [w for w in (clinic.phone, clinic.sender_email) if w]
    return " " + _("To reschedule, contact the clinic: %(ways)s.") % {"ways": ", ".join(ways)} if ways else ""


def _calendar(method: str, events: list[icalendar.Event]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def calendar_ics(sessions, *, now: dt.datetime | None = None) -> bytes:
    """An iCalendar file with one VEVENT per booked session (with a start)."""
    now = now_or(now)
    return _calendar("PUBLISH", [session_event(session, now=now) for session in sessions if session.start is not None])


def notice_method(reminder: Reminder) -> str:
    return "CANCEL" if reminder.kind == ReminderKind.CANCELLED else "PUBLISH"


def notice_ics(reminder: Reminder, *, now: dt.datetime | None = None) -> bytes:
    """The calendar file of a notice: the booking it names, with the SEQUENCE
    of the change; a cancellation is METHOD:CANCEL with STATUS:CANCELLED, so
    calendar programs remove the entry they have."""
    event = session_event(
        reminder.session,
        now=now_or(now),
        start=reminder.event_start,
        end=reminder.event_end,
        sequence=reminder.ics_sequence,
        cancelled=reminder.kind == ReminderKind.CANCELLED,
    )
    return _calendar(notice_method(reminder), [event])


def ics_attachment(ics: bytes, method: str) -> MIMEText:
    """`appointment.ics`, its METHOD repeated as the content type's `method=`
    parameter (RFC 6047 §2.4), which mail programs read to offer "add" or
    "remove"."""
    part = MIMEText(ics.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="appointment.ics")
    return part


def _missed_start(session: Session) -> dt.datetime | None:
    """A no-show clears the booking; its time is still in the history."""
    record = session.history.filter(start__isnull=False).order_by("-history_date", "-history_id").first()
    return record.start if record else None


SUBJECTS = {
    ReminderKind.BOOKED: gettext_lazy("%(clinic)s: your appointment on %(when)s"),
    ReminderKind.HOME: gettext_lazy("%(clinic)s: today's home application"),
    ReminderKind.WINDOW_OPEN: gettext_lazy("%(clinic)s: time to book your next session"),
    ReminderKind.MISSED: gettext_lazy("%(clinic)s: we missed you, please rebook"),
    ReminderKind.CONFIRMATION: gettext_lazy("%(clinic)s: your appointment on %(when)s is booked"),
    ReminderKind.MOVED: gettext_lazy("%(clinic)s: your appointment has moved to %(when)s"),
    ReminderKind.CANCELLED: gettext_lazy("%(clinic)s: your appointment on %(when)s is cancelled"),
    ReminderKind.QUESTIONNAIRE: gettext_lazy("%(clinic)s: a few questions before your visit on %(when)s"),
}


def email_context(reminder: Reminder) -> dict:
    """What the templates get: the clinic and the values that follow from
    it and the kind, and the email's own strings, in the active language."""
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    tz = clinic.tz
    context = {
        "kind": reminder.kind,
        "clinic": clinic,
        "timezone": tz.key,
        "contact_email": clinic.sender_email,
        "cancel_cutoff_hours": clinic.cancel_cutoff_hours,
        "patient_name": patient.full_name,
        "step_name": shown(session.step.name),
        "protocol_name": shown(session.step.protocol.name),
    }
    if reminder.kind in (ReminderKind.HOME, ReminderKind.WINDOW_OPEN, ReminderKind.MISSED):
        # The days of an unbooked session; the emails about a booking name its time.
        context["window_from"] = long_date(session.window_start)
        context["window_to"] = long_date(session.window_end)
        context["target_day"] = long_date(session.target_date)
    # A notice names the booking it was planned for; a reminder the
    # session's booking as it is now (after a move, the new time only).
    start = reminder.event_start if reminder.kind in NOTICE_KINDS else session.start
    end = reminder.event_end if reminder.kind in NOTICE_KINDS else session.end
    if start is not None:
        context["when"] = long_time(start, tz)
        context["until"] = clock_time(end, tz) if end else ""
    if reminder.previous_start is not None:
        context["previous_when"] = long_time(reminder.previous_start, tz)
    if reminder.kind == ReminderKind.MISSED:
        missed = _missed_start(session)
        context["missed_when"] = long_time(missed, tz) if missed else ""
    if reminder.kind in (ReminderKind.BOOKED, ReminderKind.CONFIRMATION, ReminderKind.MOVED):
        context["visit_url"] = links.visit_url(session)
    if reminder.kind == ReminderKind.QUESTIONNAIRE:
        context["questionnaire_url"] = links.questionnaire_url(session)
        context["visit_url"] = ""
    if reminder.kind == ReminderKind.CANCELLED:
        context["cancel_reason"] = _cancel_reason(reminder)
    if reminder.kind == ReminderKind.BOOKED and session.start is not None:
        # A reminder sent inside the cut-off offers no online cancellation (issue 24).
        context["cancel_closed"] = not _may_cancel_online(reminder)
    if reminder.kind in (ReminderKind.WINDOW_OPEN, ReminderKind.MISSED) and clinic.patients_may_request_booking:
        context["book_request_url"] = links.book_request_url(session)
    if (
        reminder.kind in (ReminderKind.WINDOW_OPEN, ReminderKind.MISSED, ReminderKind.CANCELLED)
        and clinic.patients_may_book
        and session.status == SessionStatus.PLANNED
        and session.enrolment.status == "active"
    ):
        # Due and not booked: the patient may pick a time (SPEC §18).
        context["self_book_url"] = links.self_book_url(session)
    context["unsubscribe_url"], context["one_click_unsubscribe_url"] = links.unsubscribe_urls(patient.pk)
    return context


def _cancel_reason(reminder: Reminder) -> str:
    """Why the booking the notice is about was given up, in the patient's
    words: the staff's reason, or the patient's own online cancellation."""
    change = (
        BookingChange.objects.filter(
            session_id=reminder.session_id, kind=BookingChangeKind.CANCELLED, previous_start=reminder.event_start
        )
        .order_by("-at")
        .first()
    )
    if change is not None:
        return str(PATIENT_WORDING.get(change.reason, ""))
    if PatientCancellation.objects.filter(session_id=reminder.session_id, start=reminder.event_start).exists():
        return str(ONLINE_CANCELLATION_WORDING)
    return ""


def _may_cancel_online(reminder: Reminder) -> bool:
    """Whether, when this reminder is due, the patient may still cancel from
    the link (until `cancel_cutoff_hours` before the start, SPEC §13)."""
    from sessions.booking.responses import cancel_deadline

    return max(reminder.due_at, now_or(None)) < cancel_deadline(reminder.session)


def build_email(reminder: Reminder, *, now: dt.datetime | None = None) -> EmailMultiAlternatives:
    """The reminder's email in the patient's language: Django renders the
    two templates, and `EmailMultiAlternatives` makes the MIME message."""
    with translation.override(reminder.session.patient.reading_language):
        return _build_email(reminder, now=now)


def _build_email(reminder: Reminder, *, now: dt.datetime | None) -> EmailMultiAlternatives:
    session = reminder.session
    clinic, patient = session.clinic, session.patient
    context = email_context(reminder)
    subject = SUBJECTS[reminder.kind] % {"clinic": clinic.name, "when": context.get("when", "")}
    message = EmailMultiAlternatives(
        subject=header_words(subject, "Subject"),
        body=render_to_string(f"reminders/{reminder.kind}.txt", context),
        from_email=sender(clinic),
        to=[mailbox(patient.full_name, patient.email)],
        reply_to=[clinic.sender_email] if clinic.sender_email else None,
        headers={
            # The same id on every attempt: a receiving server that saw the
            # message already may drop the copy.
            "Message-ID": f"<reminder-{reminder.pk}@{sender_address(clinic).rpartition('@')[2] or 'regimen.invalid'}>",
            "X-Regimen-Reminder": str(reminder.pk),
            "X-Regimen-Kind": reminder.kind,
            "Auto-Submitted": "auto-generated",
            # RFC 8058: a mail program's "unsubscribe" button POSTs here.
            "List-Unsubscribe": f"<{context['one_click_unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string(f"reminders/{reminder.kind}.html", context), "text/html")
    if reminder.kind in NOTICE_KINDS:
        message.attach(ics_attachment(notice_ics(reminder, now=now), notice_method(reminder)))
    elif reminder.kind == ReminderKind.BOOKED and session.start is not None:
        message.attach(ics_attachment(calendar_ics([session], now=now), "PUBLISH"))
    return message
