"""Patients: create, search, edit, isolation, bad input, the calendar."""

import datetime as dt

import icalendar
import pytest

from patients.models import Patient
from sessions.models import Reminder, ReminderStatus
from sessions.services import book_session
from tests.factories import PatientFactory

from .conftest import at

VALID = {
    "record_number": "MRN-42",
    "first_name": "Jonas",
    "last_name": "Richter",
    "date_of_birth": "1975-04-02",
    "email": "jonas@example.org",
    "phone": "+49 30 555",
    "skin_type": 2,
    "reminder_consent": True,
}


def test_reception_creates_and_reads_a_patient(client_as, receptionist):
    client = client_as(receptionist)
    answer = client.post("/api/v1/patients/", VALID, format="json")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert {k: data[k] for k in VALID} == VALID
    assert data["reminder_consent_changed_at"] is not None
    assert client.get(f"/api/v1/patients/{data['id']}/").json()["record_number"] == "MRN-42"


def test_search_by_name_or_record_number(client_as, receptionist, clinic, other_clinic):
    PatientFactory(clinic=clinic, first_name="Hanna", last_name="Weber", record_number="A-100")
    PatientFactory(clinic=clinic, first_name="Jonas", last_name="Weberling", record_number="B-200")
    PatientFactory(clinic=clinic, first_name="Eva", last_name="Schulz", record_number="C-300")
    PatientFactory(clinic=other_clinic, first_name="Hanna", last_name="Weber", record_number="A-100")
    client = client_as(receptionist)

    def names(text):
        return sorted(p["last_name"] for p in client.get("/api/v1/patients/", {"search": text}).json()["results"])

    assert names("weber") == ["Weber", "Weberling"]
    assert names("hanna WEBER") == ["Weber"]
    assert names("b-2") == ["Weberling"]
    assert names("nobody") == []
    assert len(names("")) == 3
    assert client.get("/api/v1/patients/", {"search": "a\x00b"}).status_code == 400


def test_patch_withdrawing_consent_voids_pending_reminders(client_as, receptionist, frozen, enrolment, patient):
    assert Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING).exists()
    answer = client_as(receptionist).patch(f"/api/v1/patients/{patient.pk}/", {"reminder_consent": False}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["reminder_consent"] is False
    assert not Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING).exists()


def test_put_and_delete_are_not_offered(client_as, manager, patient):
    client = client_as(manager)
    assert client.put(f"/api/v1/patients/{patient.pk}/", VALID, format="json").status_code == 405
    assert client.delete(f"/api/v1/patients/{patient.pk}/").status_code == 405


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth"),
        ({"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ({"date_of_birth": "9999-12-31"}, "date_of_birth"),
        ({"date_of_birth": "2001-02-29"}, "date_of_birth"),
        ({"date_of_birth": 19750402}, "date_of_birth"),
        ({"skin_type": 0}, "skin_type"),
        ({"skin_type": 7}, "skin_type"),
        ({"skin_type": 10**30}, "skin_type"),
        ({"skin_type": "III"}, "skin_type"),
        ({"first_name": "Jo\x00nas"}, "first_name"),
        ({"record_number": "\x00"}, "record_number"),
        ({"record_number": ""}, "record_number"),
        ({"record_number": "x" * 41}, "record_number"),
        ({"email": "nope"}, "email"),
        ({"reminder_consent": "perhaps"}, "reminder_consent"),
        ({"last_name": ["Richter"]}, "last_name"),
        ({"first_name": {"a": 1}}, "first_name"),
    ],
)
def test_bad_patient_fields_are_400(client_as, receptionist, change, field):
    answer = client_as(receptionist).post("/api/v1/patients/", {**VALID, **change}, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert not Patient.objects.exists()


def test_duplicate_record_number_is_400(client_as, receptionist, patient):
    answer = client_as(receptionist).post(
        "/api/v1/patients/", {**VALID, "record_number": patient.record_number}, format="json"
    )
    assert answer.status_code == 400
    assert "record_number" in answer.json()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("null", "application/json"),
        ("", "application/json"),
        ("[" * 100_000, "application/json"),
        ('{"first_name": ' + "[" * 950 + "]" * 950 + "}", "application/json"),
        ('{"first_name": ' + "[" * 2000 + "]" * 2000 + "}", "application/json"),
        ('{"first_name": "Jo\\u0000nas"}', "application/json"),
    ],
)
def test_malformed_json_is_400(client_as, receptionist, body, content_type):
    answer = client_as(receptionist).post("/api/v1/patients/", body, content_type=content_type)
    assert answer.status_code == 400, answer.content
    assert not Patient.objects.exists()


def test_a_form_body_is_415(client_as, receptionist):
    answer = client_as(receptionist).post("/api/v1/patients/", "record_number=1", content_type="text/plain")
    assert answer.status_code == 415


def test_another_clinics_patient_is_404(client_as, manager, other_clinic):
    theirs = PatientFactory(clinic=other_clinic)
    client = client_as(manager)
    assert client.get(f"/api/v1/patients/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/patients/{theirs.pk}/", {"first_name": "X"}, format="json").status_code == 404
    assert client.get(f"/api/v1/patients/{theirs.pk}/calendar.ics").status_code == 404
    assert client.get("/api/v1/patients/").json()["count"] == 0
    for odd in ("abc", "-1", "0", "99999999999999999999999", "1.5"):
        assert client.get(f"/api/v1/patients/{odd}/").status_code == 404


def test_calendar_has_one_event_per_booking_at_the_clinics_times(
    client_as, receptionist, clinician, frozen, enrolment, baseline, first_injection, room, patient
):
    book_session(session=baseline, start=at(baseline.target_date, 9), practitioner=clinician, room=room, by=receptionist)
    book_session(session=first_injection, start=at(dt.date(2026, 3, 31), 9), practitioner=clinician,
                 override_reason="patient travels", by=clinician)
    answer = client_as(receptionist).get(f"/api/v1/patients/{patient.pk}/calendar.ics")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(answer.content)
    # In UTC, no VTIMEZONE (icalendar's is wrong at the spring change: tests/messaging/test_calendar.py).
    assert calendar.walk("VTIMEZONE") == []
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert len(events) == 2
    first, second = events
    assert "TZID" not in first["DTSTART"].params
    berlin = baseline.clinic.tz
    assert first.decoded("dtstart").astimezone(berlin).isoformat() == "2026-03-02T09:00:00+01:00"
    assert first.decoded("dtend").astimezone(berlin).isoformat() == "2026-03-02T09:30:00+01:00"
    # After the spring change (29 March) 09:00 Berlin is still 09:00, now +02:00.
    assert second.decoded("dtstart").astimezone(berlin).isoformat() == "2026-03-31T09:00:00+02:00"
    assert "Baseline assessment" in str(first["SUMMARY"]) and "Charité Skin" in str(first["SUMMARY"])
    assert str(first["UID"]) != str(second["UID"])
    again = icalendar.Calendar.from_ical(client_as(receptionist).get(f"/api/v1/patients/{patient.pk}/calendar.ics").content)
    assert sorted(str(e["UID"]) for e in again.walk("VEVENT")) == sorted(str(e["UID"]) for e in events)


def test_calendar_answers_a_calendar_client(client_as, receptionist, patient):
    answer = client_as(receptionist).get(f"/api/v1/patients/{patient.pk}/calendar.ics", HTTP_ACCEPT="text/calendar")
    assert answer.status_code == 200
    assert icalendar.Calendar.from_ical(answer.content).walk("VEVENT") == []
