"""Issue 13: the patient record's checks, the same on the page and in the API."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from patients.models import Patient
from tests.web.conftest import login

pytestmark = pytest.mark.django_db

VALID = {
    "record_number": "MRN-77",
    "first_name": "Jonas",
    "last_name": "Richter",
    "date_of_birth": "1975-04-02",
    "email": "jonas@example.org",
    "phone": "030 5550 1101",
    "skin_type": 2,
    "reminder_consent": True,
}


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


def test_a_phone_is_kept_in_international_format(api):
    answer = api.post("/api/v1/patients/", VALID, format="json")
    assert answer.status_code == 201
    assert answer.json()["phone"] == "+49 30 55501101"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"date_of_birth": "1899-12-31"}, "date_of_birth", "before 1900"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "in the future"),
        ({"email": ""}, "email", "Email reminders need an email address"),
        ({"phone": "12"}, "phone", "too few or too many digits"),
        ({"phone": "call me"}, "phone", "not a phone number"),
    ],
)
def test_the_api_refuses_an_implausible_record_naming_the_field(api, change, field, words):
    answer = api.post("/api/v1/patients/", {**VALID, **change}, format="json")
    assert answer.status_code == 400
    assert words in " ".join(answer.json()[field])
    assert not Patient.objects.exists()


def test_an_edit_is_checked_too(api):
    patient_id = api.post("/api/v1/patients/", VALID, format="json").json()["id"]
    answer = api.patch(f"/api/v1/patients/{patient_id}/", {"email": ""}, format="json")
    assert answer.status_code == 400 and "email" in answer.json()
    assert Patient.objects.get().email == "jonas@example.org"
    assert api.patch(f"/api/v1/patients/{patient_id}/", {"email": "", "reminder_consent": False},
                     format="json").status_code == 200


def test_the_page_shows_each_problem_beside_its_field(receptionist):
    page = login(Client(), receptionist)
    data = {**VALID, "date_of_birth": "1850-01-01", "email": "", "phone": "12", "skin_type": "2",
            "reminder_consent": "on"}
    response = page.post(reverse("patient_create"), data)
    errors = response.context["form"].errors
    assert "before 1900" in errors["date_of_birth"][0]
    assert "need an email address" in errors["email"][0]
    assert "too few or too many digits" in errors["phone"][0]
    assert not Patient.objects.exists()
