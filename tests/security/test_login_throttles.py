"""Issue 30: throttles per address and per username on every login door
(the login page, the admin's, the token endpoint), keyed on the client
address as the trusted proxy reports it; the lockout claim is atomic."""

import threading

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from core.addresses import client_address
from tests.factories import PASSWORD, UserFactory

PROXY = "172.18.0.2"  # Caddy, as the app sees it


def door_attempt(door, username, password="wrong-password-123", *, forwarded="", remote="127.0.0.1"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    if door == "token":
        return APIClient(**extra).post(
            "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
        )
    path = "/accounts/login/" if door == "page" else "/admin/login/"
    return Client(**extra).post(path, {"username": username, "password": password, "next": "/admin/"})


DOORS = ["token", "page", "admin"]


@pytest.mark.parametrize("door", DOORS)
def test_many_usernames_from_one_address_are_throttled_on_every_door(db, door, settings):
    settings.LOGIN_THROTTLE_RATE = "10/minute"
    codes = [door_attempt(door, f"user{n}").status_code for n in range(12)]
    assert 429 not in codes[:10]
    assert codes[10:] == [429, 429]


def test_the_throttle_is_shared_by_the_doors(db, settings):
    settings.LOGIN_THROTTLE_RATE = "6/minute"
    for door in DOORS:
        door_attempt(door, "a")
        door_attempt(door, "b")
    answer = door_attempt("page", "c")
    assert answer.status_code == 429 and "Too many login attempts" in answer.content.decode()
    assert door_attempt("token", "d").json()["detail"].startswith("Too many login attempts")


@pytest.mark.parametrize("door", DOORS)
def test_one_username_from_many_addresses_is_throttled(db, door, settings):
    settings.LOGIN_USERNAME_THROTTLE_RATE = "4/minute"
    settings.AXES_FAILURE_LIMIT = 100
    settings.TRUSTED_PROXY_COUNT = 1
    codes = [door_attempt(door, "max", forwarded=f"203.0.113.{n}", remote=PROXY).status_code for n in range(5)]
    assert codes[-1] == 429 and 429 not in codes[:4]


def test_a_new_x_forwarded_for_per_request_does_not_escape_the_address_throttle(db, settings):
    """The client writes entries on the left; the proxy appends the real address on the right."""
    settings.LOGIN_THROTTLE_RATE = "5/minute"
    settings.TRUSTED_PROXY_COUNT = 1
    codes = [
        door_attempt("token", f"user{n}", forwarded=f"10.0.0.{n}, 198.51.100.9", remote=PROXY).status_code
        for n in range(6)
    ]
    assert codes[-1] == 429


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(db, settings):
    settings.LOGIN_THROTTLE_RATE = "5/minute"
    settings.TRUSTED_PROXY_COUNT = 0
    codes = [door_attempt("token", f"user{n}", forwarded=f"10.0.0.{n}").status_code for n in range(6)]
    assert codes[-1] == 429


def test_client_address_takes_the_entry_the_trusted_proxies_appended(rf, settings):
    request = rf.get("/", REMOTE_ADDR="172.18.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1, 172.18.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "172.18.0.3"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "172.18.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "198.51.100.1"
    settings.TRUSTED_PROXY_COUNT = 5  # fewer entries than proxies: not the client's first entry
    assert client_address(request) == "172.18.0.3"
    assert client_address(rf.get("/", REMOTE_ADDR="172.18.0.3", HTTP_X_FORWARDED_FOR="junk")) == "172.18.0.3"


def test_the_audit_log_records_the_address_the_proxy_reports(manager, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    door_attempt("token", "max", PASSWORD, forwarded="6.6.6.6, 198.51.100.4", remote=PROXY)
    assert AuditEvent.objects.get(action=Action.LOGIN, username="max").ip == "198.51.100.4"


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_check_at_most_the_limit(settings):
    """24 parallel wrong passwords: at most five are checked; the rest are
    refused as locked before their password is looked at."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    from tests.factories import ClinicFactory

    clinic = ClinicFactory(slug="para")
    UserFactory(clinic=clinic, username="para-max")
    checked = []
    original = MD5PasswordHasher.verify

    def counting(self, password, encoded):
        checked.append(password)
        return original(self, password, encoded)

    MD5PasswordHasher.verify = counting
    barrier = threading.Barrier(24)
    codes = []

    def attempt():
        barrier.wait()
        try:
            codes.append(door_attempt("token", "para-max").status_code)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=attempt) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        MD5PasswordHasher.verify = original
    assert len(checked) <= settings.AXES_FAILURE_LIMIT
    assert codes.count(429) >= 24 - settings.AXES_FAILURE_LIMIT
