"""Completing a session with a scored instrument's items over HTTP: the
value is computed, and the outcomes and the session show it."""

import pytest

from sessions import services
from sessions.models import OutcomeMeasurement, Session
from tests.factories import make_protocol, step

from .conftest import START, at

# A = 40 %, B = 9, C = 7 + 5: SCORAD 51.5.
SCORAD_ITEMS = {
    "area_percent": 40,
    "intensity": {
        "erythema": 2, "oedema_papulation": 2, "oozing_crusts": 1, "excoriation": 2, "lichenification": 1, "dryness": 1,
    },
    "pruritus": 7,
    "sleeplessness": 5,
}


@pytest.fixture
def assessment(frozen, clinic, patient, receptionist, clinician):
    protocol = make_protocol(
        clinic,
        name="Atopic dermatitis, secretome",
        indication="atopic_dermatitis",
        delivery="topical",
        steps=[step("Assessment", "assessment", duration_minutes=30, measures=["scorad"])],
    )
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
    session = enrolment.sessions.get()
    return services.book_session(session=session, start=at(START, 10), practitioner=clinician, by=receptionist)


def complete_url(session):
    return f"/api/v1/sessions/{session.pk}/complete/"


def test_complete_with_scorad_items_shows_the_computed_value(client_as, clinician, receptionist, frozen, assessment):
    frozen.move_to(at(START, 10, 30))
    answer = client_as(clinician).post(
        complete_url(assessment), {"outcomes": [{"measure": "scorad", "items": SCORAD_ITEMS}]}, format="json"
    )
    assert answer.status_code == 200, answer.content
    [outcome] = answer.json()["outcomes"]
    assert (outcome["measure"], outcome["value"], outcome["items"]) == ("scorad", 51.5, SCORAD_ITEMS)

    summary = client_as(receptionist).get(f"/api/v1/enrolments/{assessment.enrolment_id}/outcomes/")
    assert summary.status_code == 200
    [scorad] = summary.json()
    assert (scorad["measure"], scorad["baseline"], scorad["latest"]) == ("scorad", 51.5, 51.5)
    assert [point["value"] for point in scorad["series"]] == [51.5]

    detail = client_as(receptionist).get(f"/api/v1/sessions/{assessment.pk}/").json()
    assert [(o["value"], o["items"]) for o in detail["outcomes"]] == [(51.5, SCORAD_ITEMS)]


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ({"measure": "scorad", "value": 51.5, "items": SCORAD_ITEMS}, "SCORAD: give the value or the items, not both."),
        ({"measure": "scorad"}, "SCORAD: give its items"),
        ({"measure": "scorad", "value": "51.5432"}, "SCORAD: give its items (area_percent, intensity, pruritus"),
        ({"measure": "hair_density", "items": {"area_percent": 40}}, "Hair density (phototrichogram): give its value; it is not computed from items."),
        ({"measure": "scorad", "items": {**SCORAD_ITEMS, "sleeplessness": 10.5}}, "SCORAD sleeplessness"),
        ({"measure": "scorad", "items": [40, 9, 12]}, None),  # not an object: refused by the serializer
    ],
)
def test_bad_items_are_400_on_outcomes_and_change_nothing(client_as, clinician, frozen, assessment, outcome, message):
    frozen.move_to(at(START, 10, 30))
    answer = client_as(clinician).post(complete_url(assessment), {"outcomes": [outcome]}, format="json")
    assert answer.status_code == 400, answer.content
    errors = answer.json()
    assert list(errors) == ["outcomes"]
    if message:
        assert [m for m in errors["outcomes"] if m.startswith(message)], errors
    assert Session.objects.get(pk=assessment.pk).status == "booked"
    assert not OutcomeMeasurement.objects.exists()
