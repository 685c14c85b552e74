"""The front door of the staff pages, and the helpers every page view shares.

Every page belongs to the signed-in user's clinic (SPEC §1): `staff_page`
turns away users without a clinic or without the role (403) and renders the
page in the clinic's time zone, so templates show local times without
converting by hand. Lookups go through `request.user.clinic`, so another
clinic's object is a 404.
"""

import datetime as dt
import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .exceptions import Conflict
from .roles import Role
from .text import in_sentence

# What a service raises for a page to show beside its form or as a message.
SERVICE_ERRORS = (ValidationError, Conflict, PermissionDenied)


def staff_page(role: str = Role.RECEPTION):
    """Login required; the user must belong to a clinic and hold at least `role`."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(role):
                raise PermissionDenied(
                    _("This page needs the %(role)s role or higher.") % {"role": in_sentence(Role(role).label)}
                )
            with timezone.override(request.user.clinic.tz):
                return view(request, *args, **kwargs)

        return wrapped

    return decorate


def clinic_today(clinic) -> dt.date:
    return timezone.now().astimezone(clinic.tz).date()


def parse_date(raw: str | None, default: dt.date) -> dt.date:
    """A YYYY-MM-DD query parameter; anything else falls back to `default`."""
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return default
    # Keep arithmetic around the date (a week either side) inside date's range.
    return day if dt.date(1900, 1, 1) <= day <= dt.date(9000, 12, 31) else default


def add_service_errors(form: Form, error: ValidationError | Conflict) -> None:
    """Put a service's ValidationError (or a Conflict naming a field) beside
    the form field it names; anything else becomes a form-wide error."""
    if isinstance(error, Conflict):
        data = {error.field or "detail": [error.message]}  # its `extra` is data for the page, not messages
    elif hasattr(error, "error_dict"):
        data = {field: [m for e in errors for m in e.messages] for field, errors in error.error_dict.items()}
    else:
        data = {"detail": error.messages}
    for field, messages in data.items():
        messages = messages if isinstance(messages, list) else [messages]
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


def error_text(error: ValidationError | Conflict | PermissionDenied) -> str:
    """One readable sentence from a service error, for a flash message."""
    if isinstance(error, Conflict):
        return error.message
    if isinstance(error, PermissionDenied):
        return str(error) or _("You may not do this.")
    if hasattr(error, "error_dict"):
        return " ".join(m for errors in error.error_dict.values() for e in errors for m in e.messages)
    return " ".join(error.messages)


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


