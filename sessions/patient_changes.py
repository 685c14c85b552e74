"""Changing a patient as it touches their schedule: a change of reminder
consent or email re-plans their reminders in the same transaction, so
withdrawing consent voids every pending one at once."""

import datetime as dt
from collections.abc import Mapping

from django.db import transaction

from clinics.models import User
from core.services import now as now_or
from patients import services as patient_services
from patients.models import Patient

from .models import Session, SessionStatus
from .reminders import sync_reminders


@transaction.atomic
def update_patient(*, patient: Patient, data: Mapping, by: User, now: dt.datetime | None = None) -> Patient:
    now = now_or(now)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    before = (locked.reminder_consent, locked.email)
    patient = patient_services.update_patient(patient=patient, data=data, by=by, now=now)
    if (patient.reminder_consent, patient.email) != before:
        open_sessions = Session.objects.filter(
            patient=patient, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
        ).select_related("clinic", "enrolment", "step", "patient")
        for session in open_sessions:
            sync_reminders(session, now=now)
    return patient
