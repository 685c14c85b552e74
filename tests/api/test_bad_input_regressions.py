"""Bad input found while fuzzing the API (tests/api/test_schemathesis.py and
hand-made probes beside it), each pinned as a 4xx that names the field and
changes nothing (SPEC §7)."""

import pytest
import schemathesis

from clinics.models import Clinic


@pytest.mark.parametrize(
    "name",
    [
        "localtime",  # the server's own zone: means something else on every host
        "posixrules",
        "posix/Europe/Berlin",
        "right/UTC",  # a leap-second copy
    ],
)
def test_a_host_file_that_is_not_an_iana_zone_is_refused_as_the_clinic_zone(client_as, manager, clinic, name):
    # zoneinfo loads any file of the host's zoneinfo folder, so these were taken as zones.
    answer = client_as(manager).patch("/api/v1/clinic/", {"timezone": name}, format="json")
    assert answer.status_code == 400
    assert "is not an IANA time zone" in answer.json()["timezone"][0]
    assert Clinic.objects.get(pk=clinic.pk).timezone == "Europe/Berlin"


@pytest.mark.parametrize("name", ["UTC", "Etc/GMT-14", "America/Argentina/Buenos_Aires", "US/Eastern"])
def test_real_iana_zones_are_still_taken(client_as, manager, clinic, name):
    answer = client_as(manager).patch("/api/v1/clinic/", {"timezone": name}, format="json")
    assert answer.status_code == 200, answer.content
    assert Clinic.objects.get(pk=clinic.pk).timezone == name


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("patch", "/api/v1/clinic/", '{"name": "Skin \\ud800"}', "name"),
        ("post", "/api/v1/patients/", '{"record_number": "S-1", "first_name": "A\\udfff", "last_name": "B", '
         '"date_of_birth": "1990-01-01"}', "first_name"),
        ("post", "/api/v1/auth/token/", '{"username": "\\ud800", "password": "x"}', "username"),
    ],
)
def test_a_lone_surrogate_in_json_is_a_400_on_its_field(client_as, manager, clinic, method, path, body, field):
    # JSON may escape half of a UTF-16 pair, which no database can store; the
    # fuzzer never sends one (Hypothesis leaves surrogates out of its text).
    answer = client_as(manager).generic(method.upper(), path, body, content_type="application/json")
    assert answer.status_code == 400
    assert "Surrogate" in answer.json()[field][0]
    assert Clinic.objects.get(pk=clinic.pk).name == clinic.name
    assert not clinic.patients.exists()


def test_a_body_that_is_not_utf8_is_a_400(client_as, manager, clinic):
    answer = client_as(manager).generic(
        "PATCH", "/api/v1/clinic/", b'{"name": "\xff\xfe"}', content_type="application/json"
    )
    assert answer.status_code == 400
    assert "JSON parse error" in answer.json()["detail"]
    assert Clinic.objects.get(pk=clinic.pk).name == clinic.name


# --- Answers as the schema documents them (schemathesis' response_schema_conformance) ---------------


@pytest.fixture
def as_documented(manager):
    """as_documented(method, path) sends the request in-process to the WSGI app, as
    the manager, and raises unless the answer conforms to the served schema."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from werkzeug.test import Client

    from clinics.tokens import issue_token
    from config.wsgi import application

    # The WSGI handler would close the test's connection (it is inside a transaction) after each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        client = Client(application)
        schema = schemathesis.openapi.from_dict(client.get("/api/v1/schema/?format=json").json)
        headers = {"Authorization": f"Token {issue_token(manager).key}"}

        def check(method: str, path: str, template: str):
            response = client.open(path, method=method, headers=headers)
            assert response.status_code == 200, response.get_data()
            schema[template][method].validate_response(response)
            return response.json

        yield check
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_opening_hours_are_documented_as_the_hh_mm_they_are(as_documented):
    # The schema said `format: time` (RFC 3339, with seconds and an offset) for "08:00".
    clinic = as_documented("GET", "/api/v1/clinic/", "/api/v1/clinic/")
    assert clinic["opening_hours"][0]["opens"] == "08:00"


def test_a_session_without_product_details_is_documented(as_documented, booked_session):
    # A session not yet completed has "" as product source and form, which the enums left out.
    session = as_documented("GET", f"/api/v1/sessions/{booked_session.pk}/", "/api/v1/sessions/{id}/")
    assert (session["product_source"], session["product_form"]) == ("", "")
    listed = as_documented("GET", "/api/v1/sessions/", "/api/v1/sessions/")
    assert listed["count"] == booked_session.enrolment.sessions.count()


@pytest.fixture
def booked_session(frozen, receptionist, clinician, first_injection):
    from sessions import services

    from .conftest import at

    return services.book_session(
        session=first_injection, start=at(first_injection.target_date, 10), practitioner=clinician, by=receptionist
    )


def test_the_api_answers_json_only(client_as, manager):
    # The browsable HTML rendering is off: it would be an undocumented second API.
    client = client_as(manager)
    assert client.get("/api/v1/patients/", HTTP_ACCEPT="text/html").status_code == 406
    assert client.get("/api/v1/patients/?format=api").status_code == 404
    answer = client.get("/api/v1/patients/", HTTP_ACCEPT="text/html, application/json;q=0.9")
    assert (answer.status_code, answer["Content-Type"]) == (200, "application/json")
