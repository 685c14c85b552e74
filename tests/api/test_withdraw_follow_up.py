"""Withdrawing from treatment while keeping the follow-up visits
(`keep_follow_up`, SPEC §12): treatments are cancelled, the follow-up
assessments stay planned, bookable and completable."""

import datetime as dt

import pytest
import time_machine

from patients.models import Enrolment
from sessions import services
from sessions.models import Reminder, ReminderStatus, SessionStatus
from tests.factories import make_protocol, step

from .conftest import START, at

# Baseline, two injections, then a follow-up 182 days after the last one (as the library's).
STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density"]),
    step("Injection", repeat=2, interval_days=14, window_after_days=14, duration_minutes=45, measures=["pain_vas"]),
    step("End of course", "assessment", interval_days=14, window_after_days=7, measures=["hair_density"],
         primary_endpoint=True),
    step("Follow-up at 6 months", "assessment", interval_days=182, anchor="treatment", window_before_days=14,
         window_after_days=14, measures=["hair_density"], follow_up=True),
]


@pytest.fixture
def course(frozen, clinic, patient, receptionist):
    patient.reminder_consent = True
    patient.email = "hanna@example.org"
    patient.save()
    protocol = make_protocol(clinic, steps=STEPS, name="Hair with follow-up")
    return services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)


def by_step(enrolment):
    return {s.step.name: s for s in enrolment.sessions.select_related("step").order_by("sequence")}


def withdraw(client, enrolment, body):
    return client.post(f"/api/v1/enrolments/{enrolment.pk}/withdraw/", body, format="json")


def test_keep_follow_up_cancels_treatment_and_keeps_the_follow_up(client_as, clinician, receptionist, course):
    services.book_session(session=by_step(course)["Baseline assessment"], start=at(START, 10),
                          practitioner=clinician, by=receptionist)
    follow_up = by_step(course)["Follow-up at 6 months"]
    pending_before = set(follow_up.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at"))
    assert pending_before  # the "time to book" email of the window

    answer = withdraw(client_as(clinician), course, {"reason": "stops injections", "keep_follow_up": True})

    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["status"], data["follow_up_kept"], data["withdrawn_reason"]) == ("withdrawn", True, "stops injections")
    statuses = {s["step_name"]: s["status"] for s in data["sessions"]}
    assert statuses == {
        "Baseline assessment": "cancelled",
        "Injection": "cancelled",
        "End of course": "cancelled",
        "Follow-up at 6 months": "planned",
    }
    # Still due 182 days after the last (cancelled) injection's target, with its reminder.
    follow_up.refresh_from_db()
    assert follow_up.target_date == START + dt.timedelta(days=14 + 14 + 182)
    assert set(follow_up.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", "due_at")) == pending_before
    assert not Reminder.objects.filter(
        session__enrolment=course, status=ReminderStatus.PENDING
    ).exclude(session=follow_up).exists()


def test_the_kept_follow_up_is_booked_and_completed_and_nothing_else_moves(client_as, clinician, course):
    assert withdraw(client_as(clinician), course, {"keep_follow_up": True}).status_code == 200
    sessions = by_step(course)
    follow_up, injection = sessions["Follow-up at 6 months"], sessions["Injection"]
    visit = at(follow_up.target_date, 10)

    booked = client_as(clinician).post(
        f"/api/v1/sessions/{follow_up.pk}/book/", {"start": visit.isoformat(), "practitioner": clinician.pk},
        format="json",
    )
    assert booked.status_code == 200, booked.content
    refused = client_as(clinician).post(
        f"/api/v1/sessions/{injection.pk}/book/", {"start": visit.isoformat(), "practitioner": clinician.pk},
        format="json",
    )
    assert refused.status_code == 409
    assert "follow-up visits only" in refused.json()["detail"]

    with time_machine.travel(visit + dt.timedelta(minutes=40), tick=False):
        done = client_as(clinician).post(
            f"/api/v1/sessions/{follow_up.pk}/complete/",
            {"outcomes": [{"measure": "hair_density", "value": 131}]},
            format="json",
        )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"
    course.refresh_from_db()
    # Withdrawn from treatment stays the enrolment's status after its last follow-up.
    assert (course.status, course.follow_up_kept) == ("withdrawn", True)


def test_without_keep_follow_up_the_follow_up_is_cancelled_too(client_as, clinician, course):
    data = withdraw(client_as(clinician), course, {}).json()
    assert {s["status"] for s in data["sessions"]} == {"cancelled"}
    assert data["follow_up_kept"] is False
    follow_up = by_step(course)["Follow-up at 6 months"]
    refused = client_as(clinician).post(
        f"/api/v1/sessions/{follow_up.pk}/book/",
        {"start": at(follow_up.target_date, 10).isoformat(), "practitioner": clinician.pk},
        format="json",
    )
    assert refused.status_code == 409


def test_keep_follow_up_without_a_follow_up_step_is_a_400_and_changes_nothing(client_as, clinician, enrolment):
    answer = withdraw(client_as(clinician), enrolment, {"keep_follow_up": True})
    assert answer.status_code == 400
    assert "keep_follow_up" in answer.json()
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.follow_up_kept) == ("active", False)
    assert not enrolment.sessions.filter(status=SessionStatus.CANCELLED).exists()


@pytest.mark.parametrize("value", ["maybe", 2, None, [], {"x": 1}])
def test_keep_follow_up_must_be_a_boolean(client_as, clinician, course, value):
    answer = withdraw(client_as(clinician), course, {"keep_follow_up": value})
    assert answer.status_code == 400
    assert "keep_follow_up" in answer.json()
    assert Enrolment.objects.get(pk=course.pk).status == "active"


def test_a_follow_up_must_be_an_assessment(client_as, manager):
    body = {
        "name": "Bad follow-up",
        "indication": "hair",
        "delivery": "injection",
        "steps": [{"name": "Injection", "kind": "treatment", "follow_up": True}],
    }
    answer = client_as(manager).post("/api/v1/protocols/", body, format="json")
    assert answer.status_code == 400
    assert "follow-up" in str(answer.json()["steps"])
