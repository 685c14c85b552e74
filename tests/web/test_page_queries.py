"""The staff pages cost the same queries whatever the number of rows (SPEC
§15): the patient page for one enrolment and for ten (each with a completed
visit and outcomes), the agenda for a day of two visits and of twenty.
Times are measured by `make bench`, never asserted here."""

import datetime as dt

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions import services
from tests.factories import PatientFactory, RoomFactory, UserFactory, lot_of, make_protocol, step

from .conftest import login

BERLIN = "Europe/Berlin"
MONDAY = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # 08:00 in Berlin
ONE_VISIT = [step("Visit", "treatment", duration_minutes=30, measures=["hair_density", "pain_vas"])]


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path)
    assert answer.status_code == 200, answer.content[:500]
    return len(queries)


def _course(patient, protocol, *, day: int, receptionist, clinician):
    """An enrolment whose one visit was booked on the day-th day after
    MONDAY at 09:00 and completed with outcomes."""
    start = MONDAY + dt.timedelta(days=day, hours=1)
    with time_machine.travel(MONDAY + dt.timedelta(days=day), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=start.date(), clinician=clinician, by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(), start=start, practitioner=clinician, by=receptionist
        )
    with time_machine.travel(start + dt.timedelta(minutes=40), tick=False):
        services.complete_session(
            session=session, by=clinician,
            outcomes=[{"measure": "hair_density", "value": 120 + day}, {"measure": "pain_vas", "value": 3}],
            adverse_events=[{"description": "Mild redness", "severity": "mild"}],
            lot=lot_of(patient.clinic),
        )  # fmt: skip
    return enrolment


def test_the_patient_page_costs_the_same_for_one_enrolment_and_for_ten(client, clinic, receptionist, clinician):
    protocol = make_protocol(clinic, steps=ONE_VISIT, name="One visit")
    patient = PatientFactory(clinic=clinic)
    login(client, receptionist)
    _course(patient, protocol, day=0, receptionist=receptionist, clinician=clinician)
    with time_machine.travel(MONDAY + dt.timedelta(days=20), tick=False):
        one = _queries(client, f"/patients/{patient.pk}/")
    for day in range(1, 10):
        _course(patient, protocol, day=day, receptionist=receptionist, clinician=clinician)
    with time_machine.travel(MONDAY + dt.timedelta(days=20), tick=False):
        answer = client.get(f"/patients/{patient.pk}/")
        ten = _queries(client, f"/patients/{patient.pk}/")
    assert answer.content.count(b"One visit") >= 10
    assert ten == one


def test_the_agenda_costs_the_same_for_two_visits_and_for_twenty(client, clinic, receptionist):
    protocol = make_protocol(clinic, steps=ONE_VISIT, name="One visit")
    doctors = [UserFactory(clinic=clinic, role="clinician", username=f"doc{n}") for n in range(4)]
    rooms = [RoomFactory(clinic=clinic, name=f"Room {n}") for n in range(4)]
    login(client, receptionist)

    def book(count: int, offset: int) -> None:
        with time_machine.travel(MONDAY - dt.timedelta(days=1), tick=False):
            for n in range(offset, offset + count):
                patient = PatientFactory(clinic=clinic)
                enrolment = services.enrol_patient(
                    patient=patient, protocol=protocol, start_date=MONDAY.date(), by=receptionist
                )
                services.book_session(
                    session=enrolment.sessions.get(), start=MONDAY + dt.timedelta(minutes=30 * (n // 4)),
                    practitioner=doctors[n % 4], room=rooms[n % 4], by=receptionist,
                )  # fmt: skip

    book(2, 0)
    with time_machine.travel(MONDAY - dt.timedelta(days=1), tick=False):
        two = _queries(client, "/agenda/?date=2026-03-02")
        by_room_two = _queries(client, "/agenda/?date=2026-03-02&by=room")
    book(18, 2)
    with time_machine.travel(MONDAY - dt.timedelta(days=1), tick=False):
        answer = client.get("/agenda/?date=2026-03-02")
        twenty = _queries(client, "/agenda/?date=2026-03-02")
        by_room_twenty = _queries(client, "/agenda/?date=2026-03-02&by=room")
    assert answer.context["count"] == 20
    assert (twenty, by_room_twenty) == (two, by_room_two)
