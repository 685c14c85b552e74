"""A new user's course through the API, with a real token: log in, enrol,
list free slots, book, complete with outcomes, read the change from baseline.

Each step is a fixture that makes its request through the API and hands the
response on; each test checks one step, so its name says which step broke.
A fixture checks only that its own step succeeded before the next one
builds on it."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.factories import PASSWORD, lot_of

from .conftest import NOW

BASELINE_DONE_AT = dt.datetime(2026, 3, 2, 7, 40, tzinfo=dt.UTC)
INJECTION_DONE_AT = dt.datetime(2026, 3, 16, 9, 50, tzinfo=dt.UTC)


def at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def login(receptionist):
    with at(NOW):
        return APIClient().post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")


@pytest.fixture
def desk(login):
    """The receptionist's client, authenticated by the token from logging in."""
    return APIClient(HTTP_AUTHORIZATION=f"Token {ok(login)['token']}")


@pytest.fixture
def enrolled(desk, patient, hair_protocol):
    with at(NOW):
        return desk.post(
            "/api/v1/enrolments/",
            {"patient": patient.pk, "protocol": hair_protocol.pk, "start_date": "2026-03-02", "area": "vertex"},
            format="json",
        )


@pytest.fixture
def course(enrolled):
    """The enrolment's id and the ids of its baseline and first injection."""
    body = ok(enrolled, 201)
    return body["id"], body["sessions"][0]["id"], body["sessions"][1]["id"]


@pytest.fixture
def slots(desk, course, clinician, room):
    _, baseline_id, _ = course
    with at(NOW):
        return desk.get(f"/api/v1/sessions/{baseline_id}/slots/", {"practitioner": clinician.pk})


@pytest.fixture
def baseline_booked(desk, course, slots, clinician, room):
    """The baseline booked in the first free slot."""
    _, baseline_id, _ = course
    with at(NOW):
        return desk.post(
            f"/api/v1/sessions/{baseline_id}/book/",
            {"start": ok(slots)[0]["start"], "practitioner": clinician.pk, "room": room.pk},
            format="json",
        )


@pytest.fixture
def injection_booked(desk, course, baseline_booked, clinician):
    """The first injection booked by a local time without an offset."""
    ok(baseline_booked)
    _, _, injection_id = course
    with at(NOW):
        return desk.post(
            f"/api/v1/sessions/{injection_id}/book/",
            {"start": "2026-03-16T10:00", "practitioner": clinician.pk},
            format="json",
        )


@pytest.fixture
def treating(clinician):
    client = APIClient()
    client.force_authenticate(clinician)
    return client


@pytest.fixture
def baseline_completed(treating, course, injection_booked):
    ok(injection_booked)
    _, baseline_id, _ = course
    with at(BASELINE_DONE_AT):
        return treating.post(
            f"/api/v1/sessions/{baseline_id}/complete/",
            {"outcomes": [{"measure": "hair_density", "value": 100}], "product_lot": "L-1"},
            format="json",
        )


@pytest.fixture
def injection_completed(treating, course, baseline_completed, clinician):
    ok(baseline_completed)
    _, _, injection_id = course
    with at(INJECTION_DONE_AT):
        return treating.post(
            f"/api/v1/sessions/{injection_id}/complete/",
            {
                "outcomes": [{"measure": "pain_vas", "value": 2}, {"measure": "hair_density", "value": 129}],
                "lot": lot_of(clinician.clinic, "L-2").pk,
                "product_form": "lyophilised",
                "adverse_events": [{"description": "Mild erythema", "severity": "mild", "related_to_treatment": "yes"}],
            },
            format="json",
        )


@pytest.fixture
def desk_later(receptionist):
    """The receptionist logged in again after the visits: the token from the
    morning of the baseline has expired by then (TOKEN_TTL_HOURS)."""
    with at(INJECTION_DONE_AT):
        again = APIClient().post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
    return APIClient(HTTP_AUTHORIZATION=f"Token {ok(again)['token']}")


@pytest.fixture
def hair_density(desk_later, course, injection_completed):
    """The enrolment's hair density outcome after both visits."""
    ok(injection_completed)
    enrolment_id, _, _ = course
    with at(INJECTION_DONE_AT):
        outcomes = ok(desk_later.get(f"/api/v1/enrolments/{enrolment_id}/outcomes/"))
    return next(m for m in outcomes if m["measure"] == "hair_density")


def test_logging_in_gives_a_token_that_authenticates_the_desk(login):
    assert login.status_code == 200, login.content
    desk = APIClient(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
    with at(NOW):
        assert desk.get("/api/v1/enrolments/").status_code == 200


def test_the_morning_token_has_expired_two_weeks_later(desk, course, injection_completed):
    ok(injection_completed)
    with at(INJECTION_DONE_AT):
        assert desk.get("/api/v1/patients/").status_code == 401


def test_enrolling_plans_the_baseline_on_the_start_day_and_the_injection_two_to_four_weeks_later(enrolled):
    assert enrolled.status_code == 201, enrolled.content
    sessions = enrolled.json()["sessions"]
    assert [(s["sequence"], s["target_date"], s["window_end"]) for s in sessions[:2]] == [
        (1, "2026-03-02", "2026-03-02"),
        (2, "2026-03-16", "2026-03-30"),
    ]


def test_the_first_free_slot_is_at_opening_in_the_clinic_zone_with_its_offset(slots, clinician, room):
    assert slots.status_code == 200, slots.content
    first = slots.json()[0]
    # Opening is 08:00 Berlin; the slot is shown in the clinic's zone with its offset.
    assert first["start"] == "2026-03-02T08:00:00+01:00"
    assert first["end"] == "2026-03-02T08:30:00+01:00"
    assert (first["practitioner"], first["room"]) == (clinician.pk, room.pk)


def test_booking_the_first_free_slot_books_the_baseline_at_that_time(baseline_booked):
    assert baseline_booked.status_code == 200, baseline_booked.content
    assert baseline_booked.json()["status"] == "booked"
    assert baseline_booked.json()["start"] == "2026-03-02T08:00:00+01:00"


def test_booking_by_a_local_time_without_offset_reads_it_in_the_clinic_zone(injection_booked):
    assert injection_booked.status_code == 200, injection_booked.content
    assert injection_booked.json()["start"] == "2026-03-16T10:00:00+01:00"


def test_completing_the_baseline_records_its_outcome(baseline_completed):
    assert baseline_completed.status_code == 200, baseline_completed.content
    assert baseline_completed.json()["status"] == "completed"
    assert baseline_completed.json()["outcomes"][0]["measure"] == "hair_density"


def test_completing_the_injection_records_its_adverse_event(injection_completed):
    assert injection_completed.status_code == 200, injection_completed.content
    assert injection_completed.json()["adverse_events"][0]["severity"] == "mild"


def test_outcomes_show_hair_density_up_29_percent_from_baseline(hair_density):
    assert hair_density["baseline"] == 100
    assert hair_density["latest"] == 129
    assert hair_density["change"] == 29
    assert hair_density["percent_change"] == 29.0
    assert hair_density["higher_is_better"] is True


def test_outcomes_give_the_series_of_values_by_visit_date(hair_density):
    assert [(p["sequence"], p["observed_on"], p["value"]) for p in hair_density["series"]] == [
        (1, "2026-03-02", 100),
        (2, "2026-03-16", 129),
    ]
