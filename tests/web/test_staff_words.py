"""Issue 13: refusals in the words of the front desk, without field names
or "no more than 0 decimal places"."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.web.conftest import login

pytestmark = pytest.mark.django_db

JARGON = ["override_reason", "not_done_reason", "hair_density", "pain_vas", "decimal places", "less than or equal",
          "greater than or equal", "Ensure"]


def complete_data(**fields):
    return {"ae-TOTAL_FORMS": "0", "ae-INITIAL_FORMS": "0", "ae-MIN_NUM_FORMS": "0", "ae-MAX_NUM_FORMS": "20",
            **fields}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("700", "Too high: enter a number between 0 and 600 hairs/cm²."),
        ("-1", "Too low: enter a number between 0 and 600 hairs/cm²."),
        ("1.23456", "Use at most 4 digits after the decimal point."),
    ],
)
def test_the_complete_page_says_what_is_wrong_with_a_value(clinician, booked, value, words):
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        page = login(Client(), clinician)
        response = page.post(reverse("session_complete", args=[booked.pk]),
                             complete_data(measure_hair_density=value))
    errors = " ".join(response.context["form"].errors["measure_hair_density"])
    assert errors == words
    assert not any(word in errors for word in JARGON)


def test_missing_measures_are_named_as_staff_know_them(clinician, booked):
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        page = login(Client(), clinician)
        response = page.post(reverse("session_complete", args=[booked.pk]), complete_data())
    text = " ".join(response.context["form"].non_field_errors())
    assert "This visit records Hair density (phototrichogram): enter the results, or say why" in text
    assert not any(word in text for word in JARGON)


def test_booking_outside_the_window_says_who_may_and_how(receptionist, enrolment, clinician):
    session = enrolment.sessions.get(sequence=2)
    late = dt.datetime.combine(session.window_end + dt.timedelta(days=3), dt.time(10), tzinfo=session.clinic.tz)
    api = APIClient()
    api.force_authenticate(receptionist)
    answer = api.post(f"/api/v1/sessions/{session.pk}/book/",
                      {"start": late.isoformat(), "practitioner": clinician.pk}, format="json")
    text = answer.json()["start"][0]
    assert answer.status_code == 400
    assert "is outside the window" in text and "A clinician may book it anyway with a reason." in text
    assert not any(word in text for word in JARGON)


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ({"measure": "hair_density", "value": 700}, "Hair density (phototrichogram): 700 is outside 0–600 hairs/cm²."),
        ({"measure": "hair_density", "value": -2.5}, "Hair density (phototrichogram): -2.5 is outside 0–600 hairs/cm²."),
        ({"measure": "hair_density", "items": {"area_percent": 40}},
         "Hair density (phototrichogram): give its value; it is not computed from items."),
    ],
)
def test_an_outcome_refused_through_the_api_names_the_measure_as_staff_know_it(clinician, booked, outcome, words):
    # The message a caller passes on to staff starts with the measure's name, never its code.
    api = APIClient()
    api.force_authenticate(clinician)
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        answer = api.post(f"/api/v1/sessions/{booked.pk}/complete/", {"outcomes": [outcome]}, format="json")
    assert answer.status_code == 400
    text = " ".join(answer.json()["outcomes"])
    assert words in text
    assert not any(word in text for word in JARGON)
