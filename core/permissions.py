"""Who may do what through the API (SPEC §1), in one place.

Every API view runs two checks, in this order:

1. `IsClinicStaff`: an active user of a clinic. Anonymous requests fail it and
   get 401 (DRF answers 401 rather than 403 because TokenAuthentication
   offers a `WWW-Authenticate: Token` challenge); a user without a clinic (a
   superuser, who works in the admin only) gets 403.
2. `HasActionRole`: the role the view names for the action (`action_roles`),
   reception unless said otherwise. Roles are ranked, so a manager passes a
   clinician's check.

Isolation is the third part and lives in `ClinicScoped`: every queryset is
the caller's clinic's, so another clinic's object is simply not found (404)
and never a 403 that would reveal it exists. Ids in request bodies go through
`ClinicRelatedField` (core.api), scoped the same way.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from core.roles import Role


class IsClinicStaff(BasePermission):
    message = _("Only the staff of a clinic may use the API.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.clinic_id)


def required_role(request, view) -> str:
    """The role an action needs: `view.action_roles` by viewset action (or,
    for a plain APIView, by lower-case HTTP method), else reception."""
    key = getattr(view, "action", None) or request.method.lower()
    return getattr(view, "action_roles", {}).get(key, Role.RECEPTION)


class HasActionRole(BasePermission):
    def has_permission(self, request, view) -> bool:
        role = required_role(request, view)
        if request.user.has_role(role):
            return True
        self.message = gettext("This needs the %(role)s role or higher.") % {"role": role}
        return False


STAFF_PERMISSIONS = [IsClinicStaff, HasActionRole]


class ClinicScoped:
    """Mixin for API views: the permission checks above, and querysets limited
    to the caller's clinic through `scoped_queryset(clinic)`."""

    permission_classes = STAFF_PERMISSIONS
    action_roles: dict[str, str] = {}

    @property
    def clinic(self):
        if getattr(self, "swagger_fake_view", False):
            return None  # schema generation: no user, and no rows needed
        return self.request.user.clinic

    def scoped_queryset(self, clinic):
        raise NotImplementedError

    def get_queryset(self):
        # With clinic=None (schema generation) this is an empty, unevaluated queryset.
        return self.scoped_queryset(self.clinic)
