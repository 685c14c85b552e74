"""The Django admin: a back office for superusers and, scoped to their own
clinic, for managers.

A superuser sees every clinic. A manager (is_staff, not a superuser) sees
only their clinic's rows, and edits only what a manager runs: the clinic's
settings, opening hours, closures, rooms, staff and protocols. Clinical
records are never deleted here, and those changed by workflows (enrolments,
sessions, outcomes, adverse events, deviations, reminders) are read-only:
their changes go through the services behind the staff pages and the API,
which keep the schedule, the audit trail and the reminder outbox in step.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from rest_framework.authtoken.models import TokenProxy

from core.admin import ClinicScopedAdmin

from .models import Room, User

# DRF's plain-text token admin would show and make keys that nothing accepts:
# tokens are stored hashed (clinics/tokens.py) and issued by logging in.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)

admin.site.site_header = "Regimen admin"
admin.site.site_title = "Regimen admin"
admin.site.index_title = "Clinics, protocols, patients and sessions"


@admin.register(User)
class StaffAdmin(ClinicScopedAdmin, UserAdmin):
    managers_may_edit = True
    list_display = ("username", "first_name", "last_name", "clinic", "role", "is_staff", "is_active")
    list_filter = ("clinic", "role", "is_staff", "is_superuser", "is_active")
    list_select_related = ("clinic",)
    fieldsets = (*UserAdmin.fieldsets, ("Clinic", {"fields": ("clinic", "role")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Clinic", {"fields": ("clinic", "role", "first_name", "last_name")}))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # A manager runs their own clinic's staff; they cannot mint
            # superusers, grant raw permissions or move staff elsewhere.
            fields += ["is_superuser", "groups", "user_permissions", "last_login", "date_joined"]
        return fields


@admin.register(Room)
class RoomAdmin(ClinicScopedAdmin, admin.ModelAdmin):
    managers_may_edit = True
    list_display = ("name", "clinic", "active")
    list_filter = ("clinic", "active")
    list_select_related = ("clinic",)
    search_fields = ("name",)
