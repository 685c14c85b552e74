"""API: lots with their recall list (SPEC §12). The lot's own fields are
api.products's; the recall reads sessions, so it lives here."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from api.helpers import FirstRendererNegotiation
from api.products import LotViewSet as LotFieldsViewSet
from sessions.records.recall import recall_csv, recall_rows


class RecallRowSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    record_number = serializers.CharField()
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    email = serializers.CharField()
    phone = serializers.CharField()
    session = serializers.IntegerField()
    enrolment = serializers.IntegerField()
    visit_date = serializers.DateField(allow_null=True, help_text="Clinic-local date of the visit.")
    protocol = serializers.CharField()
    step_name = serializers.CharField()
    sequence = serializers.IntegerField()
    practitioner = serializers.CharField()


class LotViewSet(LotFieldsViewSet):
    __doc__ = LotFieldsViewSet.__doc__

    def get_content_negotiator(self):
        # The CSV answers text/csv whatever the Accept header says.
        if getattr(self, "action", None) == "recall_csv":
            return FirstRendererNegotiation()
        return super().get_content_negotiator()

    @extend_schema(
        responses=RecallRowSerializer(many=True),
        description="Every session that used this lot, with its patient's contact details, by patient.",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def recall(self, request, pk=None):
        return Response(RecallRowSerializer(recall_rows(self.clinic, self.get_object()), many=True).data)

    @extend_schema(
        operation_id="lots_recall_csv",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The recall list as CSV.")},
        description="The recall list as CSV (one row per session).",
    )
    def recall_csv(self, request, pk=None):
        # Routed in api/urls.py as /lots/{id}/recall.csv (no trailing slash, like calendar.ics).
        lot = self.get_object()
        response = StreamingHttpResponse(recall_csv(recall_rows(self.clinic, lot)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="recall-lot-{lot.pk}.csv"'
        response["Cache-Control"] = "no-store"
        return response
