"""Read queries over patients."""

from django.db.models import Q, QuerySet

from clinics.models import Clinic

from .models import Patient


def patients_of(clinic: Clinic | None) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic=clinic).select_related("clinic")


def search_patients(patients: QuerySet[Patient], text: str) -> QuerySet[Patient]:
    """Every word must match a name or the record number (case-insensitive),
    so "hanna weber" and "weber MRN-0001" both find Hanna Weber."""
    for word in text.split()[:10]:
        patients = patients.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(record_number__icontains=word)
        )
    return patients
