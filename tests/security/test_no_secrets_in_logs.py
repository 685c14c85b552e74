"""Issue 30: patient-link, calendar-feed and password-reset tokens appear in
no log line (gunicorn's access log, Django's request and CSRF loggers) and
in no Referer (Referrer-Policy: no-referrer on the patient's pages,
same-origin elsewhere)."""

import datetime as dt
import io
import logging

import pytest
from django.test import Client

from core.logs import GunicornLogger, RedactSecretsFilter, logging_config, redact

SECRET = "s3cr3t-T0ken_value"


@pytest.mark.parametrize(
    "text,expected",
    [
        (f"GET /p/{SECRET}/ HTTP/1.1", "GET /p/[redacted]/ HTTP/1.1"),
        (f"/p/{SECRET}/book/appointment.ics?x=1", "/p/[redacted]/book/appointment.ics?x=1"),
        (f"POST /u/{SECRET}/one-click/", "POST /u/[redacted]/one-click/"),
        (f"GET /calendar/feed/{SECRET}.ics", "GET /calendar/feed/[redacted].ics"),
        (f"https://x.example/accounts/reset/MQ/{SECRET}/", "https://x.example/accounts/reset/MQ/[redacted]/"),
        ("GET /patients/12/ HTTP/1.1", "GET /patients/12/ HTTP/1.1"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


@pytest.fixture
def captured():
    """What the console handler of the product's logging config writes."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    config = logging_config(fmt="text", level="INFO")
    handler.addFilter(RedactSecretsFilter())
    assert config["handlers"]["console"]["filters"] == ["redact"]
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security.csrf")]
    for logger in loggers:
        logger.addHandler(handler)
    yield buffer
    for logger in loggers:
        logger.removeHandler(handler)


def test_django_request_and_csrf_lines_lose_the_token(db, captured):
    Client(enforce_csrf_checks=True).post(f"/p/{SECRET}/", {"action": "cancel"})
    Client().get(f"/calendar/feed/{SECRET}.ics")
    Client(enforce_csrf_checks=True).post(f"/u/{SECRET}/one-click/")
    text = captured.getvalue()
    assert "Forbidden" in text
    assert SECRET not in text


def test_json_lines_lose_the_token_in_extra_too():
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found: %s", (f"/p/{SECRET}/",), None)
    record.path = f"/p/{SECRET}/"
    RedactSecretsFilter().filter(record)
    from core.logs import JsonFormatter

    line = JsonFormatter().format(record)
    assert SECRET not in line and "[redacted]" in line


def test_gunicorn_access_log_loses_the_token():
    from gunicorn.config import Config

    logger = GunicornLogger(Config())

    class Response:
        status = "200 OK"
        sent = 10
        headers = []

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/p/{SECRET}/?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/p/{SECRET}/",
        "QUERY_STRING": "x=1",
        "HTTP_REFERER": f"https://x.example/calendar/feed/{SECRET}.ics",
        "REMOTE_ADDR": "10.0.0.1",
    }
    atoms = logger.atoms(Response(), [("Referer", f"https://x.example/u/{SECRET}/")], environ, dt.timedelta(seconds=1))
    line = logger.cfg.access_log_format % atoms
    assert SECRET not in line and "/p/[redacted]/" in line
    assert all(SECRET not in str(value) for value in atoms.values())


def test_the_compose_file_and_the_image_run_gunicorn_with_that_logger():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert 'logger_class = "core.logs.GunicornLogger"' in (root / "config/gunicorn.py").read_text()
    assert "-c config/gunicorn.py" in (root / "docker-compose.yml").read_text()
    assert '"-c", "config/gunicorn.py"' in (root / "Dockerfile").read_text()


def test_referrer_policy_no_referrer_on_patient_pages_same_origin_elsewhere(db):
    assert Client().get(f"/p/{SECRET}/")["Referrer-Policy"] == "no-referrer"
    assert Client().get(f"/u/{SECRET}/")["Referrer-Policy"] == "no-referrer"
    assert Client().get("/accounts/login/")["Referrer-Policy"] == "same-origin"
