"""Changing a patient as it touches their schedule: a change of reminder
consent or email re-plans their reminders in the same transaction, so
withdrawing consent voids every pending one at once."""

import datetime as dt
from collections.abc import Mapping

from django.db import transaction

from clinics.models import User
from core.services import now as now_or
from patients import services as patient_services
from patients.consents import record_consent
from patients.models import Consent, ConsentKind, Patient
from sessions.models import Session, SessionStatus
from sessions.reminders.plan import sync_reminders


@transaction.atomic
def update_patient(*, patient: Patient, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    """Edit a patient's record (patients.services.edit_record checks and
    saves it); a new reminder consent or email re-plans their reminders."""
    now = now_or(now)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    before = (locked.reminder_consent, locked.email)
    patient = patient_services.edit_record(patient=patient, data=data, by=by, now=now)
    if (patient.reminder_consent, patient.email) != before:
        _replan_reminders(patient, now=now)
    return patient


def _replan_reminders(patient: Patient, *, now: dt.datetime) -> None:
    open_sessions = Session.objects.filter(
        patient=patient, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
    ).select_related("clinic", "enrolment", "step", "patient")
    for session in open_sessions:
        sync_reminders(session, now=now)


@transaction.atomic
def change_consent(
    *,
    patient: Patient,
    kind: str,
    given: bool,
    on: dt.date | None = None,
    note: str = "",
    by: User | None,
    now: dt.datetime | None = None,
) -> Consent:
    """Give or withdraw one kind of consent (SPEC §12). Email reminder
    consent re-plans the patient's reminders in the same transaction, so a
    withdrawal voids every pending one at once. This is the one way to
    withdraw email consent (an unsubscribe link included)."""
    now = now_or(now)
    before = Patient.objects.select_for_update().get(pk=patient.pk).reminder_consent
    consent = record_consent(patient=patient, kind=kind, given=given, on=on, note=note, by=by, now=now)
    if kind == ConsentKind.EMAIL_REMINDERS and given != before:
        _replan_reminders(Patient.objects.get(pk=patient.pk), now=now)
    return consent
