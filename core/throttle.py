"""Login throttles and the atomic lockout claim (SPEC §14, issue 30).

Every login door (the login page, the admin's, the API token endpoint)
authenticates through core.auth.LockoutBackend with its request, which asks
here first:

- `login_allowed`: attempts per client address (LOGIN_THROTTLE_RATE, the
  address as the trusted proxy reports it: core.addresses) and per username
  (LOGIN_USERNAME_THROTTLE_RATE), whatever the door. Spraying many usernames
  from one address meets the first; many addresses on one username the
  second, before django-axes' lockout.
- `claim_attempt`: django-axes reads the failure count, checks the password,
  then writes the failure; parallel wrong passwords all pass the read. The
  claim is one atomic cache increment per username before the password is
  checked, so at most LOGIN_FAILURE_LIMIT checks happen in a lockout window
  however many arrive at once. A success clears it.

The counters are fixed windows in the shared cache (Redis in production),
keyed on timezone.now(); a burst straddling two windows may get up to twice
a limit, which the lockout then stops.
"""

import hashlib
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .addresses import client_address

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/minute" → (30, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period]
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{rate!r} is not a rate such as 30/minute") from exc


def normalized_username(username) -> str:
    """One key for "Max", " max " and "ｍａｘ"."""
    return unicodedata.normalize("NFKC", str(username or "")).strip().casefold()


def _key(*parts: str) -> str:
    return "throttle:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def hit(name: str, ident: str, *, limit: int, seconds: int) -> bool:
    """Count one event for `ident` in the current window; True while within `limit`."""
    window = int(timezone.now().timestamp() // seconds)
    key = _key(name, ident, str(window))
    cache.add(key, 0, timeout=seconds * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds * 2)
        count = 1
    return count <= limit


def login_allowed(request, username) -> bool:
    address = client_address(request) or "unknown"
    limit, seconds = parse_rate(settings.LOGIN_THROTTLE_RATE)
    per_address = hit("login-address", address, limit=limit, seconds=seconds)
    limit, seconds = parse_rate(settings.LOGIN_USERNAME_THROTTLE_RATE)
    per_username = hit("login-username", normalized_username(username), limit=limit, seconds=seconds)
    return per_address and per_username


def _claim_key(username) -> str:
    seconds = _cooloff_seconds()
    window = int(timezone.now().timestamp() // seconds)
    return _key("login-claim", normalized_username(username), str(window))


def _cooloff_seconds() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME * 3600))


def claim_attempt(username) -> bool:
    """Claim one password check for `username`: False once LOGIN_FAILURE_LIMIT
    checks have been claimed since the last success in this window."""
    key = _claim_key(username)
    cache.add(key, 0, timeout=_cooloff_seconds() * 2)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.add(key, 1, timeout=_cooloff_seconds() * 2)
        count = 1
    return count <= settings.AXES_FAILURE_LIMIT


def clear_claims(username) -> None:
    cache.delete(_claim_key(username))
