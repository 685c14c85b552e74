"""SPEC §21 / issue 30: a second factor (TOTP app, ten one-time recovery
codes) through the API and the pages; the clinic's `two_factor` setting
(off, managers, everyone) enforced on the pages, the admin and the token
endpoint."""

import re

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from clinics import two_factor
from clinics.models import TwoFactor
from tests.factories import PASSWORD


def current_code(device: TOTPDevice, *, ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + ahead * device.step
    return f"{totp.token():06d}"


def token_login(username, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}, format="json")


def enrol(user) -> list[str]:
    device = two_factor.start_enrolment(user)
    return two_factor.confirm_enrolment(user, current_code(device))


def test_enrolment_through_the_api_then_the_token_needs_otp(receptionist):
    api = APIClient()
    api.force_authenticate(receptionist)
    started = api.post("/api/v1/auth/totp/")
    assert started.status_code == 200
    body = started.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/") and body["secret"] in body["otpauth_uri"]
    wrong = api.post("/api/v1/auth/totp/confirm/", {"code": "000000"}, format="json")
    assert wrong.status_code == 400 and "code" in wrong.json()
    assert api.post("/api/v1/auth/totp/confirm/", {}, format="json").status_code == 400
    assert api.post("/api/v1/auth/totp/confirm/", ["x"], format="json").status_code == 400
    device = TOTPDevice.objects.get(user=receptionist, confirmed=False)
    confirmed = api.post("/api/v1/auth/totp/confirm/", {"code": current_code(device)}, format="json")
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert api.post("/api/v1/auth/totp/").status_code == 409

    missing = token_login("rita")
    assert missing.status_code == 400 and "otp" in missing.json()
    assert "otp" in token_login("rita", otp=["x"]).json()
    device.refresh_from_db()
    assert token_login("rita", otp=current_code(device, ahead=1)).status_code == 200
    assert token_login("rita", otp=codes[0].upper()).status_code == 200
    # A wrong code is refused (and django-otp slows the next try down).
    assert token_login("rita", otp="123").status_code == 400
    again = token_login("rita", otp=codes[0])
    assert again.status_code == 400 and "otp" in again.json(), "a recovery code works once"


def test_the_clinic_may_require_it_of_managers(clinic, manager, receptionist):
    clinic.two_factor = TwoFactor.MANAGERS
    clinic.save()
    refused = token_login("max")
    assert refused.status_code == 400 and "/accounts/two-factor/" in refused.json()["otp"][0]
    assert token_login("rita").status_code == 200
    clinic.two_factor = TwoFactor.EVERYONE
    clinic.save()
    assert token_login("rita").status_code == 400


def test_pages_send_a_required_user_to_set_up_then_let_them_in(client, clinic, manager):
    clinic.two_factor = TwoFactor.MANAGERS
    clinic.save()
    assert client.post("/accounts/login/", {"username": "max", "password": PASSWORD}).status_code == 302
    blocked = client.get("/patients/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/accounts/two-factor/?next=")
    assert client.get("/api/v1/patients/").status_code == 403
    page = client.get(blocked["Location"])
    text = page.content.decode()
    assert "<svg" in text and "otpauth://totp/" in text
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert client.post("/accounts/two-factor/", {"code": "000000"}).status_code == 200
    assert client.get("/patients/").status_code == 302
    shown = client.post("/accounts/two-factor/", {"code": current_code(device), "next": "/patients/"})
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", shown.content.decode())
    assert len(codes) == 10
    assert client.get("/patients/").status_code == 200


def test_a_user_with_a_device_verifies_on_the_pages_and_the_admin(clinic, manager):
    manager.is_staff = True
    manager.save()
    codes = enrol(manager)
    client = Client()
    client.post("/accounts/login/", {"username": "max", "password": PASSWORD})
    for path in ("/patients/", "/admin/", "/accounts/sign-ins/"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/two-factor/verify/"), path
    wrong = client.post("/accounts/two-factor/verify/", {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 200 and "wrong" in wrong.content.decode()
    ok = client.post("/accounts/two-factor/verify/", {"code": codes[3], "next": "/admin/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # The admin's own login door leads to the same check.
    admin_client = Client()
    admin_client.post("/admin/login/", {"username": "max", "password": PASSWORD, "next": "/admin/"})
    assert admin_client.get("/admin/")["Location"].startswith("/accounts/two-factor/verify/")


def test_verify_refuses_an_offsite_next(clinic, receptionist):
    codes = enrol(receptionist)
    client = Client()
    client.post("/accounts/login/", {"username": "rita", "password": PASSWORD})
    answer = client.post("/accounts/two-factor/verify/", {"code": codes[0], "next": "https://evil.example/"})
    assert answer["Location"] == "/"


def test_the_setting_is_on_the_api_and_refuses_other_values(clinic, manager):
    api = APIClient()
    api.force_authenticate(manager)
    assert api.get("/api/v1/clinic/").json()["two_factor"] == "off"
    bad = api.patch("/api/v1/clinic/", {"two_factor": "sometimes"}, format="json")
    assert bad.status_code == 400 and "two_factor" in bad.json()
    assert api.patch("/api/v1/clinic/", {"two_factor": "everyone"}, format="json").json()["two_factor"] == "everyone"


@pytest.mark.parametrize("setting", ["off", "managers", "everyone"])
def test_the_settings_page_offers_the_choice(client, clinic, manager, setting):
    from tests.web.conftest import login

    clinic.two_factor = setting
    clinic.save()
    if setting != "off":
        enrol(manager)
    page = login(client, manager)
    if setting != "off":
        device = TOTPDevice.objects.get(user=manager)
        device.refresh_from_db()
        page.post("/accounts/two-factor/verify/", {"code": current_code(device, ahead=1)})
    text = page.get("/settings/").content.decode()
    assert 'name="two_factor"' in text and f'value="{setting}" selected' in text
