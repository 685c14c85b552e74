"""Issue 13: a schedule with a visit whose window holds no open day is
marked in the preview and refused (400) with the next start date that works."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from clinics.models import Closure, OpeningHours
from patients.models import Enrolment
from tests.factories import make_protocol, step
from tests.web.conftest import login

pytestmark = pytest.mark.django_db

# A baseline on the start date itself (a 0-day window), then a treatment
# two weeks later with a week's window.
STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density"]),
    step("Injection", interval_days=14, window_after_days=7, measures=["pain_vas"]),
]


@pytest.fixture(autouse=True)
def december_2026():
    # The dates below must stay within two years of "today".
    with time_machine.travel(dt.datetime(2026, 12, 15, 9, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def weekday_clinic(clinic):
    """Open Monday to Friday only, closed on the first Monday of 2027 too."""
    OpeningHours.objects.filter(clinic=clinic, weekday__in=[5, 6]).delete()
    Closure.objects.create(clinic=clinic, date=dt.date(2027, 1, 4), reason="Staff day")
    return clinic


@pytest.fixture
def protocol(weekday_clinic):
    return make_protocol(weekday_clinic, steps=STEPS, name="Scalp course")


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


def enrol(api, patient, protocol, start):
    return api.post(
        "/api/v1/enrolments/",
        {"patient": patient.pk, "protocol": protocol.pk, "start_date": start.isoformat()},
        format="json",
    )


def test_a_sunday_start_is_a_400_naming_the_next_start_that_works(api, patient, protocol):
    # Sunday 3 January 2027: the baseline's window is that Sunday alone; Monday
    # the 4th is a closure, so the next start that works is Tuesday the 5th.
    response = enrol(api, patient, protocol, dt.date(2027, 1, 3))
    assert response.status_code == 400
    message = response.json()["start_date"][0]
    assert "visit #1" in message
    assert "Tuesday 05 January 2027 (2027-01-05)" in message
    assert not Enrolment.objects.exists()
    assert enrol(api, patient, protocol, dt.date(2027, 1, 5)).status_code == 201


def test_a_closure_on_the_start_date_is_refused_and_a_clinic_never_open_says_so(api, patient, protocol, clinic):
    assert "visit #1" in enrol(api, patient, protocol, dt.date(2027, 1, 4)).json()["start_date"][0]
    OpeningHours.objects.filter(clinic=clinic).delete()
    message = enrol(api, patient, protocol, dt.date(2027, 1, 5)).json()["start_date"][0]
    assert "visits #1, #2" in message and "No start date in the coming year works" in message
    assert not Enrolment.objects.exists()


def test_home_applications_are_never_a_fault(api, patient, weekday_clinic):
    home_only = make_protocol(weekday_clinic, steps=[step("Serum at home", "home")], name="Home serum")
    assert enrol(api, patient, home_only, dt.date(2027, 1, 3)).status_code == 201


def test_the_preview_marks_the_visit_and_offers_the_date_that_works(receptionist, patient, protocol):
    page = login(Client(), receptionist)
    url = reverse("enrol", args=[patient.pk])
    response = page.post(url, {"protocol": protocol.pk, "start_date": "2027-01-03", "action": "preview"})
    html = response.content.decode()
    assert [row["unbookable"] for row in response.context["preview"]] == [True, False]
    assert 'class="unbookable"' in html and "closed all window" in html
    assert "Start on Tue 05 Jan 2027 instead" in html
    assert 'value="save"' not in html  # no "Enrol patient" under a schedule that cannot be booked
    # Pressing "Enrol" anyway (an old tab) is refused beside the start date.
    refused = page.post(url, {"protocol": protocol.pk, "start_date": "2027-01-03", "action": "save"})
    assert "next start date that works" in " ".join(refused.context["form"].errors["start_date"])
    assert not Enrolment.objects.exists()
    fine = page.post(url, {"protocol": protocol.pk, "start_date": "2027-01-05", "action": "preview"})
    assert fine.context["problem"] is None and 'value="save"' in fine.content.decode()


# Twice-weekly dressings (SPEC's chronic wound course): every three days,
# each counted from the one before, 0/+1 days.
DRESSINGS = [
    step("Baseline assessment", "assessment", measures=["wound_area"]),
    step("Dressing change", repeat=16, interval_days=3, anchor="previous", window_after_days=1,
         measures=["wound_area"]),
]


def test_visits_counted_from_the_one_before_move_with_its_booking(api, patient, weekday_clinic):
    """Every three days from a Monday, the fifth day falls on a Saturday
    whose 0/+1 window is the weekend; booked a day late, the dressing before
    it moves the Saturday one to the Monday. So a weekday clinic can run the
    course, and the preview marks nothing."""
    protocol = make_protocol(weekday_clinic, steps=DRESSINGS, name="Dressings")
    answer = enrol(api, patient, protocol, dt.date(2026, 12, 21))
    assert answer.status_code == 201, answer.json()


def test_visits_counted_from_the_start_do_not_move(api, patient, weekday_clinic):
    """Counted from the start date with a 0-day window, a visit on a Sunday
    stays there whatever the others do: refused."""
    protocol = make_protocol(
        weekday_clinic, name="Fixed dressings",
        steps=[DRESSINGS[0], {**DRESSINGS[1], "anchor": "start", "repeat": 3, "interval_days": 3,
                                                "window_after_days": 0}],
    )
    answer = enrol(api, patient, protocol, dt.date(2026, 12, 21))  # Monday: the second lands on Sunday 27th
    assert answer.status_code == 400
    assert "start_date" in answer.json()
    assert not Enrolment.objects.filter(patient=patient, protocol=protocol).exists()
