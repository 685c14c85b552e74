from django.contrib import admin

from core.admin import ClinicScopedAdmin, HistoryAdmin, ManagedInline

from .models import OutcomeMeasure, Protocol, Step


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(ClinicScopedAdmin, admin.ModelAdmin):
    # The catalogue is shared by every clinic: managers read it, superusers keep it.
    clinic_lookup = None
    list_display = ("code", "name", "unit", "value_type", "min_value", "max_value", "higher_is_better")
    list_filter = ("value_type", "higher_is_better")
    search_fields = ("code", "name")


class StepInline(ManagedInline, admin.StackedInline):
    model = Step
    extra = 0
    filter_horizontal = ("measures",)
    fields = (
        ("position", "name", "kind"),
        ("repeat", "interval_days", "anchor"),
        ("window_before_days", "window_after_days", "duration_minutes"),
        "measures",
        ("product", "adjunct"),
    )

    def _allowed_to_edit(self, request, obj) -> bool:
        return self._allowed(request) and (obj is None or ProtocolAdmin.editable_in_place(obj))

    def has_change_permission(self, request, obj=None):
        return self._allowed_to_edit(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._allowed_to_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed_to_edit(request, obj)


@admin.register(Protocol)
class ProtocolAdmin(ClinicScopedAdmin, HistoryAdmin):
    managers_may_edit = True
    list_display = ("name", "version", "is_current", "active", "indication", "delivery", "clinic")
    list_filter = ("clinic", "indication", "delivery", "is_current", "active")
    list_select_related = ("clinic",)
    search_fields = ("name", "description")
    readonly_fields = ("lineage", "version", "is_current", "library_key", "created_by", "created_at")
    inlines = [StepInline]

    @staticmethod
    def editable_in_place(protocol: Protocol) -> bool:
        """A version that has enrolments is never changed in place (SPEC §2):
        the staff pages and the API make the next version instead."""
        return protocol.is_current and not protocol.enrolments.exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.editable_in_place(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or not obj.enrolments.exists())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
