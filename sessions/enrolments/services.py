"""Enrolment workflows (SPEC §2, §3): enrolling a patient generates the
dated schedule in the same transaction; withdrawing gives up what is open."""

import datetime as dt

from django.core.exceptions import ValidationError

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from patients.models import Enrolment, EnrolmentStatus, Patient
from protocols import schedule
from protocols.models import Protocol

from ..models import Session, SessionStatus
from ..reminders import sync_reminders

# How far from today an enrolment may start (issue 3: "more than two years
# away are 400"), in either direction, so back-entering a course is possible.
MAX_START_DISTANCE = dt.timedelta(days=2 * 365 + 1)


@workflow
def enrol_patient(
    *,
    patient: Patient,
    protocol: Protocol,
    start_date: dt.date,
    by: User,
    clinician: User | None = None,
    area: str = "",
    now: dt.datetime | None = None,
) -> Enrolment:
    now = now_or(now)
    require_role(by, Role.RECEPTION, clinic_id=patient.clinic_id, what="patient")
    require_role(by, Role.RECEPTION, clinic_id=protocol.clinic_id, what="protocol")
    if not protocol.is_current or not protocol.active:
        raise ValidationError({"protocol": ["Enrol only in the current version of an active protocol."]})
    if clinician is not None and (clinician.clinic_id != by.clinic_id or not clinician.is_practitioner):
        raise ValidationError({"clinician": ["Choose a clinician or manager of this clinic."]})
    today = now.astimezone(patient.clinic.tz).date()
    if abs(start_date - today) > MAX_START_DISTANCE:
        raise ValidationError({"start_date": ["The start date must lie within two years of today."]})
    steps = list(protocol.steps.order_by("position"))
    if not steps:
        raise ValidationError({"protocol": ["This protocol has no steps."]})
    try:
        planned = schedule.initial_schedule(start_date, [schedule.StepRule.of(s) for s in steps])
    except OverflowError:
        raise ValidationError({"start_date": ["This start date puts sessions past the year 9999."]}) from None

    enrolment = Enrolment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        protocol=protocol,
        start_date=start_date,
        clinician=clinician,
        area=area,
        created_by=by,
    )
    Session.objects.bulk_create(
        Session(
            clinic=patient.clinic,
            enrolment=enrolment,
            patient=patient,
            step=steps[p.step_index],
            sequence=p.sequence,
            occurrence=p.occurrence,
            target_date=p.dates.target_date,
            window_start=p.dates.window_start,
            window_end=p.dates.window_end,
        )
        for p in planned
    )
    for session in enrolment.sessions.select_related("clinic", "enrolment", "patient", "step"):
        sync_reminders(session, now=now)
    return enrolment


@workflow
def withdraw_enrolment(
    *,
    enrolment: Enrolment,
    by: User,
    reason: str = "",
    keep_follow_up: bool = False,
    now: dt.datetime | None = None,
) -> Enrolment:
    """Withdraw the patient: open sessions are cancelled. With
    `keep_follow_up` the patient stops treatment only: the protocol's
    follow-up assessments (`Step.follow_up`) stay planned or booked, and the
    enrolment reads `withdrawn` with `follow_up_kept`."""
    now = now_or(now)
    require_role(by, Role.CLINICIAN, clinic_id=enrolment.clinic_id, what="enrolment")
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(f"The enrolment is already {enrolment.status}.")
    open_sessions = enrolment.sessions.filter(status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED))
    kept = open_sessions.filter(step__follow_up=True) if keep_follow_up else open_sessions.none()
    if keep_follow_up and not kept.exists():
        raise ValidationError({"keep_follow_up": ["This enrolment has no open follow-up visit to keep."]})
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_reason = reason
    enrolment.withdrawn_at = now
    enrolment.follow_up_kept = keep_follow_up
    enrolment.save(update_fields=["status", "withdrawn_reason", "withdrawn_at", "follow_up_kept"])
    # Planned and booked sessions are given up; their slots are freed and
    # their pending reminders voided. Completed ones stay as history, kept
    # follow-ups as they are (their dates are anchored on treatments that no
    # longer move, so nothing is recomputed).
    given_up = list(
        open_sessions.exclude(pk__in=kept.values("pk")).select_related("clinic", "enrolment", "patient", "step")
    )
    for session in given_up:
        session.status = SessionStatus.CANCELLED
        session._history_user = by
        session.save(update_fields=["status"])
        sync_reminders(session, now=now)
    return enrolment
