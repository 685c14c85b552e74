"""Confirmation, moved and cancelled notices (SPEC §13), sent by the outbox
in this process and read back from a real SMTP server."""

import datetime as dt
import re
from urllib.parse import urlparse

import icalendar
import time_machine

from messaging import outbox
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus
from sessions.patients.changes import update_patient
from tests import factories
from tests.messaging.conftest import parts

UTC = dt.UTC
BOOKED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WEDNESDAY_1000 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET)
THURSDAY_1430 = dt.datetime(2026, 12, 3, 13, 30, tzinfo=UTC)


def setup_clinic(clinic):
    clinic.sender_email = "desk@charite-skin.example"
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()


def enrol(patient, protocol, receptionist):
    """The one session of a single-visit course starting on 25 November."""
    return factories.enrol(patient, protocol, dt.date(2026, 11, 25), receptionist, at=BOOKED_AT).sessions.get()


def at(moment, action):
    with time_machine.travel(moment, tick=False):
        return action()


def calendar_of(message) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(parts(message)["text/calendar"])


def kind_of(message) -> str:
    return Reminder.objects.get(pk=int(message["X-Regimen-Reminder"])).kind


def links_in(text: str) -> list[str]:
    return [urlparse(u).path for u in re.findall(r"https?://\S+", text)]


def test_booking_sends_a_confirmation_with_links_unsubscribe_headers_and_a_calendar_entry(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic)
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    assert outbox.scan(now=BOOKED_AT)["sent"] == 1
    assert outbox.scan(now=BOOKED_AT + dt.timedelta(minutes=1))["claimed"] == 0  # sent once
    [message] = smtp.messages
    assert kind_of(message) == ReminderKind.CONFIRMATION
    assert message["Subject"].strip() == "Charité Skin: your appointment on Wednesday 2 December 2026, 10:00 is booked"
    found = parts(message)
    assert set(found) == {"text/plain", "text/html", "text/calendar"}
    for body in (found["text/plain"], found["text/html"]):
        assert "Wednesday 2 December 2026, 10:00" in body
        assert "Europe/Berlin" not in body
        assert "Luisenstraße 2, 10117 Berlin" in body
        assert "+49 30 450 000" in body
        assert "Injection (Scalp secretome)" in body
        assert "24 hours before the start" in body
    visit, unsubscribe = links_in(found["text/plain"])
    assert visit.startswith("/p/") and unsubscribe.startswith("/u/")
    assert f'href="http://127.0.0.1:8000{visit}"' in found["text/html"]
    # RFC 8058: one click in the mail program unsubscribes.
    assert message["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8000{unsubscribe}one-click/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    calendar = calendar_of(message)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == f"session-{session.pk}@charite.regimen"
    assert event["SEQUENCE"] == 1
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == WEDNESDAY_1000


def test_rebooking_sends_a_moved_notice_with_the_same_uid_and_a_higher_sequence_and_reminders_name_the_new_time(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic)
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    outbox.scan(now=BOOKED_AT)
    moved_at = BOOKED_AT + dt.timedelta(hours=2)
    at(
        moved_at,
        lambda: services.book_session(session=session, start=THURSDAY_1430, practitioner=clinician, by=receptionist),
    )
    assert outbox.scan(now=moved_at)["sent"] == 1
    confirmation, moved = smtp.messages
    assert kind_of(moved) == ReminderKind.MOVED
    assert "has moved to Thursday 3 December 2026, 14:30" in moved["Subject"]
    text = parts(moved)["text/plain"]
    assert "New time: Thursday 3 December 2026, 14:30" in text
    assert "Was: Wednesday 2 December 2026, 10:00" in text
    [before], [after] = calendar_of(confirmation).walk("VEVENT"), calendar_of(moved).walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("DTSTART") == THURSDAY_1430

    # The 24-hour reminder, due after the move, names the new time only.
    assert outbox.scan(now=THURSDAY_1430 - dt.timedelta(hours=24))["sent"] == 1
    reminder = smtp.messages[-1]
    assert kind_of(reminder) == ReminderKind.BOOKED
    body = parts(reminder)["text/plain"]
    assert "Thursday 3 December 2026, 14:30" in body
    assert "Wednesday 2 December" not in body
    [event] = calendar_of(reminder).walk("VEVENT")
    assert event["SEQUENCE"] == after["SEQUENCE"]


def test_a_staff_cancellation_sends_a_cancelling_calendar_entry(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    setup_clinic(clinic)
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    outbox.scan(now=BOOKED_AT)
    cancelled_at = BOOKED_AT + dt.timedelta(hours=3)
    at(cancelled_at, lambda: services.cancel_booking(session=session, by=receptionist))
    assert outbox.scan(now=cancelled_at)["sent"] == 1
    cancellation = smtp.messages[-1]
    assert kind_of(cancellation) == ReminderKind.CANCELLED
    assert cancellation["Subject"].strip() == (
        "Charité Skin: your appointment on Wednesday 2 December 2026, 10:00 is cancelled"
    )
    assert "/p/" not in parts(cancellation)["text/plain"]  # nothing left to confirm or cancel
    calendar = calendar_of(cancellation)
    assert calendar["METHOD"] == "CANCEL"
    part = next(p for p in cancellation.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "CANCEL"  # RFC 6047: the content type repeats the METHOD
    [first] = calendar_of(smtp.messages[0]).walk("VEVENT")
    [event] = calendar.walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == first["UID"]
    assert event["SEQUENCE"] > first["SEQUENCE"]
    assert event.decoded("DTSTART") == WEDNESDAY_1000
    # No reminder of the cancelled booking is left to go out; the session is
    # to be booked again, so "time to book" is what follows.
    outbox.scan(now=WEDNESDAY_1000 - dt.timedelta(hours=1))
    assert [kind_of(m) for m in smtp.messages[2:]] == [ReminderKind.WINDOW_OPEN]


def test_a_move_before_the_confirmation_went_out_confirms_the_new_time_only(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=THURSDAY_1430, practitioner=clinician, by=receptionist),
    )
    assert outbox.scan(now=BOOKED_AT)["sent"] == 1
    [message] = smtp.messages
    assert kind_of(message) == ReminderKind.CONFIRMATION
    assert "Thursday 3 December 2026, 14:30" in message["Subject"]


def test_a_cancellation_before_anything_went_out_sends_nothing(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    at(BOOKED_AT, lambda: services.cancel_booking(session=session, by=receptionist))
    assert outbox.scan(now=BOOKED_AT)["claimed"] == 0
    assert smtp.messages == []


def test_no_notices_without_email_consent(smtp, clinic, patient, quick_protocol, receptionist, clinician):
    update_patient(patient=patient, data={"reminder_consent": False}, by=receptionist, now=BOOKED_AT)
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=THURSDAY_1430, practitioner=clinician, by=receptionist),
    )
    at(BOOKED_AT, lambda: services.cancel_booking(session=session, by=receptionist))
    assert Reminder.objects.count() == 0
    assert outbox.scan(now=BOOKED_AT)["claimed"] == 0
    assert smtp.messages == []


def test_consent_withdrawn_after_the_claim_voids_a_notice_at_send_time(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    [claim] = outbox.claim_due(BOOKED_AT)
    update_patient(patient=patient, data={"reminder_consent": False}, by=receptionist, now=BOOKED_AT)
    assert outbox.send_one(claim.reminder_id, claimed_at=claim.claimed_at, now=BOOKED_AT) == outbox.VOID
    assert Reminder.objects.get(pk=claim.reminder_id).status == ReminderStatus.VOID
    assert smtp.messages == []


def test_withdrawing_the_enrolment_cancels_the_booked_visit_in_the_calendar(
    smtp, clinic, patient, quick_protocol, receptionist, clinician
):
    session = enrol(patient, quick_protocol, receptionist)
    at(
        BOOKED_AT,
        lambda: services.book_session(session=session, start=WEDNESDAY_1000, practitioner=clinician, by=receptionist),
    )
    outbox.scan(now=BOOKED_AT)
    later = BOOKED_AT + dt.timedelta(hours=1)
    at(later, lambda: services.withdraw_enrolment(enrolment=session.enrolment, by=clinician, reason="moved away"))
    assert outbox.scan(now=later)["sent"] == 1
    assert calendar_of(smtp.messages[-1])["METHOD"] == "CANCEL"
