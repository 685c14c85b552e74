"""What a patient does through an email's link (SPEC §13): confirm they will
come, cancel (until the clinic's cut-off), ask to rebook, or withdraw email
consent. Each is one transaction on the locked rows; there is no staff user,
so history records these changes without one.

Refusals are Conflicts carrying the words the patient page shows."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict
from core.services import now as now_or
from core.services import workflow
from patients.models import ConsentKind, Patient
from sessions.booking.services import give_up_booking
from sessions.models import PatientCancellation, Reminder, ReminderStatus, Session, SessionStatus
from sessions.patients.changes import change_consent
from sessions.workflows import locked

TOO_LATE = gettext_lazy("It is too late to cancel online; please call the clinic.")


def cancel_deadline(session: Session) -> dt.datetime:
    """Online cancellation closes this long before the start, in elapsed hours."""
    return session.start - dt.timedelta(hours=session.clinic.cancel_cutoff_hours)


def may_cancel_online(session: Session, now: dt.datetime) -> bool:
    return session.status == SessionStatus.BOOKED and session.can_cancel and now < cancel_deadline(session)


def _booked(session: Session, start: dt.datetime, now: dt.datetime) -> Session:
    """The locked session, still booked at the time the link was mailed for."""
    session = locked(session)
    if session.status != SessionStatus.BOOKED or session.start != start or session.start <= now:
        raise Conflict(_("This appointment has changed; the link is no longer valid."))
    if refusal := session.enrolment_refusal():
        raise Conflict(refusal)
    return session


@workflow
def confirm_attendance(*, session: Session, start: dt.datetime, now: dt.datetime | None = None) -> Session:
    now = now_or(now)
    session = _booked(session, start, now)
    if session.patient_confirmed_at is None:
        session.patient_confirmed_at = now
        session.save(update_fields=["patient_confirmed_at"])
    return session


@workflow
def cancel_by_patient(*, session: Session, start: dt.datetime, now: dt.datetime | None = None) -> Session:
    """The same cancellation as staff make (slot freed, later sessions
    re-dated, the patient told), remembered as the patient's for the agenda."""
    now = now_or(now)
    session = _booked(session, start, now)
    if not may_cancel_online(session, now):
        raise Conflict(str(TOO_LATE))
    PatientCancellation.objects.create(
        clinic=session.clinic,
        session=session,
        start=session.start,
        end=session.end,
        practitioner=session.practitioner,
        at=now,
    )
    return give_up_booking(session, by=None, now=now)


@workflow
def request_rebooking(*, session: Session, now: dt.datetime | None = None) -> Session:
    """A note on the staff due list; the booking (if any) stands until staff
    move it. Asking twice keeps the first time asked."""
    now = now_or(now)
    session = locked(session)
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED) or session.enrolment_refusal():
        raise Conflict(_("This visit can no longer be booked."))
    if session.rebook_requested_at is None:
        session.rebook_requested_at = now
        session.save(update_fields=["rebook_requested_at"])
    return session


@transaction.atomic
def withdraw_email_consent(*, patient: Patient, now: dt.datetime | None = None) -> Patient:
    """The one way a patient's unsubscribe withdraws email consent: an
    `email_reminders` consent statement by the patient (SPEC §12, recorded by
    no staff member), the flag and its date, and every email not yet sent
    voided, together. Withdrawing twice keeps the first date."""
    now = now_or(now)
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.reminder_consent:
        change_consent(
            patient=patient, kind=ConsentKind.EMAIL_REMINDERS, given=False, note="Unsubscribed by email link.",
            by=None, now=now,
        )
        patient = Patient.objects.get(pk=patient.pk)
    Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.VOID, last_error="The patient unsubscribed."
    )
    return patient
