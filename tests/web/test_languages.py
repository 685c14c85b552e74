"""Which language staff read (SPEC §20): their own, when they chose one, else
their browser's Accept-Language; and where a clinic's and a patient's
language are set (pages and API)."""

import pytest
from django.test import Client
from django.urls import reverse

from core.languages import Language
from patients.models import Patient
from tests.factories import PatientFactory
from tests.web.conftest import login
from tests.web.test_settings_page import settings_post

pytestmark = pytest.mark.django_db

ACCOUNT = "/accounts/sign-ins/"


def test_a_german_browser_gets_the_german_page(receptionist):
    page = login(Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5"), receptionist).get(ACCOUNT)
    assert page["Content-Language"] == "de"
    assert "Sprache speichern" in page.content.decode()
    english = login(Client(HTTP_ACCEPT_LANGUAGE="en"), receptionist).get(ACCOUNT)
    assert english["Content-Language"] == "en" and "Save language" in english.content.decode()


def test_without_accept_language_the_pages_are_english(receptionist):
    page = login(Client(), receptionist).get(ACCOUNT)
    assert page["Content-Language"] == "en" and "Save language" in page.content.decode()


def test_the_users_own_language_beats_the_browsers(receptionist):
    browser = login(Client(HTTP_ACCEPT_LANGUAGE="en"), receptionist)
    answer = browser.post(reverse("account_language"), {"language": "de"})
    assert answer.status_code == 302
    receptionist.refresh_from_db()
    assert receptionist.language == "de"
    page = browser.get(ACCOUNT)
    assert page["Content-Language"] == "de"
    body = page.content.decode()
    assert "Ihre Sprache ist gespeichert." in body and "Sprache speichern" in body

    # Back to the browser's.
    browser.post(reverse("account_language"), {"language": ""})
    receptionist.refresh_from_db()
    assert receptionist.language == ""
    assert browser.get(ACCOUNT)["Content-Language"] == "en"


def test_a_language_we_do_not_have_is_a_400_naming_the_field(receptionist):
    browser = login(Client(), receptionist)
    answer = browser.post(reverse("account_language"), {"language": "fr"})
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()
    receptionist.refresh_from_db()
    assert receptionist.language == ""
    assert Client().post(reverse("account_language"), {"language": "de"}).status_code == 302  # to the login


def test_the_manager_sets_the_clinics_language_and_new_patients_get_it(manager, receptionist, clinic):
    page = login(Client(), manager)
    assert page.post("/settings/", settings_post(clinic, language="de")).status_code == 302
    clinic.refresh_from_db()
    assert clinic.language == "de"
    desk = login(Client(), receptionist)
    form = desk.get(reverse("patient_create")).content.decode()
    assert '<option value="de" selected>' in form
    data = {"record_number": "MRN-7", "first_name": "Ada", "last_name": "Kühn", "date_of_birth": "1975-03-02"}
    assert desk.post(reverse("patient_create"), data).status_code == 302
    assert Patient.objects.get(record_number="MRN-7").language == "de"
    assert desk.post(reverse("patient_create"), {**data, "record_number": "MRN-8", "language": "en"}).status_code == 302
    assert Patient.objects.get(record_number="MRN-8").language == "en"


def test_the_api_sets_and_shows_the_clinics_and_the_patients_language(client_as, manager, receptionist, clinic):
    assert client_as(manager).patch("/api/v1/clinic/", {"language": "de"}, format="json").json()["language"] == "de"
    bad = client_as(manager).patch("/api/v1/clinic/", {"language": "fr"}, format="json")
    assert bad.status_code == 400 and "language" in bad.json()
    receptionist.clinic.refresh_from_db()  # force_authenticate hands over this very object
    desk = client_as(receptionist)
    body = {"record_number": "MRN-9", "first_name": "Jonas", "last_name": "Richter", "date_of_birth": "1975-04-02"}
    created = desk.post("/api/v1/patients/", body, format="json")
    assert created.status_code == 201 and created.json()["language"] == "de"  # the clinic's
    english = desk.post("/api/v1/patients/", {**body, "record_number": "MRN-10", "language": "en"}, format="json")
    assert english.json()["language"] == "en"
    patient = PatientFactory(clinic=clinic)
    bad = desk.patch(f"/api/v1/patients/{patient.pk}/", {"language": "fr"}, format="json")
    assert bad.status_code == 400 and "language" in bad.json()
    assert desk.patch(f"/api/v1/patients/{patient.pk}/", {"language": "de"}, format="json").json()["language"] == "de"


def test_drf_errors_follow_accept_language(client_as, receptionist):
    client = client_as(receptionist)
    german = client.post("/api/v1/patients/", {}, format="json", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == 400 and german["Content-Language"] == "de"
    assert german.json()["first_name"] == ["Dieses Feld ist zwingend erforderlich."]


def test_language_choices_are_the_settings_languages():
    from django.conf import settings

    assert [code for code, _ in settings.LANGUAGES] == list(Language.values)
