"""Issue 30 / SPEC §21: API tokens are stored hashed, a staff member sees
their live sign-ins and tokens (API and page) and can end them all."""

import hashlib
import importlib

from django.db import connection
from rest_framework.test import APIClient

from clinics.models import ApiToken, SignIn
from tests.factories import PASSWORD


def token_login(username, password=PASSWORD, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra)


def test_the_key_appears_nowhere_in_the_database(receptionist):
    key = token_login("rita").json()["token"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/patients/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE %s', [f"%{key}%"])
            assert cursor.fetchone()[0] == 0, f"the key is in {table}.{column}"
    row = ApiToken.objects.get(user=receptionist)
    assert row.prefix == key[:8] and row.digest == hashlib.sha256(key.encode()).hexdigest()


def test_a_key_with_the_right_prefix_but_wrong_rest_is_refused(receptionist):
    key = token_login("rita").json()["token"]
    forged = key[:8] + "0" * (len(key) - 8)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {forged}").get("/api/v1/patients/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Token short").get("/api/v1/patients/").status_code == 401


def test_the_migration_hashes_existing_tokens_in_place(receptionist):
    migration = importlib.import_module("clinics.migrations.0008_hashed_tokens")
    from django.apps import apps
    from rest_framework.authtoken.models import Token

    old = Token.objects.create(user=receptionist)
    migration.hash_existing_tokens(apps, None)
    assert not Token.objects.exists()
    assert APIClient(HTTP_AUTHORIZATION=f"Token {old.key}").get("/api/v1/patients/").status_code == 200


def test_sessions_lists_browser_sign_ins_and_tokens(client, receptionist, clinician):
    key = token_login("rita", HTTP_USER_AGENT="curl/8").json()["token"]
    token_login("claire")
    assert (
        client.post(
            "/accounts/login/", {"username": "rita", "password": PASSWORD}, HTTP_USER_AGENT="Firefox"
        ).status_code
        == 302
    )
    answer = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/auth/sessions/")
    assert answer.status_code == 200
    body = answer.json()
    assert [t["prefix"] for t in body["tokens"]] == [key[:8]]
    assert body["tokens"][0]["current"] is True and body["tokens"][0]["user_agent"] == "curl/8"
    assert key not in answer.content.decode()
    assert len(body["sessions"]) == 1 and body["sessions"][0]["user_agent"] == "Firefox"
    page = client.get("/accounts/sign-ins/")
    assert page.status_code == 200
    text = page.content.decode()
    assert key[:8] in text and "Firefox" in text and key not in text


def test_sessions_needs_a_sign_in(db):
    assert APIClient().get("/api/v1/auth/sessions/").status_code == 401


def test_logout_everywhere_ends_every_token_and_browser(client, receptionist, clinician):
    first = token_login("rita").json()["token"]
    second = token_login("rita").json()["token"]
    other = token_login("claire").json()["token"]
    client.post("/accounts/login/", {"username": "rita", "password": PASSWORD})
    assert client.get("/patients/").status_code == 200
    api = APIClient(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.post("/api/v1/auth/logout-everywhere/").status_code == 204
    for key in (first, second):
        assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/patients/").status_code == 401
    assert client.get("/patients/").status_code == 302, "the browser session ended too"
    assert APIClient(HTTP_AUTHORIZATION=f"Token {other}").get("/api/v1/patients/").status_code == 200
    assert not SignIn.objects.filter(user=receptionist, ended__isnull=True).exists()


def test_logout_everywhere_from_the_page(client, receptionist):
    key = token_login("rita").json()["token"]
    client.post("/accounts/login/", {"username": "rita", "password": PASSWORD})
    assert client.post("/accounts/logout-everywhere/").status_code == 302
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/patients/").status_code == 401
    assert client.get("/patients/").status_code == 302
    assert client.get("/accounts/logout-everywhere/").status_code in (302, 405)


def test_the_admin_offers_no_plain_text_tokens(client, db):
    from tests.factories import UserFactory

    root = UserFactory(clinic=None, username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
