"""Staff roles (SPEC §1). Each role may do all that the roles before it may,
so a check asks for the least role an action needs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("Reception")
    CLINICIAN = "clinician", _("Clinician")
    MANAGER = "manager", _("Manager")


ROLE_RANK = {Role.RECEPTION: 1, Role.CLINICIAN: 2, Role.MANAGER: 3}


def outranks(role: str, needed: str) -> bool:
    """True when `role` holds at least `needed` (a manager is a clinician too)."""
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[needed]
