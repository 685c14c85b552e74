"""SPEC §14: no-store on everything with patient data, a CSP without
unsafe-inline on every page, Permissions-Policy, a JSON 413, and the
deploy check clean with the compose file's HTTPS settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rest_framework.test import APIClient

from tests.web.conftest import login

ROOT = Path(__file__).resolve().parents[2]

PAGES = ["/agenda/", "/due/", "/patients/", "/patients/{patient}/", "/patients/{patient}/edit/",
         "/protocols/", "/audit/", "/admin/treatment_sessions/session/", "/accounts/login/?anonymous",
         "/admin/login/?anonymous"]
API = ["/api/v1/patients/", "/api/v1/patients/{patient}/", "/api/v1/sessions/", "/api/v1/clinic/",
       "/api/v1/patients/{patient}/export/", "/api/v1/audit/"]


def check_private(response):
    cache = response["Cache-Control"]
    assert "no-store" in cache and "private" in cache, cache
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_no_store_with_a_strict_csp(client, manager, patient, path):
    if "anonymous" not in path:
        manager.is_staff = True  # managers use the admin too
        manager.save()
        login(client, manager)
    response = client.get(path.format(patient=patient.pk))
    assert response.status_code == 200, path
    check_private(response)
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    body = response.content.decode()
    assert "<script>" not in body and "<style>" not in body and " style=" not in body, path


@pytest.mark.parametrize("path", API)
def test_api_answers_are_no_store(manager, patient, path):
    client = APIClient()
    client.force_authenticate(manager)
    response = client.get(path.format(patient=patient.pk))
    assert response.status_code == 200, path
    check_private(response)


def test_errors_are_no_store_too(client, db):
    check_private(APIClient().get("/api/v1/patients/"))
    check_private(client.get("/patients/"))


def test_static_files_keep_their_caching(client, db):
    response = client.get("/static/regimen/regimen.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_body_over_the_limit_is_a_json_413(manager, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = APIClient()
    client.force_authenticate(manager)
    response = client.post("/api/v1/patients/", {"first_name": "x" * 20_000}, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "limit" in response.json()["detail"]


def test_a_page_post_over_the_limit_is_a_413_too(client, manager, settings):
    login(client, manager)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post("/patients/new/", {"first_name": "x" * 20_000})
    assert response.status_code == 413


def compose_app_environment() -> dict:
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["environment"]
    return {key: str(value) for key, value in env.items()}


def test_check_deploy_is_clean_with_the_compose_https_settings(tmp_path):
    """`manage.py check --deploy` with DEBUG off and the HTTPS settings that
    docker-compose.yml gives the app: no warning at all."""
    compose = compose_app_environment()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    for key in ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DEBUG"):
        env[key] = compose[key]
    assert compose["SITE_URL"] == "https://${SITE_ADDRESS:-localhost}"
    env.update(
        SITE_URL="https://regimen.clinic.example",
        SECURE_HSTS_SECONDS="31536000",
        SECRET_KEY="k" * 20 + "-a-long-and-random-production-secret-" + "z" * 20,
        ALLOWED_HOSTS="regimen.clinic.example",
        DJANGO_SETTINGS_MODULE="config.settings",
        REGIMEN_VAR_DIR=str(tmp_path),
    )
    env.pop("REGIMEN_INSECURE_DEV_KEY", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests, never in deployment
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_the_https_settings_check_deploy_complains(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    env.update(DEBUG="false", SECRET_KEY="k" * 60, ALLOWED_HOSTS="x.example", DJANGO_SETTINGS_MODULE="config.settings",
               REGIMEN_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    for code in ("W004", "W008", "W012", "W016"):
        assert code in result.stdout + result.stderr


def test_check_fails_without_site_url_when_debug_is_off(tmp_path):
    """Issue 30: without SITE_URL, production emails linked to http://127.0.0.1:8000/p/…"""
    env = {key: value for key, value in os.environ.items() if key != "SITE_URL"}
    env.update(DEBUG="false", SECRET_KEY="k" * 60, ALLOWED_HOSTS="x.example", DJANGO_SETTINGS_MODULE="config.settings",
               REGIMEN_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "regimen.E001" in result.stdout + result.stderr
    env["SITE_URL"] = "https://x.example"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
