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

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from protocols.services import load_library

from .models import Clinic, Closure, OpeningHours, Role, Room, User
from .services import closure_refusal, replan_reminders, zone_change_refusal

admin.site.site_header = "Regimen admin"
admin.site.site_title = "Regimen admin"
admin.site.index_title = "Clinics, protocols, patients and sessions"


def is_manager(request) -> bool:
    """A clinic's manager using the admin (superusers are not scoped)."""
    user = request.user
    return user.is_active and user.is_staff and not user.is_superuser and user.has_role(Role.MANAGER)


class ClinicScopedAdmin:
    """Scopes an admin to the manager's clinic. `clinic_lookup` leads from the
    model to its clinic; None means the model is shared (the measure
    catalogue) and managers may only read it."""

    clinic_lookup: str | None = "clinic"
    managers_may_edit = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or (self.clinic_lookup is None and is_manager(request)):
            return queryset
        if not is_manager(request):
            return queryset.none()
        return queryset.filter(**{self.clinic_lookup: request.user.clinic_id})

    def _owns(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def _404_unless_listed(self, request, object_id) -> None:
        """SPEC §1: another clinic's row reads exactly like a missing one.
        The history pages load rows by id themselves, and would otherwise
        answer 403 for a row that exists elsewhere and 404 for none."""
        if request.user.is_superuser:
            return
        try:
            listed = self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValueError, TypeError, ValidationError):
            listed = False
        if not listed:
            raise Http404("No such record.")

    def history_view(self, request, object_id, extra_context=None):
        self._404_unless_listed(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._404_unless_listed(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _manager_may_edit(self, request, obj=None) -> bool:
        return self.managers_may_edit and self.clinic_lookup is not None and is_manager(request) and self._owns(request, obj)

    def has_module_permission(self, request):
        return request.user.is_superuser or is_manager(request)

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        # Also guards the history pages, which load rows by id themselves.
        return is_manager(request) and self._owns(request, obj)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._manager_may_edit(request, obj)

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return super().has_add_permission(request)
        return self._manager_may_edit(request)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return False

    def get_list_filter(self, request):
        # A filter by clinic would list the other clinics' names.
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [f for f in filters if not (isinstance(f, str) and "clinic" in f.split("__"))]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and "clinic" in {f.name for f in self.model._meta.fields}:
            fields.append("clinic")
        return fields

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser and hasattr(obj, "clinic_id"):
            obj.clinic_id = request.user.clinic_id
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(ClinicScopedAdmin):
    """Shown, never changed or deleted here: a workflow owns these rows."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoDeleteAdmin(ClinicScopedAdmin):
    """Clinical records are never deleted (SPEC §2)."""

    def has_delete_permission(self, request, obj=None):
        return False


class ManagedInline:
    """An inline editable by whoever may edit its parent (the parent's own
    admin has already scoped the parent to the manager's clinic)."""

    def _allowed(self, request) -> bool:
        return request.user.is_superuser or is_manager(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class OpeningHoursInline(ManagedInline, admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureForm(forms.ModelForm):
    """The API's rule: a day with coming bookings is not closed until they are rebooked."""

    class Meta:
        model = Closure
        fields = ("date", "reason")

    def clean_date(self):
        day = self.cleaned_data["date"]
        if self.instance.clinic_id and "date" in self.changed_data and (
            refusal := closure_refusal(self.instance.clinic, [day])
        ):
            raise forms.ValidationError(refusal)
        return day


class ClosureInline(ManagedInline, admin.TabularInline):
    model = Closure
    form = ClosureForm
    extra = 0


class ClinicForm(forms.ModelForm):
    class Meta:
        model = Clinic
        fields = ("name", "slug", "timezone", "slot_minutes", "reminder_offsets_hours", "sender_email", "phone", "address")

    def clean_timezone(self):
        zone = self.cleaned_data["timezone"]
        # The instance still holds the saved zone: the form applies it later.
        if self.instance.pk and (refusal := zone_change_refusal(self.instance, old=self.instance.timezone, new=zone)):
            raise forms.ValidationError(refusal)
        return zone


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin, admin.ModelAdmin):
    form = ClinicForm
    clinic_lookup = "pk"
    managers_may_edit = True
    list_display = ("name", "slug", "timezone", "slot_minutes", "sender_email")
    search_fields = ("name", "slug")
    inlines = [OpeningHoursInline, ClosureInline]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        # The slug names the clinic to the commands; only a superuser renames it.
        return () if request.user.is_superuser else ("slug",)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                load_library(obj)  # as create_clinic does: a new clinic starts with the standard protocols
            elif {"reminder_offsets_hours", "timezone"} & set(form.changed_data):
                replan_reminders(obj)  # as the API's clinic PATCH does


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
