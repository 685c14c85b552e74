"""Enrolments: create with the generated sessions, withdraw, outcomes."""

import datetime as dt

import pytest
import time_machine

from patients.models import Enrolment
from sessions import services
from sessions.models import Reminder, ReminderStatus, SessionStatus
from tests.factories import PatientFactory, UserFactory, lot_of, make_protocol

from .conftest import NOW, START, at


def test_reception_enrols_and_gets_the_sessions(client_as, receptionist, clinician, frozen, patient, hair_protocol):
    answer = client_as(receptionist).post(
        "/api/v1/enrolments/",
        {
            "patient": patient.pk,
            "protocol": hair_protocol.pk,
            "start_date": "2026-03-02",
            "clinician": clinician.pk,
            "area": "vertex scalp",
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert (data["patient"], data["protocol"], data["clinician"], data["area"], data["status"]) == (
        patient.pk, hair_protocol.pk, clinician.pk, "vertex scalp", "active",
    )
    assert len(data["sessions"]) == 7
    session = data["sessions"][1]
    assert {
        "id", "enrolment", "patient", "step_name", "kind", "sequence", "status", "target_date", "window_start",
        "window_end", "start", "end", "practitioner", "room", "out_of_window", "missed_count",
    } <= set(session)
    assert (session["step_name"], session["kind"], session["status"], session["start"]) == (
        "Injection", "treatment", "planned", None,
    )
    listed = client_as(receptionist).get("/api/v1/enrolments/", {"patient": patient.pk}).json()
    assert [e["id"] for e in listed["results"]] == [data["id"]]
    assert client_as(receptionist).get(f"/api/v1/enrolments/{data['id']}/").json()["sessions"] == data["sessions"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start_date": "2028-03-03"}, "start_date"),  # more than two years ahead
        ({"start_date": "2024-02-28"}, "start_date"),  # more than two years back
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"start_date": "9999-12-31"}, "start_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"start_date": "tomorrow"}, "start_date"),
        ({"start_date": None}, "start_date"),
        ({"patient": 999_999}, "patient"),
        ({"patient": 10**30}, "patient"),
        ({"patient": -1}, "patient"),
        ({"patient": "abc"}, "patient"),
        ({"patient": True}, "patient"),
        ({"patient": 1.5}, "patient"),
        ({"patient": None}, "patient"),
        ({"protocol": 999_999}, "protocol"),
        ({"protocol": [1]}, "protocol"),
        ({"clinician": 999_999}, "clinician"),
        ({"area": "x\x00y"}, "area"),
        ({"area": "x" * 201}, "area"),
    ],
)
def test_bad_enrolments_are_400_naming_the_field(client_as, receptionist, frozen, patient, hair_protocol, change, field):
    body = {"patient": patient.pk, "protocol": hair_protocol.pk, "start_date": "2026-03-02", **change}
    answer = client_as(receptionist).post("/api/v1/enrolments/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert not Enrolment.objects.exists()


def test_another_clinics_ids_in_the_body_read_as_unknown(client_as, receptionist, frozen, patient, hair_protocol,
                                                         other_clinic, outsider):
    theirs = PatientFactory(clinic=other_clinic)
    their_protocol = make_protocol(other_clinic)
    client = client_as(receptionist)
    for body, field in [
        ({"patient": theirs.pk, "protocol": hair_protocol.pk}, "patient"),
        ({"patient": patient.pk, "protocol": their_protocol.pk}, "protocol"),
        ({"patient": patient.pk, "protocol": hair_protocol.pk, "clinician": outsider.pk}, "clinician"),
    ]:
        answer = client.post("/api/v1/enrolments/", {**body, "start_date": "2026-03-02"}, format="json")
        assert answer.status_code == 400
        assert answer.json()[field] == [f"Unknown id {body[field] if field != 'clinician' else outsider.pk}."]
    assert not Enrolment.objects.exists()


def test_a_receptionist_is_not_a_treating_clinician(client_as, receptionist, frozen, patient, hair_protocol):
    body = {"patient": patient.pk, "protocol": hair_protocol.pk, "start_date": "2026-03-02", "clinician": receptionist.pk}
    answer = client_as(receptionist).post("/api/v1/enrolments/", body, format="json")
    assert answer.status_code == 400
    assert "clinician" in answer.json()


def test_an_old_protocol_version_cannot_take_enrolments(client_as, manager, frozen, enrolment, hair_protocol, patient):
    client_as(manager).patch(f"/api/v1/protocols/{hair_protocol.pk}/", {"description": "v2"}, format="json")
    body = {"patient": patient.pk, "protocol": hair_protocol.pk, "start_date": "2026-03-09"}
    answer = client_as(manager).post("/api/v1/enrolments/", body, format="json")
    assert answer.status_code == 400
    assert "protocol" in answer.json()


def test_clinician_withdraws_and_open_sessions_are_cancelled(client_as, clinician, receptionist, frozen, enrolment,
                                                             baseline):
    services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)
    assert client_as(receptionist).post(f"/api/v1/enrolments/{enrolment.pk}/withdraw/", {}, format="json").status_code == 403
    answer = client_as(clinician).post(
        f"/api/v1/enrolments/{enrolment.pk}/withdraw/", {"reason": "moved away"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["status"], data["withdrawn_reason"]) == ("withdrawn", "moved away")
    assert {s["status"] for s in data["sessions"]} == {"cancelled"}
    assert not Reminder.objects.filter(session__enrolment=enrolment, status=ReminderStatus.PENDING).exists()
    again = client_as(clinician).post(f"/api/v1/enrolments/{enrolment.pk}/withdraw/", {}, format="json")
    assert again.status_code == 409


def test_outcomes_per_measure(client_as, receptionist, clinician, enrolment, baseline, first_injection):
    with time_machine.travel(NOW, tick=False):
        services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)
        services.book_session(session=first_injection, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician,
                              by=receptionist)
    with time_machine.travel(at(START, 10, 30), tick=False):
        services.complete_session(session=baseline, by=clinician, outcomes=[{"measure": "hair_density", "value": 100}])
    with time_machine.travel(at(dt.date(2026, 3, 16), 10, 30), tick=False):
        services.complete_session(
            session=first_injection, by=clinician,
            outcomes=[{"measure": "hair_density", "value": "129.5"}, {"measure": "pain_vas", "value": 3}],
            lot=lot_of(first_injection.clinic),
        )
    answer = client_as(receptionist).get(f"/api/v1/enrolments/{enrolment.pk}/outcomes/")
    assert answer.status_code == 200
    by_code = {m["measure"]: m for m in answer.json()}
    density = by_code["hair_density"]
    assert (density["baseline"], density["latest"], density["change"], density["percent_change"]) == (
        100, 129.5, 29.5, 29.5,
    )
    assert density["improved"] is True
    assert density["unit"] == "hairs/cm²"
    pain = by_code["pain_vas"]
    # Pain is not recorded at the baseline visit: no baseline, no change (never the first injection's value).
    assert (pain["baseline"], pain["latest"], pain["change"], pain["percent_change"]) == (None, 3, None, None)
    assert [p["session"] for p in density["series"]] == [baseline.pk, first_injection.pk]


def test_another_clinics_enrolment_is_404(client_as, outsider, frozen, enrolment):
    client = client_as(outsider)
    assert client.get(f"/api/v1/enrolments/{enrolment.pk}/").status_code == 404
    assert client.get(f"/api/v1/enrolments/{enrolment.pk}/outcomes/").status_code == 404
    assert client.post(f"/api/v1/enrolments/{enrolment.pk}/withdraw/", {}, format="json").status_code == 404
    assert client.get("/api/v1/enrolments/").json()["count"] == 0
    enrolment.refresh_from_db()
    assert enrolment.status == "active"


def test_enrolment_filters(client_as, receptionist, frozen, enrolment, clinic, hair_protocol):
    other = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol, start_date=START,
                                   by=receptionist)
    services.withdraw_enrolment(enrolment=other, by=UserFactory(clinic=clinic, role="clinician"))
    client = client_as(receptionist)
    assert [e["id"] for e in client.get("/api/v1/enrolments/", {"status": "withdrawn"}).json()["results"]] == [other.pk]
    assert client.get("/api/v1/enrolments/", {"status": "paused"}).status_code == 400
    assert client.get("/api/v1/enrolments/", {"patient": "x"}).status_code == 400
    assert "patient" in client.get("/api/v1/enrolments/", {"patient": "1e5"}).json()
    assert client.get("/api/v1/enrolments/", {"patient": 10**30}).status_code == 400
    assert SessionStatus.CANCELLED in {s["status"] for s in client.get(f"/api/v1/enrolments/{other.pk}/").json()["sessions"]}
