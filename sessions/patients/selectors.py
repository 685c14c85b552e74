"""What staff pages show of patients' answers through their links (SPEC §13):
rebooking requests for the due list, patient cancellations for the agenda."""

import datetime as dt

from django.db.models import QuerySet

from clinics.models import Clinic
from patients.models import EnrolmentStatus
from sessions.models import PatientCancellation, Session, SessionStatus


def rebook_requests(clinic: Clinic) -> QuerySet[Session]:
    """Open sessions whose patient asked for a (new) booking, oldest request first."""
    return (
        Session.objects.filter(
            clinic=clinic,
            rebook_requested_at__isnull=False,
            status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED),
            enrolment__status=EnrolmentStatus.ACTIVE,
        )
        .select_related("patient", "step", "enrolment__protocol")
        .order_by("rebook_requested_at", "pk")
    )


def patient_cancellations(clinic: Clinic, *, start: dt.datetime, end: dt.datetime) -> QuerySet[PatientCancellation]:
    """Bookings in [start, end) that patients cancelled through their link."""
    return (
        PatientCancellation.objects.filter(clinic=clinic, start__gte=start, start__lt=end)
        .select_related("session__patient", "session__step", "practitioner")
        .order_by("start", "pk")
    )
