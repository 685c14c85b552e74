"""The library's hair baseline records Norwood for men and Ludwig for women
(clinical/protocols.md, second edition): completing it asks for the one grade
that applies to the patient's sex."""

import datetime as dt

import pytest
import time_machine

from protocols.models import Protocol
from protocols.services import load_library
from sessions import services
from tests.factories import complete_over_api

from .conftest import START, at


@pytest.fixture
def hair_baseline(frozen, clinic, patient, receptionist, clinician):
    def make(sex):
        patient.sex = sex
        patient.save()
        load_library(clinic)
        protocol = Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)
        enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
        baseline = enrolment.sessions.get(sequence=1)
        return services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)

    return make


def complete(client, session, grades):
    outcomes = [{"measure": "hair_density", "value": 100}, {"measure": "hair_thickness", "value": 58}]
    outcomes += [{"measure": code, "value": value} for code, value in grades.items()]
    with time_machine.travel(at(START, 10) + dt.timedelta(minutes=40), tick=False):
        return complete_over_api(client, session, {"outcomes": outcomes})


@pytest.mark.parametrize(
    ("sex", "grades", "missing"),
    [
        ("male", {}, "norwood"),
        ("male", {"ludwig": 2}, "norwood"),
        ("female", {}, "ludwig"),
        ("female", {"norwood": 3}, "ludwig"),
    ],
)
def test_the_grade_for_the_patients_sex_is_required(client_as, clinician, hair_baseline, sex, grades, missing):
    session = hair_baseline(sex)
    answer = complete(client_as(clinician), session, grades)
    assert answer.status_code == 400
    assert missing in str(answer.json()["outcomes"]).lower()  # named as staff read it
    session.refresh_from_db()
    assert session.status == "booked"


@pytest.mark.parametrize(
    ("sex", "grades"),
    [("male", {"norwood": 3.5}), ("female", {"ludwig": 2}), ("", {}), ("other", {"ludwig": 1})],
)
def test_the_other_grade_is_not_asked_for(client_as, clinician, hair_baseline, sex, grades):
    session = hair_baseline(sex)
    answer = complete(client_as(clinician), session, grades)
    assert answer.status_code == 200, answer.content
    assert {o["measure"] for o in answer.json()["outcomes"]} == {"hair_density", "hair_thickness", *grades}


def test_a_grade_outside_its_range_is_a_400(client_as, clinician, hair_baseline):
    session = hair_baseline("female")
    answer = complete(client_as(clinician), session, {"ludwig": 4})
    assert answer.status_code == 400
    assert "Ludwig grade (women): 4 is outside 1–3" in str(answer.json()["outcomes"])
