"""Writing audit entries: one function for every caller."""

import logging

from core.addresses import client_address

from .models import Action, AuditEvent

log = logging.getLogger("regimen.audit")

READS = (Action.VIEW, Action.EXPORT, Action.REPORT)


def client_ip(request) -> str | None:
    """The client's address as the trusted proxy reports it (core.addresses)."""
    return client_address(request)


def _patient_ref(obj) -> int | None:
    """The patient a row is about: itself, its `patient`, or its session's."""
    if obj._meta.label == "patients.Patient":
        return obj.pk
    if getattr(obj, "patient_id", None):
        return obj.patient_id
    if getattr(obj, "session_id", None):
        return obj.session.patient_id
    return None


def _clinic_id(obj) -> int | None:
    """The clinic a row belongs to: itself, its `clinic`, or that of the row it hangs from."""
    if obj._meta.label == "clinics.Clinic":
        return obj.pk
    if getattr(obj, "clinic_id", None):
        return obj.clinic_id
    for parent in ("session", "protocol", "enrolment"):
        if getattr(obj, f"{parent}_id", None):
            return getattr(getattr(obj, parent), "clinic_id", None)
    return None


def record(
    *,
    action: str,
    request=None,
    user=None,
    obj=None,
    clinic_id: int | None = None,
    patient_ref: int | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    username: str = "",
) -> AuditEvent:
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        patient_ref = patient_ref if patient_ref is not None else _patient_ref(obj)
        clinic_id = clinic_id if clinic_id is not None else _clinic_id(obj)
    if clinic_id is None and user is not None:
        clinic_id = user.clinic_id
    if request is not None and action in READS:
        # One row per request for a read: audit.reads adds none after this.
        for target in (request, getattr(request, "_request", None)):
            if target is not None:
                target._audit_read_recorded = True
    event = AuditEvent.objects.create(
        action=action,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        clinic_id=clinic_id,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        patient_ref=patient_ref,
        summary=summary[:300],
        ip=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )
    return event


def record_view(request, obj, *, summary: str = "") -> AuditEvent:
    """A staff member looked at `obj` (a page or an API answer)."""
    method = getattr(request, "method", "GET")
    path = getattr(request, "path", "")
    return record(action=Action.VIEW, request=request, obj=obj, summary=summary or f"{method} {path}")
