"""What every app's admin shares: a manager sees and edits only their own
clinic's rows; clinical records are never deleted, and rows owned by a
workflow are read-only (see clinics/admin.py for the whole story)."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from core.roles import Role


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


class HistoryAdmin(SimpleHistoryAdmin):
    """The history pages, read-only: a "revert" would rewrite clinical
    records and consent behind the services' backs (SPEC §12), so a POST to
    a past version is refused even though SIMPLE_HISTORY_REVERT_DISABLED
    already hides its button."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied(_("History cannot be reverted; change the record through the staff pages."))
        return super().history_form_view(request, object_id, version_id, extra_context)
