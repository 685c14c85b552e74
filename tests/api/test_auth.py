"""Logging in, who gets 401 or 403, and the schema and docs pages."""

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

LIST_ENDPOINTS = [
    "/api/v1/clinic/",
    "/api/v1/measures/",
    "/api/v1/protocols/",
    "/api/v1/patients/",
    "/api/v1/practitioners/",
    "/api/v1/rooms/",
    "/api/v1/enrolments/",
    "/api/v1/sessions/",
    "/api/v1/reminders/",
]


def test_token_login_gives_a_working_token(receptionist):
    client = APIClient()
    answer = client.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
    assert answer.status_code == 200
    token = answer.json()["token"]
    again = client.post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
    assert again.json()["token"] != token, "each login its own token: a stored hash cannot be answered twice"
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/patients/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "rita", "password": "wrong"},
        {"username": "rita"},
        {"username": "ri\x00ta", "password": PASSWORD},
        {"username": ["rita"], "password": PASSWORD},
    ],
)
def test_bad_login_is_400(receptionist, body):
    answer = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_anonymous_is_401_with_a_challenge(db, path):
    answer = APIClient().get(path)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_401(db):
    answer = APIClient(HTTP_AUTHORIZATION="Token not-a-real-token").get("/api/v1/patients/")
    assert answer.status_code == 401


@pytest.mark.parametrize("path", LIST_ENDPOINTS)
def test_a_user_without_a_clinic_is_403(db, path):
    admin = UserFactory(clinic=None, username="root", is_superuser=True, is_staff=True)
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get(path).status_code == 403


def test_an_inactive_user_cannot_log_in(receptionist):
    receptionist.is_active = False
    receptionist.save()
    answer = APIClient().post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
    assert answer.status_code == 400


def test_session_login_works_for_the_api(client, receptionist):
    assert client.login(username="rita", password=PASSWORD)
    assert client.get("/api/v1/patients/").status_code == 200


def test_schema_is_openapi_3_with_token_auth(db):
    answer = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert answer.status_code == 200
    schema = answer.json()
    assert schema["openapi"].startswith("3.")
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    book = schema["paths"]["/api/v1/sessions/{id}/book/"]["post"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(book["responses"])


def test_docs_page_uses_our_static_files_not_a_cdn(db):
    answer = APIClient().get("/api/v1/docs/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "jsdelivr" not in page and "unpkg" not in page
    script = APIClient().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert script.status_code == 200


def test_the_token_lookup_loads_what_the_orm_would(receptionist, clinic):
    """clinics.tokens.find_token writes its one query by hand: the token, its
    user and the clinic come back field for field as the ORM loads them
    (converters included), a user without a clinic has none, and an unknown
    key finds nothing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinics.models import ApiToken
    from clinics.tokens import find_token, issue_token

    type(clinic).objects.filter(pk=clinic.pk).update(reminder_offsets_hours=[72, 24], address="Hauptstraße 1")
    key = issue_token(receptionist).key
    with CaptureQueriesContext(connection) as queries:
        found = find_token(key)
    assert len(queries) == 1
    expected = ApiToken.objects.select_related("user__clinic").get(prefix=key[:8])
    for mine, theirs in ((found, expected), (found.user, expected.user), (found.user.clinic, expected.user.clinic)):
        assert type(mine) is type(theirs) and not mine._state.adding
        for field in type(theirs)._meta.concrete_fields:
            assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.name
    assert found.user.clinic.reminder_offsets_hours == [72, 24]

    loner = UserFactory(username="root-like", clinic=None)
    assert find_token(issue_token(loner).key).user.clinic is None
    assert find_token("0" * 40) is None
