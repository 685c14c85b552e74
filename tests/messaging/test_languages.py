"""A patient is written to in their own language (SPEC §20): the emails
(subject, text, HTML, the .ics), read back from a real SMTP server, and the
pages behind their links, whatever the browser asks for."""

import datetime as dt
import re
from urllib.parse import urlparse

import icalendar
import pytest
import time_machine
from django.test import Client

from messaging import outbox
from sessions import services
from tests import factories
from tests.messaging.conftest import parts
from tests.messaging.test_patient_links import clear_link_counters

UTC = dt.UTC
BOOKED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WEDNESDAY_1000 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (CET)
THURSDAY_1430 = dt.datetime(2026, 12, 3, 13, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_counters():
    clear_link_counters()
    yield
    clear_link_counters()


@pytest.fixture
def german_clinic(clinic):
    clinic.language = "de"
    clinic.sender_email = "desk@charite-skin.example"
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.patients_may_book = True
    clinic.save()
    return clinic


def at(moment, action):
    with time_machine.travel(moment, tick=False):
        return action()


def booked(patient, protocol, receptionist, clinician, start=WEDNESDAY_1000):
    session = factories.enrol(patient, protocol, dt.date(2026, 11, 25), receptionist, at=BOOKED_AT).sessions.get()
    return at(
        BOOKED_AT, lambda: services.book_session(session=session, start=start, practitioner=clinician, by=receptionist)
    )


def event_of(message) -> icalendar.Event:
    [event] = icalendar.Calendar.from_ical(parts(message)["text/calendar"]).walk("VEVENT")
    return event


def link_paths(message) -> list[str]:
    return [urlparse(u).path for u in re.findall(r"https?://\S+", parts(message)["text/plain"])]


def test_a_german_patients_confirmation_reminder_and_notices_are_german_with_german_dates(
    smtp, german_clinic, quick_protocol, receptionist, clinician
):
    patient = factories.PatientFactory(clinic=german_clinic, first_name="Jürgen", last_name="Weiß")
    assert patient.language == "de"  # the clinic's, as a new patient's
    session = booked(patient, quick_protocol, receptionist, clinician)
    assert outbox.scan(now=BOOKED_AT)["sent"] == 1
    [confirmation] = smtp.messages
    assert confirmation["Subject"] == "Charité Skin: Terminbestätigung für Mittwoch, 2. Dezember 2026, 10:00"
    found = parts(confirmation)
    for body in (found["text/plain"], found["text/html"]):
        assert "Guten Tag Jürgen Weiß," in body
        assert "Ihr Termin bei Charité Skin ist vereinbart:" in body
        assert "Mittwoch, 2. Dezember 2026, 10:00 bis 10:15" in body
        assert "Online absagen können Sie bis 24 Stunden vor Beginn" in body
        assert "Mit freundlichen Grüßen" in body
        for english in ("Dear", "Wednesday", "December", "appointment at", "Kind regards", "hours before"):
            assert english not in body, english
    assert '<html lang="de">' in found["text/html"]
    event = event_of(confirmation)
    assert str(event["SUMMARY"]) == "Termin: Injection – Charité Skin"
    assert str(event["DESCRIPTION"]) == (
        "Injection (Scalp secretome) bei Charité Skin. Um den Termin zu verschieben, wenden Sie sich bitte an die "
        "Praxis: +49 30 450 000, desk@charite-skin.example."
    )

    # The 24-hour reminder.
    assert outbox.scan(now=WEDNESDAY_1000 - dt.timedelta(hours=24))["sent"] == 1
    reminder = smtp.messages[1]
    assert reminder["Subject"] == "Charité Skin: Ihr Termin am Mittwoch, 2. Dezember 2026, 10:00"
    assert "wir erinnern Sie an Ihren Termin bei Charité Skin:" in parts(reminder)["text/plain"]
    assert str(event_of(reminder)["SUMMARY"]) == "Termin: Injection – Charité Skin"

    # Moved, then cancelled by the clinic.
    moved_at = WEDNESDAY_1000 - dt.timedelta(hours=20)
    at(moved_at, lambda: services.book_session(session=session, start=THURSDAY_1430, practitioner=clinician,
                                                 by=receptionist))  # fmt: skip
    assert outbox.scan(now=moved_at)["sent"] == 1
    moved = smtp.messages[2]
    assert moved["Subject"] == "Charité Skin: Ihr Termin wurde auf Donnerstag, 3. Dezember 2026, 14:30 verschoben"
    text = parts(moved)["text/plain"]
    assert "Neuer Termin: Donnerstag, 3. Dezember 2026, 14:30 bis 14:45" in text
    assert "Bisher: Mittwoch, 2. Dezember 2026, 10:00" in text
    at(moved_at, lambda: services.cancel_booking(session=session, by=receptionist, reason="clinic"))
    assert outbox.scan(now=moved_at)["sent"] == 1
    cancelled = smtp.messages[3]
    assert cancelled["Subject"] == "Charité Skin: Ihr Termin am Donnerstag, 3. Dezember 2026, 14:30 ist abgesagt"
    text = parts(cancelled)["text/plain"]
    assert "Es tut uns leid: Wir mussten den Termin absagen." in text
    assert "Einen neuen Termin können Sie hier selbst wählen:" in text
    assert str(event_of(cancelled)["SUMMARY"]) == "Termin: Injection – Charité Skin"


def test_the_english_speaking_patient_of_a_german_clinic_gets_english(
    smtp, german_clinic, quick_protocol, receptionist, clinician
):
    patient = factories.PatientFactory(clinic=german_clinic, first_name="Marco", last_name="Bianchi", language="en")
    booked(patient, quick_protocol, receptionist, clinician)
    outbox.scan(now=BOOKED_AT)
    [message] = smtp.messages
    assert message["Subject"] == "Charité Skin: your appointment on Wednesday 2 December 2026, 10:00 is booked"
    text = parts(message)["text/plain"]
    assert "Dear Marco Bianchi," in text and "Kind regards," in text and "Mittwoch" not in text
    assert str(event_of(message)["SUMMARY"]) == "Appointment: Injection – Charité Skin"


def test_the_link_pages_of_a_german_patient_are_german_whatever_the_browser_asks(
    smtp, german_clinic, quick_protocol, receptionist, clinician
):
    patient = factories.PatientFactory(clinic=german_clinic)
    booked(patient, quick_protocol, receptionist, clinician)
    outbox.scan(now=BOOKED_AT)
    visit, unsubscribe = link_paths(smtp.messages[0])
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = at(BOOKED_AT, lambda: browser.get(visit))
    assert page.status_code == 200 and page["Content-Language"] == "de"
    html = page.content.decode()
    assert '<html lang="de">' in html
    assert "<h1>Ihr Termin</h1>" in html
    assert "Mittwoch, 2. Dezember 2026, 10:00" in html
    assert "Ich komme" in html and "Sie können hier bis Dienstag, 1. Dezember 2026, 10:00 absagen." in html
    answer = at(BOOKED_AT, lambda: browser.post(visit, {"action": "confirm"}))
    assert "Vielen Dank: Wir haben notiert, dass Sie kommen." in answer.content.decode()
    assert "Keine E-Mails mehr von Charité Skin?" in browser.get(unsubscribe).content.decode()


def test_the_self_booking_page_of_a_german_patient_is_german(
    german_clinic, quick_protocol, receptionist, clinician
):
    from messaging import links

    patient = factories.PatientFactory(clinic=german_clinic)
    session = factories.enrol(patient, quick_protocol, dt.date(2026, 11, 25), receptionist, at=BOOKED_AT).sessions.get()
    page = at(BOOKED_AT, lambda: Client().get(urlparse(links.self_book_url(session)).path))
    assert page.status_code == 200 and page["Content-Language"] == "de"
    html = page.content.decode()
    assert "Wählen Sie eine Uhrzeit für Ihren Termin" in html
    assert "Zeitraum" in html and "Mittwoch, 25. November 2026 bis" in html


def test_a_bad_link_page_follows_the_browser():
    page = Client(HTTP_ACCEPT_LANGUAGE="de").get("/p/not-a-token/")
    assert page.status_code == 404 and "Dieser Link ist nicht gültig" in page.content.decode()
    assert "This link is not valid" in Client(HTTP_ACCEPT_LANGUAGE="en").get("/p/not-a-token/").content.decode()
