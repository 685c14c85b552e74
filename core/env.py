"""Settings from the environment, read through one place that fails loudly.

A misspelt boolean or a non-numeric port must stop the process at start-up,
not be silently taken as a default.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def media_storage(url: str, *, media_root: str) -> dict:
    """STORAGES["default"] from MEDIA_STORAGE_URL: empty for files under
    `media_root`; `s3://BUCKET?endpoint_url=...&region_name=...` for any
    S3-compatible store through django-storages (credentials from the usual
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Anything else stops start-up."""
    from urllib.parse import parse_qsl, urlsplit

    if not url:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": media_root}}
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured(f"MEDIA_STORAGE_URL={url!r}: use s3://BUCKET?endpoint_url=...")
    allowed = {"endpoint_url", "region_name", "location", "access_key", "secret_key"}
    options = dict(parse_qsl(parts.query))
    if unknown := sorted(set(options) - allowed):
        raise ImproperlyConfigured(f"MEDIA_STORAGE_URL: unknown option(s) {', '.join(unknown)}")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parts.netloc,
            **options,
            # Photos are never public: no ACL, no unsigned URL, never overwritten.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
