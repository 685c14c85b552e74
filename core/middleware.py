"""Response headers and request limits every page and API answer gets (SPEC §14)."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.signals import got_request_exception
from django.http import JsonResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


def too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {"detail": _("The request body is larger than the limit of %(limit)s bytes.") % {"limit": limit}},
        status=413,
    )


class BodySizeLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a JSON 413, before anything
    reads it. Django would otherwise answer an HTML 400 (RequestDataTooBig),
    or for the API a 400 without saying why; a body without a length that
    turns out too big is caught when a view reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit(request):
            return too_large()
        return self.get_response(request)

    @staticmethod
    def limit(request) -> int:
        """Uploads (multipart: a photo of up to 15 MB, the API promises) may be
        as large as UPLOAD_MAX_BODY_SIZE; other bodies DATA_UPLOAD_MAX_MEMORY_SIZE
        (Django counts only non-file parts against it; issue 30: a 3 MB photo
        was a 413)."""
        if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            return max(settings.UPLOAD_MAX_BODY_SIZE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large()
        return None


class ApiServerErrorMiddleware:
    """An API client gets JSON even when something unforeseen fails: a 500
    with `detail`, never Django's HTML error page (not even with DEBUG on,
    where Django would show its technical page). The error is logged and
    reported as Django would (`django.request`, error reporting)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        got_request_exception.send(sender=type(self), request=request)
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500}
        )
        return JsonResponse({"detail": _("Server error: it has been logged.")}, status=500)


class UserLanguageMiddleware:
    """A signed-in staff member who chose a language reads the pages in it,
    whatever their browser asks for (SPEC §20); without one, LocaleMiddleware's
    choice from Accept-Language stands. LocaleMiddleware, further out, writes
    the active language into Content-Language. (API clients with a token are
    authenticated in the view, after this: they get Accept-Language.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class PrivateResponseMiddleware:
    """Nothing this application renders may be kept by a browser or a proxy:
    pages and API answers hold patient data, and a shared reception PC's
    back button or disk cache must not show it to the next person.
    `Cache-Control: no-store` (with Django's never-cache companions) on every
    response that WhiteNoise's static files do not answer, and a
    Permissions-Policy that turns off what the product never uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class LoginThrottleMiddleware:
    """A page or admin login refused by the login throttles (core.auth marks
    the request) answers 429 with a page saying so; the API's token
    endpoint answers its own JSON 429."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "login_throttled", False) and not request.path.startswith("/api/"):
            from django.shortcuts import render

            response = render(request, "registration/throttled.html", status=429)
            response["Retry-After"] = "60"
        return response
