"""Adverse events (SPEC §12): reported at a visit or between visits, with
onset, resolution, seriousness, CTCAE grade, outcome, action and
relatedness; updated later with every version kept."""

import datetime as dt

import pytest
import time_machine

from sessions.models import AdverseEvent

from .conftest import INJECTION_DAY, at


@pytest.fixture(autouse=True)
def a_week_into_the_course(enrolment):
    """The patient phones on Sunday 8 March, between the baseline and the first injection."""
    with time_machine.travel(at(dt.date(2026, 3, 8), 12), tick=False):
        yield


def report(client, enrolment, body):
    return client.post(f"/api/v1/enrolments/{enrolment.pk}/adverse-events/", body, format="json")


PHONED = {
    "description": "Swelling and redness of the scalp, phoned in",
    "grade": 2,
    "onset_date": "2026-03-05",
    "action_taken": "medication",
    "related_to_treatment": "yes",
}


def test_an_event_reported_between_visits_is_kept_with_all_its_fields(client_as, clinician, enrolment, patient):
    answer = report(client_as(clinician), enrolment, PHONED)
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert (data["patient"], data["session"], data["grade"], data["severity"], data["serious"]) == (
        patient.pk, None, 2, "moderate", False,
    )
    assert (data["onset_date"], data["resolved_date"], data["outcome"], data["action_taken"]) == (
        "2026-03-05", None, "unknown", "medication",
    )
    listed = client_as(clinician).get(f"/api/v1/enrolments/{enrolment.pk}/adverse-events/").json()
    assert [event["id"] for event in listed] == [data["id"]]


def test_a_grade_4_event_is_serious(client_as, clinician, enrolment):
    data = report(client_as(clinician), enrolment, {**PHONED, "grade": 4}).json()
    assert (data["serious"], data["severity"]) == (True, "severe")
    assert client_as(clinician).get("/api/v1/adverse-events/?serious=true").json()["count"] == 1


def test_bad_events_are_refused_naming_the_field_and_nothing_is_kept(client_as, clinician, enrolment):
    client = client_as(clinician)
    for body, field in [
        ({**PHONED, "grade": 6}, "grade"),
        ({**PHONED, "grade": 0}, "grade"),
        ({**PHONED, "resolved_date": "2026-03-04"}, "resolved_date"),
        ({**PHONED, "onset_date": "2026-03-09"}, "onset_date"),  # after today
        ({**PHONED, "outcome": "better"}, "outcome"),
        ({"description": "No grade, no severity"}, "grade"),
        ({**PHONED, "description": "  "}, "description"),
    ]:
        answer = report(client, enrolment, body)
        assert answer.status_code == 400, (body, answer.content)
        assert field in answer.json(), (body, answer.json())
    assert AdverseEvent.objects.count() == 0


def test_reception_reads_but_does_not_report(client_as, receptionist, enrolment):
    assert report(client_as(receptionist), enrolment, PHONED).status_code == 403
    assert client_as(receptionist).get(f"/api/v1/enrolments/{enrolment.pk}/adverse-events/").status_code == 200


def test_an_update_keeps_every_version(client_as, clinician, enrolment):
    event = report(client_as(clinician), enrolment, PHONED).json()
    with time_machine.travel(at(INJECTION_DAY, 9), tick=False):
        answer = client_as(clinician).patch(
            f"/api/v1/adverse-events/{event['id']}/",
            {"resolved_date": "2026-03-12", "outcome": "recovered"},
            format="json",
        )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["resolved_date"], answer.json()["outcome"], answer.json()["grade"]) == (
        "2026-03-12", "recovered", 2,
    )
    history = client_as(clinician).get(f"/api/v1/adverse-events/{event['id']}/history/").json()
    assert [(v["history_type"], v["outcome"], v["resolved_date"]) for v in history] == [
        ("+", "unknown", None),
        ("~", "recovered", "2026-03-12"),
    ]


def test_an_update_with_a_resolution_before_onset_changes_nothing(client_as, clinician, enrolment):
    event = report(client_as(clinician), enrolment, PHONED).json()
    answer = client_as(clinician).patch(
        f"/api/v1/adverse-events/{event['id']}/", {"resolved_date": "2026-03-01"}, format="json"
    )
    assert answer.status_code == 400 and "resolved_date" in answer.json()
    assert AdverseEvent.objects.get(pk=event["id"]).resolved_date is None


def test_an_event_at_a_visit_takes_the_visits_date_as_onset(client_as, clinician, booked_injection, lot):
    answer = client_as(clinician).post(
        f"/api/v1/sessions/{booked_injection.pk}/complete/",
        {"outcomes": [{"measure": "pain_vas", "value": 2}], "lot": lot.pk,
         "adverse_events": [{"description": "Pinpoint bleeding", "grade": 1, "related_to_treatment": "yes"}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    event = AdverseEvent.objects.get()
    assert (event.session_id, event.enrolment_id, str(event.onset_date), event.severity) == (
        booked_injection.pk, booked_injection.enrolment_id, "2026-03-16", "mild",
    )


def test_another_clinics_event_is_not_found(client_as, clinician, outsider, enrolment):
    event = report(client_as(clinician), enrolment, PHONED).json()
    assert client_as(outsider).get(f"/api/v1/adverse-events/{event['id']}/").status_code == 404
    assert client_as(outsider).patch(
        f"/api/v1/adverse-events/{event['id']}/", {"grade": 1}, format="json"
    ).status_code == 404
