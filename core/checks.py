"""System checks of the settings (issue 30)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register


@register("regimen")
def check_site_url(app_configs=None, **kwargs):
    """With DEBUG off, SITE_URL must be the site's public address: patients'
    links, calendar feeds and password resets are built from it."""
    if settings.DEBUG:
        return []
    url = settings.SITE_URL
    parts = urlsplit(url or "")
    if not url or parts.scheme not in ("http", "https") or not parts.hostname:
        return [
            Error(
                "SITE_URL is not set (or not an http(s) address) while DEBUG is off: "
                "emails would link to nowhere.",
                hint="Set SITE_URL to the public address, e.g. https://regimen.clinic.example "
                "(docker-compose.yml sets it from SITE_ADDRESS).",
                id="regimen.E001",
            )
        ]
    return []
