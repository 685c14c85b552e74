"""Issue 24's smaller items: the reminders list's patient filter, the
cancellation email's reason and way to rebook, online cancellations in the
due list's counts, the booking page's clinician and move reasons, the
visit-day reminder within the cut-off."""

import datetime as dt

import time_machine
from django.test import Client
from django.urls import reverse

from messaging.emails import build_email
from sessions import services
from sessions.booking.responses import cancel_by_patient
from sessions.models import Reminder, ReminderKind
from tests.factories import PatientFactory
from tests.web.conftest import login

from .conftest import NOW, START, at


def _book(session, clinician, by, day=dt.date(2026, 3, 16), hour=10):
    return services.book_session(session=session, start=at(day, hour), practitioner=clinician, by=by)


def test_the_reminders_list_honours_patient(client_as, receptionist, clinician, frozen, first_injection, clinic,
                                            hair_protocol):
    other = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol,
                                   start_date=START, by=receptionist)
    _book(first_injection, clinician, receptionist)
    _book(other.sessions.get(sequence=2), clinician, receptionist, hour=12)
    client = client_as(receptionist)
    mine = client.get("/api/v1/reminders/", {"patient": first_injection.patient_id}).json()["results"]
    theirs = set(first_injection.patient.sessions.values_list("pk", flat=True))
    assert mine and {r["session"] for r in mine} <= theirs and first_injection.pk in {r["session"] for r in mine}
    assert len(client.get("/api/v1/reminders/").json()["results"]) > len(mine)
    assert client.get("/api/v1/reminders/", {"patient": "x"}).status_code == 400


def _cancel_notice(session) -> str:
    notice = Reminder.objects.get(session=session, kind=ReminderKind.CANCELLED)
    return build_email(notice).body


def test_a_clinic_cancellation_email_says_why_and_how_to_rebook(receptionist, clinician, frozen, first_injection,
                                                                 clinic):
    clinic.phone, clinic.sender_email = "+49 30 450 000", "desk@charite.example"
    clinic.save()
    _book(first_injection, clinician, receptionist)
    Reminder.objects.filter(session=first_injection, kind="confirmation").update(status="sent")
    services.cancel_booking(session=first_injection, by=receptionist, reason="clinic")
    text = _cancel_notice(first_injection)
    assert "the clinic had to cancel it" in text
    # The self-booking link belongs to a later issue: the phone it is.
    assert "To book a new time, call us on +49 30 450 000." in text


def test_a_patients_online_cancellation_counts_in_the_due_list_and_its_email_says_so(
    receptionist, clinician, frozen, first_injection, clinic
):
    _book(first_injection, clinician, receptionist)
    Reminder.objects.filter(session=first_injection, kind="confirmation").update(status="sent")
    cancel_by_patient(session=first_injection, start=at(dt.date(2026, 3, 16), 10))
    assert "You cancelled it online." in _cancel_notice(first_injection)
    page = login(Client(), receptionist).get(reverse("due")).content.decode()
    row = page[page.index('data-reason="online"'):]
    assert "Patient cancelled online</td><td>1</td>" in row


def test_the_booking_page_preselects_the_clinician_and_words_move_reasons(receptionist, clinician, frozen, clinic,
                                                                          patient, hair_protocol):
    enrolment = services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=START,
                                       clinician=clinician, by=receptionist)
    second = enrolment.sessions.get(sequence=2)
    page = login(Client(), receptionist).get(reverse("session_book", args=[second.pk])).content.decode()
    assert f'<option value="{clinician.pk}" selected>' in page
    _book(second, clinician, receptionist)
    page = login(Client(), receptionist).get(reverse("session_book", args=[second.pk])).content.decode()
    assert "Patient asked to move it" in page and "Clinic moved it" in page
    assert "Patient cancelled" not in page.split('id="slot-change-reason"')[1].split("</select>")[0]


def test_a_visit_day_reminder_offers_no_cancellation_past_the_cut_off(receptionist, clinician, first_injection,
                                                                       clinic):
    with time_machine.travel(NOW, tick=False):
        _book(first_injection, clinician, receptionist)
    reminders = {r.offset_hours: r for r in Reminder.objects.filter(session=first_injection, kind="booked")}
    with time_machine.travel(reminders[72].due_at, tick=False):
        early = build_email(reminders[72]).body
    with time_machine.travel(reminders[24].due_at + dt.timedelta(minutes=1), tick=False):
        late = build_email(reminders[24]).body
    assert "Confirm, cancel or ask to rebook" in early
    assert "Confirm or ask to rebook" in late and "too late to cancel online" in late
    assert "Confirm, cancel" not in late
