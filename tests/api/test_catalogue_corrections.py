"""The catalogue's corrections (clinical/instruments.md, "Corrections to the
catalogue"), through the HTTP API: DLQI's "not relevant" exists only on
questions 3-10, Hamilton-Norwood is a class (change in points, never a
percent), EASI-90 is a responder definition. Expected answers are worked
from the published definitions."""

import datetime as dt

import pytest

from sessions import services
from sessions.models import OutcomeMeasurement, Session
from tests.factories import make_protocol, step

from .conftest import START, at


@pytest.fixture
def dlqi_visit(frozen, clinic, patient, receptionist, clinician):
    protocol = make_protocol(
        clinic, name="Psoriasis", indication="psoriasis", delivery="topical",
        steps=[step("Assessment", "assessment", duration_minutes=30, measures=["dlqi"])],
    )
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
    session = enrolment.sessions.get()
    return services.book_session(session=session, start=at(START, 10), practitioner=clinician, by=receptionist)


def complete(client, session, outcomes):
    return client.post(f"/api/v1/sessions/{session.pk}/complete/", {"outcomes": outcomes}, format="json")


@pytest.mark.parametrize("question", [1, 2])
def test_dlqi_not_relevant_on_question_1_or_2_is_a_400_that_changes_nothing(
    client_as, clinician, frozen, dlqi_visit, question
):
    frozen.move_to(at(START, 10, 30))
    answers = [0] * 10
    answers[question - 1] = "not_relevant"
    answer = complete(client_as(clinician), dlqi_visit, [{"measure": "dlqi", "items": {"answers": answers}}])
    assert answer.status_code == 400, answer.content
    [message] = answer.json()["outcomes"]
    assert f'DLQI question {question} has no "not_relevant" answer' in message
    assert Session.objects.get(pk=dlqi_visit.pk).status == "booked"
    assert not OutcomeMeasurement.objects.exists()


def test_dlqi_not_relevant_on_questions_3_to_10_scores_0_and_is_kept(client_as, clinician, frozen, dlqi_visit):
    frozen.move_to(at(START, 10, 30))
    # Q1 3, Q2 2, Q3-6 not relevant, Q7 "yes" (3), Q8-10 1: 3 + 2 + 3 + 3 = 11, "very large effect".
    answers = [3, 2, "not_relevant", "not_relevant", "not_relevant", "not_relevant", "yes", 1, 1, 1]
    answer = complete(client_as(clinician), dlqi_visit, [{"measure": "dlqi", "items": {"answers": answers}}])
    assert answer.status_code == 200, answer.content
    [outcome] = answer.json()["outcomes"]
    assert outcome["value"] == 11
    assert outcome["items"] == {"answers": answers}
    assert outcome["interpretation"] == {"band": "very large effect", "unanswered": [], "not_relevant": [3, 4, 5, 6]}


def two_visit_course(clinic, patient, receptionist, clinician, measures, *, indication="hair"):
    """A baseline on START and an end-of-course assessment four weeks later, both booked."""
    protocol = make_protocol(
        clinic, name="Course", indication=indication, delivery="topical",
        steps=[
            step("Baseline assessment", "assessment", measures=measures),
            step("End-of-course assessment", "assessment", interval_days=28, window_after_days=7,
                 measures=measures, primary_endpoint=True),
        ],
    )
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
    first, last = enrolment.sessions.order_by("sequence")
    services.book_session(session=first, start=at(START, 10), practitioner=clinician, by=receptionist)
    services.book_session(session=last, start=at(END, 10), practitioner=clinician, by=receptionist)
    return enrolment, first, last


END = START + dt.timedelta(days=28)


def test_norwood_is_a_class_its_change_is_in_points_and_never_a_percent(
    client_as, clinic, patient, receptionist, clinician, frozen
):
    patient.sex = "male"
    patient.save()
    enrolment, first, last = two_visit_course(clinic, patient, receptionist, clinician, ["norwood"])
    doctor = client_as(clinician)
    frozen.move_to(at(START, 10, 30))
    assert complete(doctor, first, [{"measure": "norwood", "value": 3.5}]).status_code == 200  # 3 vertex
    frozen.move_to(at(END, 10, 30))
    assert complete(doctor, last, [{"measure": "norwood", "value": 3}]).status_code == 200

    [norwood] = doctor.get(f"/api/v1/enrolments/{enrolment.pk}/outcomes/").json()
    assert norwood["measure"] == "norwood" and norwood["ordinal"] is True
    end = norwood["series"][-1]
    assert (end["value"], end["change"], end["percent_change"]) == (3, -0.5, None)
    measures = {m["code"]: m for m in doctor.get("/api/v1/measures/", {"page_size": 100}).json()["results"]}
    assert measures["norwood"]["ordinal"] is True and measures["norwood"]["value_type"] == "decimal"
    # The corrections' list of ordinal classes, each ordinal in the catalogue.
    for code in ("iga", "glogau", "scar_grade", "erythema_grade", "norwood", "ludwig"):
        assert measures[code]["ordinal"] is True, code
    for code in ("hair_density", "easi", "dlqi", "posas_patient"):
        assert measures[code]["ordinal"] is False, code


# Every region at its worst (signs 3 + 3 + 3 + 3, area 90-100 %: score 6): EASI 72.
WORST = {"erythema": 3, "oedema_papulation": 3, "excoriation": 3, "lichenification": 3, "area_percent": 100}
CLEAR = {"erythema": 0, "oedema_papulation": 0, "excoriation": 0, "lichenification": 0, "area_percent": 0}


def easi_items(**regions):
    return {"regions": {r: regions.get(r, CLEAR) for r in ("head_neck", "upper_limbs", "trunk", "lower_limbs")}}


@pytest.mark.parametrize(
    ("end_items", "end_value", "met"),
    [
        # Head and neck at its worst only: 12 x 6 x 0.1 = 7.2, exactly 90 % below 72.
        (easi_items(head_neck=WORST), 7.2, ["easi_50", "easi_75", "easi_90"]),
        # Upper limbs at their worst only: 12 x 6 x 0.2 = 14.4, an 80 % fall.
        (easi_items(upper_limbs=WORST), 14.4, ["easi_50", "easi_75"]),
    ],
)
def test_easi_90_is_a_responder_definition(
    client_as, clinic, patient, receptionist, clinician, frozen, end_items, end_value, met
):
    enrolment, first, last = two_visit_course(
        clinic, patient, receptionist, clinician, ["easi"], indication="atopic_dermatitis"
    )
    doctor = client_as(clinician)
    worst = easi_items(head_neck=WORST, upper_limbs=WORST, trunk=WORST, lower_limbs=WORST)
    frozen.move_to(at(START, 10, 30))
    assert complete(doctor, first, [{"measure": "easi", "items": worst}]).status_code == 200
    frozen.move_to(at(END, 10, 30))
    assert complete(doctor, last, [{"measure": "easi", "items": end_items}]).status_code == 200

    [easi] = doctor.get(f"/api/v1/enrolments/{enrolment.pk}/outcomes/").json()
    assert [d["code"] for d in easi["responders"]] == ["easi_50", "easi_75", "easi_90"]
    assert easi["baseline"] == 72
    end = easi["series"][-1]
    assert (end["value"], end["responder"]) == (end_value, met)
