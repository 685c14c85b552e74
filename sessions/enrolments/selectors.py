"""Read queries over enrolments, for the API, the pages and reports."""

from django.db.models import Prefetch, QuerySet

from clinics.models import Clinic
from patients.models import Enrolment

from ..models import Session


def enrolments_of(clinic: Clinic) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(clinic=clinic)
        .select_related("patient", "protocol", "clinician", "clinic")
        .prefetch_related(
            Prefetch(
                "sessions",
                queryset=Session.objects.select_related(
                    "step", "practitioner", "room", "patient", "enrolment", "clinic"
                ).order_by("sequence"),
            )
        )
    )
