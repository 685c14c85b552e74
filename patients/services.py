import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from clinics.models import Clinic, Role, User
from core.services import model_update
from core.services import now as now_or
from core.text import check_text

from .checks import check_patient
from .consents import log_consent
from .models import ConsentKind, Patient

PATIENT_FIELDS = (
    "record_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "skin_type",
    "sex",
    "language",
    "reminder_consent",
)


def _check(by: User, clinic: Clinic) -> None:
    if not by.has_role(Role.RECEPTION) or by.clinic_id != clinic.pk:
        raise PermissionDenied(_("Only this clinic's staff may change its patients."))


def _save(patient: Patient, by: User) -> Patient:
    patient._history_user = by
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        raise ValidationError({"record_number": [_("A patient with this record number already exists.")]}) from None
    return patient


@transaction.atomic
def create_patient(*, clinic: Clinic, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    _check(by, clinic)
    now = now_or(now)
    check_text(Patient, {f: data[f] for f in PATIENT_FIELDS if f in data})
    patient = Patient(clinic=clinic, **{f: data[f] for f in PATIENT_FIELDS if f in data})
    # Unless staff chose one, the patient is written to in the clinic's language (SPEC §20).
    patient.language = patient.language or clinic.language
    check_patient(patient, today=now.astimezone(clinic.tz).date())
    if patient.reminder_consent:
        patient.reminder_consent_changed_at = now
    _save(patient, by)
    if patient.reminder_consent:
        _log_email_consent(patient, by=by, now=now)
    return patient


def _log_email_consent(patient: Patient, *, by: User, now: dt.datetime) -> None:
    """The reminder_consent flag edited with the patient's record is an
    email_reminders consent statement too (SPEC §12)."""
    log_consent(
        patient=patient,
        kind=ConsentKind.EMAIL_REMINDERS,
        given=patient.reminder_consent,
        on=now.astimezone(patient.clinic.tz).date(),
        by=by,
        now=now,
    )


@transaction.atomic
def edit_record(*, patient: Patient, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    """Edit a patient's record, dating a change of reminder consent: the
    record's half of sessions.patients.changes.update_patient, the one
    workflow the pages and the API call (it also re-plans the reminders)."""
    now = now_or(now)
    _check(by, patient.clinic)
    patient = Patient.objects.select_for_update().select_related("clinic").get(pk=patient.pk)
    before = patient.reminder_consent
    check_text(Patient, {f: data[f] for f in PATIENT_FIELDS if f in data})
    model_update(patient, data, PATIENT_FIELDS)
    check_patient(patient, today=now.astimezone(patient.clinic.tz).date())
    if patient.reminder_consent != before:
        patient.reminder_consent_changed_at = now
    _save(patient, by)
    if patient.reminder_consent != before:
        _log_email_consent(patient, by=by, now=now)
    return patient
