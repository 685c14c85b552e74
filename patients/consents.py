"""Consent per patient and kind (SPEC §12): each statement is a new row,
never an edit, so what the patient agreed to on any date can be shown.
`Patient.reminder_consent` (and its date), which the reminder code reads,
follows the latest `email_reminders` statement."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils.translation import gettext as _

from clinics.models import Role, User
from core.services import now as now_or
from core.services import require_role
from core.text import check_text

from .models import Consent, ConsentKind, Patient


def consents_of(patient: Patient) -> QuerySet[Consent]:
    """The patient's whole consent history, oldest first, with who recorded it."""
    return patient.consents.select_related("recorded_by").order_by("recorded_at", "id")


def current_consents(patient: Patient) -> dict[str, Consent | None]:
    """The latest statement per kind (None: never asked)."""
    current: dict[str, Consent | None] = dict.fromkeys(ConsentKind.values)
    for consent in consents_of(patient):
        current[consent.kind] = consent
    return current


def latest_statement(kind: str, patient_id):
    """The latest statement's `given` for the patient ``patient_id`` (an
    ``OuterRef``) and ``kind``, as a subquery: null when never asked. The
    same order as `has_consent`, for exports that filter in SQL."""
    return Subquery(
        Consent.objects.filter(patient_id=patient_id, kind=kind).order_by("-recorded_at", "-id").values("given")[:1]
    )


def has_consent(patient: Patient, kind: str) -> bool:
    latest = patient.consents.filter(kind=kind).order_by("-recorded_at", "-id").first()
    return bool(latest and latest.given)


def log_consent(
    *, patient: Patient, kind: str, given: bool, on: dt.date, by: User | None, now: dt.datetime, note: str = ""
) -> Consent:
    """Append one statement (the caller holds the patient's row)."""
    check_text(Consent, {"note": note})
    return Consent.objects.create(
        patient=patient, kind=kind, given=given, on=on, recorded_by=by, recorded_at=now, note=note
    )


@transaction.atomic
def record_consent(
    *,
    patient: Patient,
    kind: str,
    given: bool,
    on: dt.date | None = None,
    note: str = "",
    by: User | None,
    now: dt.datetime | None = None,
) -> Consent:
    """Record that the patient gave or withdrew consent of `kind` on `on`
    (default: today in the clinic). `by` None is the patient acting alone
    (an unsubscribe link); otherwise a member of the patient's clinic. Runs
    inside the caller's transaction (sessions.patients.changes.change_consent
    re-plans reminders with it, in one transaction)."""
    now = now_or(now)
    if by is not None:
        require_role(by, Role.RECEPTION, clinic_id=patient.clinic_id, what="patient")
    patient = Patient.objects.select_for_update().select_related("clinic").get(pk=patient.pk)
    if kind not in ConsentKind.values:
        raise ValidationError({"kind": [_("Choose one of %(choices)s.") % {"choices": ", ".join(ConsentKind.values)}]})
    today = now.astimezone(patient.clinic.tz).date()
    on = on or today
    if on > today:
        raise ValidationError({"on": [_("Consent cannot be dated in the future.")]})
    if on < patient.date_of_birth:
        raise ValidationError({"on": [_("Consent cannot be dated before the patient's birth.")]})
    consent = log_consent(patient=patient, kind=kind, given=given, on=on, by=by, now=now, note=note)
    if kind == ConsentKind.EMAIL_REMINDERS and patient.reminder_consent != given:
        patient.reminder_consent = given
        patient.reminder_consent_changed_at = now
        patient._history_user = by
        patient.save(update_fields=["reminder_consent", "reminder_consent_changed_at"])
    return consent
