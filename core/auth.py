"""Login lockout (SPEC §14) through django-axes, on every login path, with
the throttles and the atomic claim of core.throttle in front of it."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.utils.translation import gettext_lazy as _

from .throttle import claim_attempt, clear_claims, login_allowed

THROTTLED = _("Too many login attempts from here or for this username. Wait a minute and try again.")


def _mark(request, name: str) -> None:
    # A DRF request wraps Django's: the token view reads the wrapper, the
    # middleware Django's. axes' own flag stays on the request it was given,
    # as axes sets it, so that its middleware leaves the API's JSON alone.
    setattr(request, name, True)
    inner = getattr(request, "_request", None)
    if inner is not None and name != "axes_locked_out":
        setattr(inner, name, True)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, for logins that come with a request.

    Every login door of the product (the login page, the admin's and the API
    token endpoint) passes its request. Before django-axes reads the
    username's failures, the attempt must pass the throttles per address and
    per username and claim one of the username's checks atomically
    (core.throttle); a refused attempt never reaches the password, and is
    not counted as a failure (it is marked as axes marks its own refusals).
    Only in-process callers (the test client's `login`, a shell)
    authenticate without a request; axes cannot count those and would
    raise, so they are left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        if username is not None and password is not None:
            if not login_allowed(request, username):
                _mark(request, "login_throttled")
                _mark(request, "axes_locked_out")
                raise AxesBackendPermissionDenied("Login throttled")
            if not claim_attempt(username):
                _mark(request, "axes_locked_out")
                raise AxesBackendPermissionDenied("Username locked")
        return super().authenticate(request, username=username, password=password, **kwargs)


def clear_claims_on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: a success frees the username's checks, as axes resets its count."""
    if user is not None:
        clear_claims(user.get_username())
