"""Enrolment workflows (SPEC §2, §3): enrolling a patient generates the
dated schedule in the same transaction; withdrawing gives up what is open."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from core.text import check_text
from patients.models import Enrolment, EnrolmentStatus, Patient
from protocols import schedule
from protocols.library import shown
from protocols.models import Protocol
from sessions.reminders.notices import plan_cancel_notice
from sessions.reminders.plan import sync_reminders

from ..models import Session, SessionStatus
from . import workable

# How far from today an enrolment may start (issue 3: "more than two years
# away are 400"), in either direction, so back-entering a course is possible.
MAX_START_DISTANCE = dt.timedelta(days=2 * 365 + 1)


def plan_enrolment(
    *, protocol: Protocol, steps: list, start_date: dt.date, clinician: User | None, by: User, today: dt.date,
    check_schedule=workable.check_schedule,
) -> list[schedule.PlannedSession]:
    """The rules an enrolment must meet, and its initial schedule: one place
    for enrol_patient and the bulk import (bulk.py). `steps` are the
    protocol's, in order; raises ValidationError naming the field.
    `check_schedule` is workable's, or a memo of it (the bulk import asks it
    about the same protocol and start date many times)."""
    if not protocol.is_current or not protocol.active:
        raise ValidationError({"protocol": [_("Enrol only in the current version of an active protocol.")]})
    if clinician is not None and (clinician.clinic_id != by.clinic_id or not clinician.is_practitioner):
        raise ValidationError({"clinician": [_("Choose a clinician or manager of this clinic.")]})
    if abs(start_date - today) > MAX_START_DISTANCE:
        raise ValidationError({"start_date": [_("The start date must lie within two years of today.")]})
    if not steps:
        raise ValidationError({"protocol": [_("This protocol has no steps.")]})
    try:
        planned = schedule.initial_schedule(start_date, [schedule.StepRule.of(s) for s in steps])
        faults, suggestion = check_schedule(protocol.clinic, start_date, steps)
    except OverflowError:
        raise ValidationError({"start_date": [_("This start date puts sessions past the year 9999.")]}) from None
    if faults:
        raise ValidationError({"start_date": [workable.refusal(faults, suggestion)]})
    return planned


@workflow
def enrol_patient(
    *,
    patient: Patient,
    protocol: Protocol,
    start_date: dt.date,
    by: User,
    clinician: User | None = None,
    area: str = "",
    allow_concurrent: bool = False,
    now: dt.datetime | None = None,
) -> Enrolment:
    now = now_or(now)
    require_role(by, Role.RECEPTION, clinic_id=patient.clinic_id, what="patient")
    require_role(by, Role.RECEPTION, clinic_id=protocol.clinic_id, what="protocol")
    check_text(Enrolment, {"area": area})
    today = now.astimezone(patient.clinic.tz).date()
    # The main path only: an arm is scheduled by a decision (SPEC §19).
    steps = list(protocol.steps.filter(arm="").order_by("position"))
    planned = plan_enrolment(protocol=protocol, steps=steps, start_date=start_date, clinician=clinician, by=by,
                             today=today)
    if not allow_concurrent:
        _refuse_a_second_active_course(patient, protocol)

    enrolment = Enrolment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        protocol=protocol,
        start_date=start_date,
        clinician=clinician,
        area=area,
        created_by=by,
    )
    bulk_create_with_history(
        [
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
        ],
        Session,
        default_user=by,
        default_date=now,
    )
    for session in enrolment.sessions.select_related("clinic", "enrolment", "patient", "step"):
        sync_reminders(session, now=now)
    return enrolment


def _refuse_a_second_active_course(patient: Patient, protocol: Protocol) -> None:
    """A second active course of the same protocol (any version) is nearly
    always a slip (issue 13); it takes an explicit `allow_concurrent`. The
    patient's row is locked first, so two enrolments sent at once cannot
    both pass the check."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    active = (
        Enrolment.objects.filter(patient=patient, protocol__lineage=protocol.lineage, status=EnrolmentStatus.ACTIVE)
        .order_by("start_date")
        .first()
    )
    if active is not None:
        raise Conflict(
            _(
                "%(patient)s is already in an active course of %(protocol)s, started %(day)s. "
                "Finish or withdraw it first, or enrol explicitly alongside it."
            )
            % {"patient": patient.full_name, "protocol": shown(protocol.name), "day": date_format(active.start_date, "d M Y")},
            field="protocol",
        )


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
    check_text(Enrolment, {"withdrawn_reason": reason}, names={"withdrawn_reason": "reason"})
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(_("The enrolment is already %(status)s.") % {"status": str(enrolment.get_status_display()).lower()})
    open_sessions = enrolment.sessions.filter(status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED))
    kept = open_sessions.filter(step__follow_up=True) if keep_follow_up else open_sessions.none()
    if keep_follow_up and not kept.exists():
        raise ValidationError({"keep_follow_up": [_("This enrolment has no open follow-up visit to keep.")]})
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
        was_booked = session.status == SessionStatus.BOOKED
        session.status = SessionStatus.CANCELLED
        session._history_user = by
        session.save(update_fields=["status"])
        if was_booked:
            plan_cancel_notice(session, start=session.start, end=session.end, now=now)
        sync_reminders(session, now=now)
    return enrolment
