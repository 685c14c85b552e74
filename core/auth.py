"""Login lockout (SPEC §14) through django-axes, on every login path."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' backend, for logins that come with a request.

    Every login door of the product (the login page, the admin's and the API
    token endpoint) passes its request, and axes counts the failures per
    username. Only in-process callers (the test client's `login`, a shell)
    authenticate without one; axes cannot count those and would raise, so
    they are left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
