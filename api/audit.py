"""API: the audit log for managers (SPEC §14), and the mixin that writes a
'view' entry for every API answer about one object."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, negotiation, serializers
from rest_framework.decorators import action

from audit.exports import csv_response
from audit.log import record_view
from audit.models import AuditEvent
from audit.selectors import AuditFilter, events_of
from clinics.models import Role
from core.api import ClinicViewSet


class AuditViews:
    """For a viewset: a GET answered about one object (a retrieve or a
    detail action such as outcomes or calendar.ics) writes a 'view' entry,
    once the answer is a success. Changes need no help here: every history
    row already writes a create/change entry (audit.receivers)."""

    def get_object(self):
        obj = super().get_object()
        if self.request.method == "GET":
            self._audit_subject = obj
        return obj

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        subject = getattr(self, "_audit_subject", None)
        if subject is not None and 200 <= response.status_code < 300:
            record_view(request, subject)
            self._audit_subject = None
        return response


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "at", "user", "username", "action", "object_type", "object_id", "patient_ref", "summary",
                  "ip", "user_agent"]
        read_only_fields = fields


class JSONOrCSVNegotiation(negotiation.DefaultContentNegotiation):
    """The CSV answers text/csv whatever the Accept header asks for (a
    spreadsheet's `Accept: text/csv` is no 406); its errors are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditViewSet(mixins.ListModelMixin, ClinicViewSet):
    """The clinic's audit log, newest first (manager). Read-only: entries are never changed or deleted."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditFilter
    action_roles = {"list": Role.MANAGER, "csv": Role.MANAGER}
    content_negotiation_class = JSONOrCSVNegotiation

    def scoped_queryset(self, clinic):
        return events_of(clinic)

    def filter_queryset(self, queryset):
        # The CSV takes the list's filters too.
        return super(ClinicViewSet, self).filter_queryset(queryset)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The filtered entries as CSV")},
        description="The same entries and filters as the list, as CSV (streamed).",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def csv(self, request):
        return csv_response(request, self.filter_queryset(self.get_queryset()))
