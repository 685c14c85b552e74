"""What every app's workflows share: one transaction per workflow, the role
and clinic guards, the clock, and copying changed fields onto a model."""

import datetime as dt
import functools
from collections.abc import Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .exceptions import Conflict, is_contention


def now(moment: dt.datetime | None = None) -> dt.datetime:
    """The time a workflow acts at: the caller's (tests, back-entry), else now."""
    return moment or timezone.now()


def workflow(function):
    """One transaction per workflow. Two overlapping changes checking the
    exclusion constraints at the same moment can each wait for the other;
    PostgreSQL then aborts one of them (a deadlock). That one lost the race:
    it is a Conflict (409), never a server error, and changed nothing."""
    atomic = transaction.atomic(function)

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return atomic(*args, **kwargs)
        except OperationalError as error:
            if is_contention(error):
                raise Conflict(_("Another change to the same time was made at the same moment; reload and try again.")) from None
            raise

    return run


def require_role(user, role: str, *, clinic_id: int | None = None, what: str = "") -> None:
    """The one guard "this role, in this clinic": the user holds at least
    `role` and, when `clinic_id` is given, belongs to that clinic. Callers
    have already scoped their lookups, so another clinic's object reads as
    unknown (never a 403 that would reveal it exists)."""
    if not user.has_role(role):
        raise PermissionDenied(_("This needs the %(role)s role or higher.") % {"role": role})
    if clinic_id is not None and user.clinic_id != clinic_id:
        raise ValidationError({what: [_("Unknown %(what)s.") % {"what": what}]})


def model_update(instance, data: Mapping, fields: Iterable[str]) -> list[str]:
    """Copy the named fields present in `data` onto `instance`; return the
    names of those whose value changed (nothing is saved)."""
    changed = []
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    return changed
