import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinics.models import Clinic, Role, User

from .models import Patient

PATIENT_FIELDS = (
    "record_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "skin_type",
    "reminder_consent",
)


def _check(by: User, clinic: Clinic) -> None:
    if not by.has_role(Role.RECEPTION) or by.clinic_id != clinic.pk:
        raise PermissionDenied("Only this clinic's staff may change its patients.")


def _save(patient: Patient, by: User) -> Patient:
    patient._history_user = by
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        raise ValidationError({"record_number": ["A patient with this record number already exists."]}) from None
    return patient


@transaction.atomic
def create_patient(*, clinic: Clinic, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    _check(by, clinic)
    patient = Patient(clinic=clinic, **{f: data[f] for f in PATIENT_FIELDS if f in data})
    if patient.reminder_consent:
        patient.reminder_consent_changed_at = now or timezone.now()
    return _save(patient, by)


@transaction.atomic
def update_patient(*, patient: Patient, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    """Edit a patient. A change of consent or email re-plans their reminders:
    withdrawing consent voids every pending one at once."""
    from sessions.models import Session, SessionStatus
    from sessions.reminders import sync_reminders

    now = now or timezone.now()
    _check(by, patient.clinic)
    patient = Patient.objects.select_for_update().select_related("clinic").get(pk=patient.pk)
    before = (patient.reminder_consent, patient.email)
    for field in PATIENT_FIELDS:
        if field in data:
            setattr(patient, field, data[field])
    if patient.reminder_consent != before[0]:
        patient.reminder_consent_changed_at = now
    _save(patient, by)
    if (patient.reminder_consent, patient.email) != before:
        open_sessions = Session.objects.filter(
            patient=patient, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
        ).select_related("clinic", "enrolment", "step", "patient")
        for session in open_sessions:
            sync_reminders(session, now=now)
    return patient
