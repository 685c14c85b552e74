"""Liveness and readiness (SPEC §14).

`/healthz` answers as long as the process serves requests: no dependency is
touched, so a database outage never gets the web container restarted.
`/readyz` checks what the product needs, each check a function returning
`(ok, details)`: the database, the broker, the beat's last scan and (from
the sessions app, composed in config.urls) the outbox backlog. The answer is
503 when a check that decides readiness fails; the beat and the backlog are
reported, and fail readiness only when the beat has gone quiet after
having run (a stack that has just started has no scan yet).
"""

import contextlib
import datetime as dt
import ipaddress
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

BEAT_KEY = "regimen:beat:last-scan"

Check = Callable[[], tuple[bool, dict]]


def mark_beat(now: dt.datetime | None = None) -> None:
    """Called by each periodic reminder scan: the beat and a worker are alive."""
    moment = now or timezone.now()
    # A cache outage must never stop the scan itself.
    with contextlib.suppress(Exception):
        cache.set(BEAT_KEY, moment.isoformat(), timeout=None)


def last_beat() -> dt.datetime | None:
    raw = cache.get(BEAT_KEY)
    return dt.datetime.fromisoformat(raw) if raw else None


def _timed(check: Check) -> dict:
    started = time.monotonic()
    try:
        ok, details = check()
    except Exception as error:  # a check that breaks is a failed check, never a 500
        ok, details = False, {"error": f"{type(error).__name__}: {error}"[:300]}
    return {"ok": ok, **details, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_database() -> tuple[bool, dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, {"vendor": connection.vendor}


def check_broker() -> tuple[bool, dict]:
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                    connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return True, {"transport": conn.transport_cls if isinstance(conn.transport_cls, str) else "ok"}


def check_beat() -> tuple[bool, dict]:
    last = last_beat()
    if last is None:
        return True, {"last_scan": None, "status": "no scan yet"}
    age = (timezone.now() - last).total_seconds()
    fresh = age <= settings.BEAT_STALE_SECONDS
    return fresh, {
        "last_scan": last.isoformat(),
        "age_seconds": round(age),
        "status": "ok" if fresh else f"no scan for more than {settings.BEAT_STALE_SECONDS} s",
    }


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _may_see_details(request) -> bool:
    """Staff signed in, or a request from inside: a private or loopback
    address that came through no proxy (the containers' healthchecks)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
        return True
    if request.META.get("HTTP_X_FORWARDED_FOR"):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_private or address.is_loopback


def readiness_view(checks: dict[str, Check]):
    @require_GET
    def readyz(request):
        results = {name: _timed(check) for name, check in checks.items()}
        ready = all(result["ok"] for result in results.values())
        if not _may_see_details(request):
            # Outsiders learn up or down per check, not the internals (issue 30).
            results = {name: {"ok": result["ok"]} for name, result in results.items()}
        return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)

    return readyz
