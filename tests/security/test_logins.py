"""SPEC §14: five failed logins lock a username for 15 minutes on every login
path (login page, admin, token endpoint); passwords need 12 characters;
tokens expire and can be revoked; sessions end after 30 idle minutes."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from clinics.models import ApiToken
from clinics.tokens import issue_token
from tests.factories import PASSWORD

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def token_login(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def page_login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def admin_login(client, username, password):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


DOORS = {
    "token": lambda client, u, p: token_login(u, p),
    "page": page_login,
    "admin": admin_login,
}


def succeeded(door, response) -> bool:
    if door == "token":
        return response.status_code == 200
    return response.status_code == 302 and "login" not in response["Location"]


@pytest.mark.parametrize("door", DOORS)
def test_five_failures_lock_the_username_even_for_the_right_password(client, manager, door):
    attempt = DOORS[door]
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            assert not succeeded(door, attempt(client, "max", "wrong-password-123"))
        fifth = attempt(client, "max", "wrong-password-123")
        assert fifth.status_code == 429
        right = attempt(client, "max", PASSWORD)
    assert right.status_code == 429, "the right password is refused while locked"
    if door == "token":
        assert "locked" in right.json()["detail"]
    else:
        assert "Login locked" in right.content.decode()


def test_the_lock_holds_across_doors_and_lifts_after_fifteen_minutes(client, manager):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            token_login("max", "nope-nope-nope")
        page_login(client, "max", "nope-nope-nope")
        admin_login(client, "max", "nope-nope-nope")
        assert token_login("max", PASSWORD).status_code == 429
    with time_machine.travel(T0 + dt.timedelta(minutes=14), tick=False):
        assert token_login("max", PASSWORD).status_code == 429
    with time_machine.travel(T0 + dt.timedelta(minutes=16), tick=False):
        assert token_login("max", PASSWORD).status_code == 200
        assert succeeded("page", page_login(client, "max", PASSWORD))


def test_a_success_resets_the_count(manager):
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            token_login("max", "nope-nope-nope")
        assert token_login("max", PASSWORD).status_code == 200
        for _ in range(4):
            token_login("max", "nope-nope-nope")
        assert token_login("max", PASSWORD).status_code == 200


def test_another_username_is_not_locked(manager, receptionist):
    with time_machine.travel(T0, tick=False):
        for _ in range(6):
            token_login("max", "nope-nope-nope")
        assert token_login("rita", PASSWORD).status_code == 200


def test_failures_and_the_lockout_are_in_the_audit_log(manager):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            token_login("max", "nope-nope-nope")
    failed = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, username="max")
    assert failed.count() == 5
    # Anonymous attempts go to the security log, not the clinic's (issue 30).
    assert all(event.clinic_id is None for event in failed)
    assert AuditEvent.objects.filter(action=Action.LOCKOUT, username="max", clinic=manager.clinic).exists()


def test_token_login_is_throttled_per_address(db, settings):
    # Every door: tests/security/test_login_throttles.py.
    settings.LOGIN_THROTTLE_RATE = "3/minute"
    codes = [token_login(f"nobody{n}", "x" * 12).status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]


# --- Passwords --------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["12345678", "short-pw", "123456789012", "password1234"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_create_staff_refuses_a_short_password(clinic, run_command=None):
    with pytest.raises(CommandError, match="--password"):
        call_command("create_staff", "newbie", "--clinic", clinic.slug, "--role", "reception", "--password", "12345678")


def test_the_demo_password_is_long_enough():
    validate_password("regimen-demo")


# --- Tokens -----------------------------------------------------------------------------------------


def test_a_token_expires_after_its_ttl(receptionist):
    with time_machine.travel(T0, tick=False):
        answer = token_login("rita", PASSWORD).json()
        assert answer["expires"].startswith("2026-03-02T21:00")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {answer['token']}")
    with time_machine.travel(T0 + dt.timedelta(hours=11, minutes=59), tick=False):
        assert client.get("/api/v1/patients/").status_code == 200
    with time_machine.travel(T0 + dt.timedelta(hours=12), tick=False):
        expired = client.get("/api/v1/patients/")
        assert expired.status_code == 401
        assert "expired" in expired.json()["detail"]
        fresh = token_login("rita", PASSWORD).json()["token"]
    assert fresh != answer["token"]


def test_logout_revokes_the_token(receptionist):
    token = token_login("rita", PASSWORD).json()["token"]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/patients/").status_code == 401
    assert not ApiToken.objects.filter(user=receptionist).exists()
    assert AuditEvent.objects.filter(action=Action.LOGOUT, user=receptionist).exists()


def test_a_password_change_or_deactivation_revokes_the_token(receptionist, clinician):
    issue_token(receptionist)
    issue_token(clinician)
    receptionist.set_password("a-brand-new-password")
    receptionist.save()
    assert not ApiToken.objects.filter(user=receptionist).exists()
    clinician.is_active = False
    clinician.save()
    assert not ApiToken.objects.filter(user=clinician).exists()


def test_other_saves_keep_the_token(receptionist):
    issue_token(receptionist)
    receptionist.first_name = "Rita"
    receptionist.save()
    assert ApiToken.objects.filter(user=receptionist).exists()


def test_logging_out_of_the_pages_revokes_the_token_too(client, receptionist):
    issue_token(receptionist)
    client.force_login(receptionist)
    client.post("/accounts/logout/")
    assert not ApiToken.objects.filter(user=receptionist).exists()


def test_the_docs_page_does_not_persist_authorization(db):
    page = APIClient().get("/api/v1/docs/").content.decode()
    assert "<script>" not in page and "<style>" not in page  # nothing inline (CSP)
    init = APIClient().get("/api/v1/docs/", {"script": ""})
    assert init["Content-Type"].startswith("application/javascript")
    assert '"persistAuthorization": false' in init.content.decode()


# --- Sessions ---------------------------------------------------------------------------------------


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_a_page_session_ends_after_thirty_idle_minutes(client, receptionist):
    with time_machine.travel(T0, tick=False):
        assert succeeded("page", page_login(client, "rita", PASSWORD))
    with time_machine.travel(T0 + dt.timedelta(minutes=29), tick=False):
        assert client.get("/patients/").status_code == 200  # activity moves the expiry on
    with time_machine.travel(T0 + dt.timedelta(minutes=58), tick=False):
        assert client.get("/patients/").status_code == 200
    with time_machine.travel(T0 + dt.timedelta(minutes=89), tick=False):
        answer = client.get("/patients/")
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_the_idle_timeout_is_a_setting():
    from django.conf import settings

    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
