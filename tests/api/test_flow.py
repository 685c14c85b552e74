"""A new user's course through the API, with a real token: log in, enrol,
list free slots, book, complete with outcomes, read the change from baseline."""

import datetime as dt

import time_machine
from rest_framework.test import APIClient

from tests.factories import PASSWORD

from .conftest import NOW


def test_token_enrol_slots_book_complete_outcomes(receptionist, clinician, patient, hair_protocol, room):
    anonymous = APIClient()
    with time_machine.travel(NOW, tick=False):
        login = anonymous.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
        assert login.status_code == 200, login.content
        desk = APIClient(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")

        enrolled = desk.post(
            "/api/v1/enrolments/",
            {"patient": patient.pk, "protocol": hair_protocol.pk, "start_date": "2026-03-02", "area": "vertex"},
            format="json",
        )
        assert enrolled.status_code == 201, enrolled.content
        sessions = enrolled.json()["sessions"]
        assert [(s["sequence"], s["target_date"], s["window_end"]) for s in sessions[:2]] == [
            (1, "2026-03-02", "2026-03-02"),
            (2, "2026-03-16", "2026-03-30"),
        ]
        baseline_id, injection_id = sessions[0]["id"], sessions[1]["id"]

        slots = desk.get(f"/api/v1/sessions/{baseline_id}/slots/", {"practitioner": clinician.pk})
        assert slots.status_code == 200, slots.content
        first = slots.json()[0]
        # Opening is 08:00 Berlin; the slot is shown in the clinic's zone with its offset.
        assert first["start"] == "2026-03-02T08:00:00+01:00"
        assert first["end"] == "2026-03-02T08:30:00+01:00"
        assert (first["practitioner"], first["room"]) == (clinician.pk, room.pk)

        booked = desk.post(
            f"/api/v1/sessions/{baseline_id}/book/",
            {"start": first["start"], "practitioner": clinician.pk, "room": room.pk},
            format="json",
        )
        assert booked.status_code == 200, booked.content
        assert booked.json()["status"] == "booked"
        assert booked.json()["start"] == "2026-03-02T08:00:00+01:00"

        injection = desk.post(
            f"/api/v1/sessions/{injection_id}/book/",
            {"start": "2026-03-16T10:00", "practitioner": clinician.pk},
            format="json",
        )
        assert injection.status_code == 200, injection.content
        assert injection.json()["start"] == "2026-03-16T10:00:00+01:00"

    treating = APIClient()
    treating.force_authenticate(clinician)
    with time_machine.travel(dt.datetime(2026, 3, 2, 7, 40, tzinfo=dt.UTC), tick=False):
        done = treating.post(
            f"/api/v1/sessions/{baseline_id}/complete/",
            {"outcomes": [{"measure": "hair_density", "value": 100}], "product_lot": "L-1"},
            format="json",
        )
        assert done.status_code == 200, done.content
        assert done.json()["status"] == "completed"
        assert done.json()["outcomes"][0]["measure"] == "hair_density"
    with time_machine.travel(dt.datetime(2026, 3, 16, 9, 50, tzinfo=dt.UTC), tick=False):
        done = treating.post(
            f"/api/v1/sessions/{injection_id}/complete/",
            {
                "outcomes": [{"measure": "pain_vas", "value": 2}, {"measure": "hair_density", "value": 129}],
                "product_lot": "L-2",
                "product_source": "adipose",
                "product_form": "lyophilised",
                "adverse_events": [{"description": "Mild erythema", "severity": "mild", "related_to_treatment": "yes"}],
            },
            format="json",
        )
        assert done.status_code == 200, done.content
        assert done.json()["adverse_events"][0]["severity"] == "mild"

        # Two weeks on, yesterday's token has expired (TOKEN_TTL_HOURS): the desk logs in again.
        assert desk.get("/api/v1/patients/").status_code == 401
        again = anonymous.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
        desk = APIClient(HTTP_AUTHORIZATION=f"Token {again.json()['token']}")
        outcomes = desk.get(f"/api/v1/enrolments/{enrolled.json()['id']}/outcomes/")
    assert outcomes.status_code == 200, outcomes.content
    density = next(m for m in outcomes.json() if m["measure"] == "hair_density")
    assert density["baseline"] == 100
    assert density["latest"] == 129
    assert density["change"] == 29
    assert density["percent_change"] == 29.0
    assert [(p["sequence"], p["date"], p["value"]) for p in density["series"]] == [
        (1, "2026-03-02", 100),
        (2, "2026-03-16", 129),
    ]
    assert density["higher_is_better"] is True
