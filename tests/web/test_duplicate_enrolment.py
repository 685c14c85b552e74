"""Issue 13: a second active course of the same protocol (any version) is a
409 unless the request says allow_concurrent; the page explains and offers it."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from patients.models import Enrolment
from protocols.services import update_protocol
from sessions import services
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def start():
    return timezone.now().astimezone(dt.UTC).date() + dt.timedelta(days=3)


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


@pytest.fixture
def active(patient, hair_protocol, receptionist, start):
    return services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=start, by=receptionist)


def post(api, patient, protocol, start, **extra):
    body = {"patient": patient.pk, "protocol": protocol.pk, "start_date": start.isoformat(), **extra}
    return api.post("/api/v1/enrolments/", body, format="json")


def test_a_second_active_course_is_a_409_and_changes_nothing(api, patient, hair_protocol, active, start):
    response = post(api, patient, hair_protocol, start)
    assert response.status_code == 409
    assert "already in an active course of Hair regeneration" in response.json()["protocol"][0]
    assert Enrolment.objects.count() == 1


def test_allow_concurrent_enrols_a_second_course(api, patient, hair_protocol, active, start):
    response = post(api, patient, hair_protocol, start, allow_concurrent=True)
    assert response.status_code == 201
    assert "allow_concurrent" not in response.json()
    assert Enrolment.objects.filter(patient=patient, status="active").count() == 2
    assert post(api, patient, hair_protocol, start, allow_concurrent="perhaps").status_code == 400


def test_a_new_version_of_the_protocol_is_the_same_protocol(api, patient, hair_protocol, active, start, manager):
    newer = update_protocol(protocol=hair_protocol, data={"description": "Revised"}, steps=None, by=manager)
    assert newer.pk != hair_protocol.pk
    assert post(api, patient, newer, start).status_code == 409


def test_a_withdrawn_course_or_another_patient_is_no_duplicate(api, patient, hair_protocol, active, start, clinician):
    services.withdraw_enrolment(enrolment=active, by=clinician, reason="Moved away")
    assert post(api, patient, hair_protocol, start).status_code == 201


def test_the_page_explains_and_offers_to_run_alongside(receptionist, patient, hair_protocol, active, start):
    page = login(Client(), receptionist)
    url = reverse("enrol", args=[patient.pk])
    data = {"protocol": hair_protocol.pk, "start_date": start.isoformat(), "action": "save"}
    refused = page.post(url, data)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "already in an active course of Hair regeneration" in html
    assert "Run alongside the patient&#x27;s active course of this protocol" in html
    assert 'value="save"' in html  # the preview stays, with the Enrol button
    assert Enrolment.objects.count() == 1
    done = page.post(url, {**data, "allow_concurrent": "on"})
    assert done.status_code == 302
    assert Enrolment.objects.count() == 2
