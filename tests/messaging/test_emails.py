"""What the patient receives, read back from a real SMTP server."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import time_machine

from messaging import outbox
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import make_protocol, step
from tests.messaging.conftest import confirmations_delivered, parts

UTC = dt.UTC
BERLIN = "Europe/Berlin"


def by_kind(messages) -> dict[str, list]:
    """kind -> the messages of that kind, in the order they arrived."""
    kinds = dict(Reminder.objects.values_list("pk", "kind"))
    found: dict[str, list] = {}
    for message in messages:
        found.setdefault(kinds[int(message["X-Regimen-Reminder"])], []).append(message)
    return found


def setup_clinic(clinic, *, sender="desk@charite-skin.example"):
    clinic.sender_email = sender
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()


def test_a_booked_reminder_has_text_html_and_ics_in_the_clinics_time(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic)
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2026, 3, 20), by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(),
            start=dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # Monday 09:00 in Berlin (CEST)
            practitioner=clinician,
            by=receptionist,
        )
    confirmations_delivered(clinic, dt.datetime(2026, 3, 20, 10, 0, tzinfo=UTC))
    assert outbox.scan(now=dt.datetime(2026, 3, 27, 7, 0, tzinfo=UTC))["sent"] == 1
    assert outbox.scan(now=dt.datetime(2026, 3, 27, 7, 5, tzinfo=UTC))["claimed"] == 0
    [message] = smtp.messages
    reminder = Reminder.objects.get(status=ReminderStatus.SENT, kind=ReminderKind.BOOKED)

    assert (
        message["Subject"].strip() == "Charité Skin: your appointment on Monday 30 March 2026, 09:00"
    )
    assert message["From"].addresses[0].display_name == "Charité Skin"
    assert message["From"].addresses[0].addr_spec == "desk@charite-skin.example"
    assert message["Reply-To"].addresses[0].addr_spec == "desk@charite-skin.example"
    assert message["To"].addresses[0].addr_spec == patient.email
    assert message["X-Regimen-Reminder"] == str(reminder.pk)

    found = parts(message)
    assert set(found) == {"text/plain", "text/html", "text/calendar"}
    for body in (found["text/plain"], found["text/html"]):
        assert "Charité Skin" in body
        assert "Hanna Weber" in body
        assert "Monday 30 March 2026, 09:00" in body
        assert "Europe/Berlin" not in body
        assert "Injection (Scalp secretome)" in body
        assert "+49 30 450 000" in body
        assert "desk@charite-skin.example" in body
        assert "Luisenstraße 2, 10117 Berlin" in body
        assert "withdraw your consent" in body
    assert "<table" in found["text/html"]

    attachment = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(found["text/calendar"])
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == f"session-{session.pk}@charite.regimen"
    # In UTC (no VTIMEZONE needed): 09:00 in Berlin, summer time.
    assert "TZID" not in event["DTSTART"].params
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert event.decoded("DTSTART").astimezone(ZoneInfo(BERLIN)).replace(tzinfo=None) == dt.datetime(2026, 3, 30, 9)
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 30, 7, 15, tzinfo=UTC)
    assert calendar.walk("VTIMEZONE") == []
    assert str(event["ORGANIZER"]) == "mailto:desk@charite-skin.example"
    assert event["ORGANIZER"].params["CN"] == "Charité Skin"
    assert "Charité Skin" in str(event["SUMMARY"])
    assert "Luisenstraße" in str(event["LOCATION"])


def test_the_ics_uid_survives_a_rebooking_and_from_falls_back_to_the_default(
    smtp, settings, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic, sender="")
    settings.DEFAULT_FROM_EMAIL = "reminders@regimen.example"
    with time_machine.travel(dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2026, 6, 1), by=receptionist
        )
        session = enrolment.sessions.get()
        services.book_session(
            session=session, start=dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC), practitioner=clinician, by=receptionist
        )
    outbox.scan(now=dt.datetime(2026, 6, 1, 7, 1, tzinfo=UTC))
    with time_machine.travel(dt.datetime(2026, 6, 1, 7, 2, tzinfo=UTC), tick=False):
        services.book_session(
            session=session, start=dt.datetime(2026, 6, 1, 14, 0, tzinfo=UTC), practitioner=clinician, by=receptionist
        )
    outbox.scan(now=dt.datetime(2026, 6, 1, 7, 3, tzinfo=UTC))
    # The confirmation and the 24-hour reminder of 12:00, then the moved
    # notice and the 24-hour reminder of 14:00.
    kinds = by_kind(smtp.messages)
    assert sorted(kind for kind, found in kinds.items() for _ in found) == ["booked", "booked", "confirmation", "moved"]
    reminders = kinds["booked"]
    first, second = (icalendar.Calendar.from_ical(parts(m)["text/calendar"]) for m in reminders)
    [one], [two] = first.walk("VEVENT"), second.walk("VEVENT")
    assert one["UID"] == two["UID"]
    assert two["SEQUENCE"] > one["SEQUENCE"]
    assert two.decoded("DTSTART") == dt.datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    assert reminders[1]["From"].addresses[0].addr_spec == "reminders@regimen.example"
    assert reminders[1]["Reply-To"] is None
    assert "Monday 1 June 2026, 16:00" in parts(reminders[1])["text/plain"]


def test_home_application_email_at_0800_on_its_day(smtp, clinic, patient, receptionist):
    setup_clinic(clinic)
    protocol = make_protocol(
        clinic,
        steps=[step("Topical secretome serum", "home", repeat=1, interval_days=3, window_after_days=1)],
        name="Home serum",
    )
    with time_machine.travel(dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC), tick=False):
        services.enrol_patient(patient=patient, protocol=protocol, start_date=dt.date(2026, 6, 1), by=receptionist)
    home = Reminder.objects.get(kind=ReminderKind.HOME)
    assert home.due_at == dt.datetime(2026, 6, 4, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert outbox.scan(now=dt.datetime(2026, 6, 4, 5, 59, tzinfo=UTC))["claimed"] == 0
    assert outbox.scan(now=dt.datetime(2026, 6, 4, 6, 0, tzinfo=UTC))["sent"] == 1
    [message] = smtp.messages
    assert message["Subject"].strip() == "Charité Skin: today's home application"
    text = parts(message)["text/plain"]
    assert "Thursday 4 June 2026" in text
    assert "Topical secretome serum (Home serum)" in text
    assert "text/calendar" not in parts(message)


def test_window_open_email_names_the_window(smtp, clinic, patient, hair_protocol, receptionist):
    setup_clinic(clinic)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist)
    # Baseline's window opens 03-02, treatment 1's on 03-16 (SPEC §3 worked example).
    assert outbox.scan(now=dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC))["sent"] == 1
    assert outbox.scan(now=dt.datetime(2026, 3, 16, 7, 0, tzinfo=UTC))["sent"] == 1
    message = smtp.messages[1]
    assert message["Subject"].strip() == "Charité Skin: time to book your next session"
    text = parts(message)["text/plain"]
    assert "Injection (Hair regeneration)" in text
    assert "Monday 16 March 2026 to Monday 30 March 2026" in text
    assert "Europe/Berlin" not in text
    assert "Call us on +49 30 450 000" in text
    assert "ask for a booking here" in text


def test_missed_email_after_a_no_show_names_the_missed_time(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic)
    with time_machine.travel(dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2026, 6, 1), by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(),
            start=dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
            practitioner=clinician,
            by=receptionist,
        )
    outbox.scan(now=dt.datetime(2026, 6, 1, 7, 1, tzinfo=UTC))  # the confirmation and the 24-hour reminder
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, 30, tzinfo=UTC), tick=False):
        services.mark_no_show(session=session, by=receptionist)
    assert outbox.scan(now=dt.datetime(2026, 6, 1, 12, 31, tzinfo=UTC))["sent"] == 1
    message = smtp.messages[2]
    assert message["Subject"].strip() == "Charité Skin: we missed you, please rebook"
    for body in (parts(message)["text/plain"], parts(message)["text/html"]):
        assert "Monday 1 June 2026, 14:00" in body
        assert "Wednesday 1 July 2026" in body  # the end of the window to rebook in


def test_the_ics_escapes_and_folds_what_the_clinic_entered_and_names_the_organizer(
    clinic, patient, quick_protocol, receptionist, clinician
):
    """icalendar writes the VEVENT: what it reads back is what the clinic
    entered, every line within 75 octets, the times in UTC with Z."""
    from messaging.emails import calendar_ics

    clinic.name = "Charité Skin – Zentrum für Haut- und Haarbehandlung, Berlin-Mitte"
    clinic.address = "Hof 2; Haus B, 3. OG\nLuisenstraße 2 \\ 10117 Berlin"
    clinic.phone = "+49 30 450 000"
    clinic.sender_email = "desk@charite-skin.example"
    clinic.save()
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2026, 3, 20), by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(), start=dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
            practitioner=clinician, by=receptionist,
        )
    now = dt.datetime(2026, 3, 21, 8, 30, 15, tzinfo=UTC)
    raw = calendar_ics([session], now=now)
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"DTSTART:20260330T070000Z\r\n" in raw
    assert b"TZID" not in raw and b"VTIMEZONE" not in raw
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    step, protocol = session.step, session.step.protocol
    assert str(event["SUMMARY"]) == f"Appointment: {step.name} – {clinic.name}"
    assert str(event["LOCATION"]) == clinic.address
    assert str(event["DESCRIPTION"]) == (
        f"{step.name} ({protocol.name}) at {clinic.name}. To reschedule, contact the clinic: "
        "+49 30 450 000, desk@charite-skin.example."
    )
    assert event["ORGANIZER"].params["CN"] == clinic.name
    assert event.decoded("DTSTAMP") == now
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 30, 7, 15, tzinfo=UTC)
