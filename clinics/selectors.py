"""Read queries over a clinic's staff, used by the API, pages and sessions."""

from django.db.models import QuerySet

from .models import Clinic, Role, User


def practitioners_of(clinic: Clinic) -> QuerySet[User]:
    """The clinic's active staff who treat patients (clinicians and managers)."""
    return User.objects.filter(clinic=clinic, is_active=True, role__in=(Role.CLINICIAN, Role.MANAGER))
