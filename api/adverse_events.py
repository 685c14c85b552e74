"""API: adverse events (SPEC §12), reported at a visit (with the
completion), between visits (`POST /enrolments/{id}/adverse-events/`) and
updated later (`PATCH /adverse-events/{id}/`); `history/` lists every version."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.sessions import AdverseEventInputSerializer, AdverseEventSerializer
from clinics.models import Role
from core.api import ClinicRelatedField, ClinicViewSet, FilterSet, IdFilter, StrictBooleanFilter
from core.text import multi_line
from sessions.models import AdverseEvent
from sessions.records.adverse_events import report_adverse_event, update_adverse_event
from sessions.selectors import sessions_of


def adverse_events_of(clinic):
    return (
        AdverseEvent.objects.filter(enrolment__clinic=clinic)
        .select_related("enrolment__clinic")
        .order_by("-onset_date", "-id")
    )


class ReportAdverseEventSerializer(AdverseEventInputSerializer):
    session = ClinicRelatedField(
        scope=sessions_of, required=False, allow_null=True, default=None,
        help_text="The visit it is about, if any (one of the enrolment's sessions).",
    )


class UpdateAdverseEventSerializer(AdverseEventInputSerializer):
    description = serializers.CharField(max_length=5000, required=False, validators=[multi_line])


class AdverseEventVersionSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    history_date = serializers.DateTimeField()
    history_type = serializers.CharField(help_text="+ created, ~ changed")
    history_user = serializers.IntegerField(source="history_user_id", allow_null=True)
    description = serializers.CharField()
    severity = serializers.CharField()
    grade = serializers.IntegerField(allow_null=True)
    serious = serializers.BooleanField()
    onset_date = serializers.DateField(allow_null=True)
    resolved_date = serializers.DateField(allow_null=True)
    outcome = serializers.CharField()
    action_taken = serializers.CharField()
    related_to_treatment = serializers.CharField()
    review_reason = serializers.CharField()


class AdverseEventFilter(FilterSet):
    enrolment = IdFilter(field_name="enrolment_id")
    patient = IdFilter(field_name="enrolment__patient_id")
    serious = StrictBooleanFilter()
    needs_review = StrictBooleanFilter(method="filter_needs_review", help_text="Flagged for a clinician's review.")

    @extend_schema_field(OpenApiTypes.BOOL)  # a method, not a model field: the schema says its type
    def filter_needs_review(self, queryset, name, value):
        return queryset.exclude(review_reason="") if value else queryset.filter(review_reason="")


class AdverseEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    """The clinic's adverse events, latest onset first; a clinician updates one with PATCH."""

    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter
    action_roles = {"partial_update": Role.CLINICIAN}

    def scoped_queryset(self, clinic):
        return adverse_events_of(clinic)

    @extend_schema(
        request=UpdateAdverseEventSerializer,
        responses=AdverseEventSerializer,
        description="Update what is known of the event (resolution, outcome, grade...); fields not sent keep "
        "their value, the old version stays in `history/`.",
    )
    def partial_update(self, request, pk=None):
        event = self.get_object()
        body = UpdateAdverseEventSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        event = update_adverse_event(event=event, data=body.validated_data, by=request.user)
        return Response(AdverseEventSerializer(self.get_queryset().get(pk=event.pk)).data)

    @extend_schema(responses=AdverseEventVersionSerializer(many=True), description="Every version, oldest first.")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def history(self, request, pk=None):
        event = self.get_object()
        versions = event.history.order_by("history_date", "history_id")
        return Response(AdverseEventVersionSerializer(versions, many=True).data)


class EnrolmentAdverseEventsMixin:
    """`/enrolments/{id}/adverse-events/` for the enrolment viewset."""

    @extend_schema(
        methods=["GET"], responses=AdverseEventSerializer(many=True), description="The enrolment's adverse events."
    )
    @extend_schema(
        methods=["POST"],
        request=ReportAdverseEventSerializer,
        responses={201: AdverseEventSerializer},
        description="Report an adverse event between visits (clinician); the onset defaults to today.",
    )
    @action(detail=True, methods=["get", "post"], url_path="adverse-events", pagination_class=None, filterset_class=None)
    def adverse_events(self, request, pk=None):
        # Reading is everyone's, reporting a clinician's: the role first, then the object.
        if request.method == "POST" and not request.user.has_role(Role.CLINICIAN):
            raise PermissionDenied(_("This needs the %(role)s role or higher.") % {"role": Role.CLINICIAN})
        enrolment = self.get_object()
        if request.method == "GET":
            events = adverse_events_of(self.clinic).filter(enrolment=enrolment)
            return Response(AdverseEventSerializer(events, many=True).data)
        body = ReportAdverseEventSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        session = data.pop("session", None)
        event = report_adverse_event(enrolment=enrolment, session=session, data=data, by=request.user)
        return Response(AdverseEventSerializer(adverse_events_of(self.clinic).get(pk=event.pk)).data, status=201)
