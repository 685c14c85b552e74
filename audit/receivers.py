"""Audit entries that follow from what happens anywhere in the product:
every history row (a create, change or delete of a tracked model, through
the pages, the API, the admin or a command), logins, failed logins,
lockouts and logouts."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record

from .log import record
from .models import Action

security_log = logging.getLogger("regimen.security")

HISTORY_ACTIONS = {"+": Action.CREATE, "~": Action.CHANGE, "-": Action.DELETE}


def _current_request():
    # Set by simple_history's HistoryRequestMiddleware for the request's duration.
    return getattr(HistoricalRecords.context, "request", None)


def on_history(sender, instance, history_instance, **kwargs) -> None:
    action = HISTORY_ACTIONS.get(history_instance.history_type, Action.CHANGE)
    summary = ""
    if action == Action.CHANGE:
        previous = history_instance.prev_record
        fields = []
        if previous is not None:
            fields = sorted(history_instance.diff_against(previous).changed_fields)
        if getattr(instance, "_password", None) is not None:
            fields.append("password")
        if not fields:
            return  # a save that changed nothing tracked (a login's last_login, say)
        summary = f"changed: {', '.join(fields)}"
    request = _current_request()
    user = history_instance.history_user
    record(action=action, request=request, user=user, obj=instance, summary=summary)


def _user_clinic(username: str) -> int | None:
    User = get_user_model()
    return User.objects.filter(username=username).values_list("clinic_id", flat=True).first()


def on_login(sender, request, user, **kwargs) -> None:
    record(action=Action.LOGIN, request=request, user=user, summary=f"{request.method} {request.path}" if request else "")


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(action=Action.LOGOUT, request=request, user=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """A failed login is anonymous: whoever sent it chose the username and
    the User-Agent. It goes to the security log (a row of no clinic, which
    superusers read in the admin, and a line on the `regimen.security`
    logger), not into the clinic's audit log, where 20 attempts wrote 36
    rows in the attacker's words (issue 30). The lockout, when it comes, is
    one row in the clinic's log."""
    username = str(credentials.get("username", ""))[:150]
    request = request if request is not None and hasattr(request, "META") else None
    where = f"{request.method} {request.path}" if request is not None and hasattr(request, "path") else ""
    record(action=Action.LOGIN_FAILED, request=request, username=username, clinic_id=None, summary=where)
    security_log.warning("login failed for %r (%s)", username, where)


def on_lockout(sender, request, username, ip_address, **kwargs) -> None:
    record(
        action=Action.LOCKOUT,
        request=request,
        username=str(username or "")[:150],
        clinic_id=_user_clinic(username) if username else None,
        summary="too many failed logins: locked for the cool-off time",
    )


def connect() -> None:
    from axes.signals import user_locked_out

    post_create_historical_record.connect(on_history, dispatch_uid="audit-history")
    user_logged_in.connect(on_login, dispatch_uid="audit-login")
    user_logged_out.connect(on_logout, dispatch_uid="audit-logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit-login-failed")
    user_locked_out.connect(on_lockout, dispatch_uid="audit-lockout")
