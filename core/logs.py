"""Logging configuration: readable lines, or one JSON object per line
(LOG_FORMAT=json) for a log collector."""

import datetime as dt
import json
import logging
import re

# Attributes every LogRecord has; anything else was passed in `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


# Paths whose last part is a secret: the patient's link pages (/p/<token>/,
# /u/<token>/), the calendar feed and a password reset link (issue 30).
_SECRET_PATHS = re.compile(
    r"(?P<keep>/(?:p|u)/|/calendar/feed/|/accounts/reset/[^/\s\"']+/)(?P<secret>[^/?#\s\"'.]+)"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the secret part of every such path replaced."""
    return _SECRET_PATHS.sub(lambda m: m.group("keep") + REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """On every handler: the message (Django's request and CSRF lines name
    the path) and any string or request passed in `extra` lose the secrets
    of their paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key in _STANDARD or key.startswith("_"):
                continue
            if isinstance(value, str):
                setattr(record, key, redact(value))
            elif hasattr(value, "path") and hasattr(value, "META"):  # a request
                setattr(record, key, redact(f"<{type(value).__name__}: {value.method} {value.get_full_path()!r}>"))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(*, fmt: str, level: str) -> dict:
    formatter = {"()": "core.logs.JsonFormatter"} if fmt == "json" else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"redact": {"()": "core.logs.RedactSecretsFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["redact"]}},
        "root": {"handlers": ["console"], "level": level},
    }


def _gunicorn_logger_base():
    from gunicorn.glogging import Logger

    return Logger


class GunicornLogger(_gunicorn_logger_base()):
    """gunicorn's logger (config/gunicorn.py): the access log's request line,
    path, query, Referer and any other atom lose the secrets of their paths."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # Every string: the request line, path, query and Referer, and the
        # headers and environ variables a custom format may name.
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def error(self, msg, *args, **kwargs):
        super().error(redact(str(msg)), *args, **kwargs)
