"""Structured logs (LOG_FORMAT=json) and Sentry events without patient data."""

import json
import logging

from core.errors import scrub
from core.logs import JsonFormatter, logging_config


def test_json_lines_carry_level_logger_message_and_extras():
    record = logging.LogRecord("regimen.test", logging.WARNING, __file__, 1, "scan: %d claimed", (3,), None)
    record.reminder_id = 17
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "regimen.test"
    assert line["message"] == "scan: 3 claimed" and line["reminder_id"] == 17
    assert line["time"].endswith("+00:00")


def test_the_setting_picks_the_formatter():
    assert logging_config(fmt="json", level="INFO")["formatters"]["default"] == {"()": "core.logs.JsonFormatter"}
    assert "format" in logging_config(fmt="text", level="INFO")["formatters"]["default"]


def test_sentry_events_are_scrubbed_of_patient_data():
    event = {
        "request": {
            "url": "https://x.example/api/v1/patients/3/",
            "data": {"first_name": "Hanna", "email": "hanna@example.org"},
            "query_string": "search=Weber",
            "cookies": {"sessionid": "s"},
            "headers": {"Authorization": "Token abc", "Cookie": "sessionid=s", "User-Agent": "UA"},
        },
        "user": {"id": 5, "username": "rita", "email": "rita@clinic.example", "ip_address": "1.2.3.4"},
        "breadcrumbs": {"values": [{"message": "patient Hanna Weber"}]},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"name": "Hanna"}}]}}]},
        "logentry": {"message": "no reminder for %s", "params": ["Hanna"], "formatted": "no reminder for Hanna"},
    }
    text = json.dumps(scrub(event))
    for secret in ("Hanna", "Weber", "hanna@example.org", "Token abc", "sessionid", "rita@clinic.example", "1.2.3.4"):
        assert secret not in text, secret
    assert event["user"] == {"id": 5} and event["request"]["headers"] == {"User-Agent": "UA"}
