"""SPEC §7: no input, however malformed, produces a 500. Each field of each
writing endpoint is replaced in turn by values of the wrong type, NUL bytes,
huge numbers and dates at the ends of the calendar; every answer is a 2xx or
a 4xx, and a 4xx that is a 400 names a field or gives a detail."""

import json

import pytest
import time_machine

from tests.factories import PatientFactory, lot_of

from .conftest import NOW, at

ODD_VALUES = [
    None,
    True,
    "",
    "\x00",
    "abc\x00def",
    10**30,
    -(10**30),
    -1,
    0,
    1.5,
    [],
    [None],
    {},
    {"a": 1},
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00+14:00",
    "2026-03-29T02:30:00",
    "x" * 10_000,
]
RAW_NUMBERS = ["1e400", "-1e400", "1e-400", "123456789012345678901234567890"]


def sweep(client, method, url, base: dict):
    for field in base:
        for value in ODD_VALUES:
            answer = getattr(client, method)(url, {**base, field: value}, format="json")
            check(answer, field, value)
        for number in RAW_NUMBERS:
            raw = json.dumps({**base, field: "__N__"}).replace('"__N__"', number)
            check(getattr(client, method)(url, raw, content_type="application/json"), field, number)


def check(answer, field, value):
    assert answer.status_code < 500, (field, value, answer.content[:300])
    if answer.status_code == 400:
        body = answer.json()
        assert isinstance(body, dict) and body, (field, value)


@pytest.fixture
def booked(frozen, receptionist, clinician, first_injection):
    from sessions import services

    return services.book_session(session=first_injection, start=at(first_injection.target_date, 10),
                                 practitioner=clinician, by=receptionist)


def test_clinic_patch(client_as, manager, clinic):
    sweep(client_as(manager), "patch", "/api/v1/clinic/", {
        "name": "C", "timezone": "Europe/Berlin", "slot_minutes": 15, "reminder_offsets_hours": [24],
        "sender_email": "a@b.example", "phone": "1", "address": "x", "closures": ["2026-12-24"],
        "opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "20:00"}],
    })
    sweep(client_as(manager), "patch", "/api/v1/clinic/", {"opening_hours": [{"weekday": 0, "opens": "08:00",
                                                                              "closes": "20:00"}]})


def test_protocol_create_and_patch(client_as, manager, hair_protocol):
    step = {"name": "S", "kind": "treatment", "repeat": 2, "interval_days": 7, "anchor": "previous",
            "window_before_days": 0, "window_after_days": 3, "duration_minutes": 30, "measures": ["pain_vas"],
            "product": "", "adjunct": "none"}
    body = {"name": "P", "indication": "hair", "delivery": "injection", "description": "", "product": "",
            "active": True, "steps": [step]}
    client = client_as(manager)
    sweep(client, "post", "/api/v1/protocols/", body)
    sweep(client, "patch", f"/api/v1/protocols/{hair_protocol.pk}/", {"steps": [step]})
    for field in step:
        for value in ODD_VALUES:
            check(client.post("/api/v1/protocols/", {**body, "steps": [{**step, field: value}]}, format="json"),
                  field, value)


def test_patient_create_and_patch(client_as, receptionist, frozen, patient):
    body = {"record_number": "R", "first_name": "A", "last_name": "B", "date_of_birth": "1980-01-01",
            "email": "", "phone": "", "skin_type": 3, "reminder_consent": False}
    sweep(client_as(receptionist), "post", "/api/v1/patients/", body)
    sweep(client_as(receptionist), "patch", f"/api/v1/patients/{patient.pk}/", body)


def test_enrolment_create(client_as, receptionist, clinician, frozen, clinic, hair_protocol):
    body = {"patient": PatientFactory(clinic=clinic).pk, "protocol": hair_protocol.pk, "start_date": "2026-03-02",
            "clinician": clinician.pk, "area": "scalp"}
    sweep(client_as(receptionist), "post", "/api/v1/enrolments/", body)


def test_session_actions(client_as, manager, clinician, frozen, enrolment, first_injection, room):
    client = client_as(manager)
    sweep(client, "post", f"/api/v1/sessions/{first_injection.pk}/book/",
          {"start": "2026-03-16T10:00", "practitioner": clinician.pk, "room": room.pk, "override_reason": ""})
    sweep(client, "post", f"/api/v1/sessions/{first_injection.pk}/no-show/", {"reason": "x"})
    sweep(client, "post", f"/api/v1/enrolments/{enrolment.pk}/withdraw/", {"reason": "x"})


def test_session_complete_and_skip(client_as, manager, booked):
    client = client_as(manager)
    with time_machine.travel(at(booked.start.date(), 12), tick=False):
        sweep(client, "post", f"/api/v1/sessions/{booked.pk}/complete/", {
            "outcomes": [{"measure": "pain_vas", "value": 2}], "notes": "", "not_done_reason": "",
            "lot": lot_of(booked.clinic).pk,
            "product_lot": "", "product_source": "", "product_form": "", "product_concentration": "",
            "adverse_events": [{"description": "d", "severity": "mild", "related_to_treatment": "no"}],
        })
        for key in ("measure", "value"):
            for value in ODD_VALUES:
                body = {"outcomes": [{"measure": "pain_vas", "value": 2, key: value}], "lot": lot_of(booked.clinic).pk}
                check(client.post(f"/api/v1/sessions/{booked.pk}/complete/", body, format="json"), key, value)
        sweep(client, "post", f"/api/v1/sessions/{booked.pk}/skip/", {"reason": "x"})


def test_query_strings(client_as, manager, frozen, first_injection):
    client = client_as(manager)
    for value in ["", "\x00", "1e400", str(10**30), "9" * 5000, "-1", "0001-01-01", "9999-12-31", "10000-01-01", "x" * 5000,
                  "true", "[]"]:
        for path, names in [
            ("/api/v1/sessions/", ["date_from", "date_to", "status", "practitioner", "patient", "enrolment", "page"]),
            ("/api/v1/reminders/", ["date_from", "date_to", "status", "kind", "session"]),
            ("/api/v1/patients/", ["search", "page"]),
            ("/api/v1/protocols/", ["all_versions", "active", "indication"]),
            ("/api/v1/enrolments/", ["patient", "protocol", "status"]),
            (f"/api/v1/sessions/{first_injection.pk}/slots/", ["date_from", "date_to", "practitioner"]),
        ]:
            for name in names:
                check(client.get(path, {name: value}), name, value)


def test_odd_ids_in_paths_are_404(client_as, manager, db):
    client = client_as(manager)
    for odd in ["0", "-1", "abc", "1.5", str(10**30), "%00", "1e5"]:
        for path in [f"/api/v1/patients/{odd}/", f"/api/v1/sessions/{odd}/", f"/api/v1/enrolments/{odd}/outcomes/",
                     f"/api/v1/protocols/{odd}/", f"/api/v1/patients/{odd}/calendar.ics"]:
            assert client.get(path).status_code == 404, path
        assert client.post(f"/api/v1/sessions/{odd}/book/", {}, format="json").status_code == 404


def test_now_is_frozen_where_it_matters():
    # The sweeps above rely on NOW; a guard that the constant stays a Sunday morning in Berlin.
    assert NOW.isoformat() == "2026-03-01T08:00:00+00:00"
