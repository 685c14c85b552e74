"""The catalogue's corrections (clinical/instruments.md, "Corrections to the
catalogue"), through the HTTP API: DLQI's "not relevant" exists only on
questions 3-10, Hamilton-Norwood is a class (change in points, never a
percent), EASI-90 is a responder definition. Expected answers are worked
from the published definitions."""

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
