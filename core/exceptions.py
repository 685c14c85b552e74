"""Domain errors and the one DRF exception handler that maps them (SPEC §7)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


class Conflict(Exception):
    """The request is well-formed but collides with the current state: a slot
    already taken, or a transition the object's state does not allow (409)."""

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        # What the caller needs to resolve the conflict, e.g. the later
        # bookings a move would push out of their windows.
        self.extra = extra or {}

    def as_data(self) -> dict:
        if self.field:
            return {self.field: [self.message], **self.extra}
        return {"detail": self.message, **self.extra}


# PostgreSQL's deadlock_detected and serialization_failure: two transactions
# collided, and the database aborted this one.
CONTENTION = frozenset({"40P01", "40001"})


def is_contention(error: Exception) -> bool:
    return isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) in CONTENTION


def validation_error_data(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"detail": exc.messages[0] if len(exc.messages) == 1 else exc.messages}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = DRFValidationError(validation_error_data(exc))
    elif isinstance(exc, Conflict):
        return Response(exc.as_data(), status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IntegrityError) or is_contention(exc):
        # Constraints that the services check first can still be hit by a
        # concurrent request, or two requests can deadlock on them (PostgreSQL
        # aborts one); the database's word is final, and it is a 409.
        return Response(
            {"detail": _("This change conflicts with another one made at the same time; reload and try again.")},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, DataError):
        # A safety net: serializers bound every value, but should one still
        # not fit its column, it is the request's fault (400), never a 500.
        return Response({"detail": _("A value is out of range or malformed for storage.")}, status=400)
    elif isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": str(exc) or _("You do not have permission to do this.")}, status=403)
    return exception_handler(exc, context)
