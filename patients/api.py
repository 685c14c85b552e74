"""API: patients, enrolments, a patient's calendar (SPEC §6)."""

import datetime as dt

from django.http import HttpResponse
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, negotiation, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.api import AuditViews
from clinics.models import Role, User
from config.apibase import ClinicRelatedField, ClinicViewSet, IdFilter
from protocols.models import Protocol
from sessions.api import SessionSerializer
from sessions.emails import calendar_ics  # one builder for this calendar and the emails' .ics
from sessions.models import SessionStatus
from sessions.selectors import enrolments_of, outcome_summary, sessions_of
from sessions.services import enrol_patient, withdraw_enrolment

from .models import Enrolment, EnrolmentStatus, Patient
from .selectors import patients_of, search_patients
from .services import PATIENT_FIELDS, create_patient, update_patient

EARLIEST_BIRTH = dt.date(1900, 1, 1)


class PatientSerializer(serializers.ModelSerializer):
    skin_type = serializers.IntegerField(
        min_value=1, max_value=6, allow_null=True, required=False, help_text="Fitzpatrick I–VI as 1–6"
    )

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_FIELDS, "reminder_consent_changed_at"]
        read_only_fields = ["id", "reminder_consent_changed_at"]

    def validate_date_of_birth(self, value):
        today = timezone.now().astimezone(self.context["clinic"].tz).date()
        if value > today:
            raise serializers.ValidationError("A date of birth cannot be in the future.")
        if value < EARLIEST_BIRTH:
            raise serializers.ValidationError("A date of birth before 1900 is not plausible.")
        return value


class PatientFilter(filters.FilterSet):
    search = filters.CharFilter(method="search_text", max_length=200, help_text="Words of a name or record number.")

    def search_text(self, queryset, name, value):
        return search_patients(queryset, value)


class PatientViewSet(
    AuditViews,
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ClinicViewSet
):
    """The clinic's patients; reception and up create and edit them."""

    serializer_class = PatientSerializer
    filterset_class = PatientFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, clinic):
        return patients_of(clinic)

    def perform_create(self, serializer):
        serializer.instance = create_patient(clinic=self.clinic, data=serializer.validated_data, by=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = update_patient(
            patient=serializer.instance, data=serializer.validated_data, by=self.request.user
        )


class FirstRendererNegotiation(negotiation.BaseContentNegotiation):
    """The calendar answers text/calendar whatever the Accept header says, and
    its errors as JSON: no 406 for a calendar client that asks for text/calendar."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PatientCalendarViewSet(AuditViews, ClinicViewSet):
    content_negotiation_class = FirstRendererNegotiation

    def scoped_queryset(self, clinic):
        return patients_of(clinic)

    @extend_schema(
        operation_id="patients_calendar_ics",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="iCalendar (RFC 5545)")},
        description="The patient's booked sessions as iCalendar, in the clinic's time zone: one VEVENT per booking.",
    )
    def retrieve(self, request, pk=None):
        patient = self.get_object()
        booked = (
            sessions_of(self.clinic)
            .filter(patient=patient, status=SessionStatus.BOOKED)
            .select_related("step__protocol")
            .order_by("start")
        )
        body = calendar_ics(booked)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="patient-{patient.pk}.ics"'
        return response


# --- Enrolments -----------------------------------------------------------------------------------


class EnrolmentSerializer(serializers.ModelSerializer):
    patient = ClinicRelatedField(scope=patients_of)
    protocol = ClinicRelatedField(
        scope=lambda clinic: Protocol.objects.filter(clinic=clinic),
        help_text="The id of the current version of an active protocol.",
    )
    clinician = ClinicRelatedField(
        scope=lambda clinic: User.objects.filter(clinic=clinic), allow_null=True, required=False,
        help_text="The treating clinician (a clinician or manager).",
    )
    protocol_name = serializers.CharField(source="protocol.name", read_only=True)
    protocol_version = serializers.IntegerField(source="protocol.version", read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)

    class Meta:
        model = Enrolment
        fields = [
            "id",
            "patient",
            "protocol",
            "protocol_name",
            "protocol_version",
            "start_date",
            "clinician",
            "area",
            "status",
            "withdrawn_reason",
            "withdrawn_at",
            "created_at",
            "sessions",
        ]
        read_only_fields = ["id", "status", "withdrawn_reason", "withdrawn_at", "created_at"]
        extra_kwargs = {"start_date": {"help_text": "Within two years of today (clinic-local date)."}}


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class PointSerializer(serializers.Serializer):
    session = serializers.IntegerField(source="session_id")
    sequence = serializers.IntegerField()
    step_name = serializers.CharField()
    date = serializers.DateField()
    value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)


class OutcomeSummarySerializer(serializers.Serializer):
    measure = serializers.CharField(source="measure.code")
    name = serializers.CharField(source="measure.name")
    unit = serializers.CharField(source="measure.unit")
    higher_is_better = serializers.BooleanField(source="measure.higher_is_better")
    series = PointSerializer(many=True)
    baseline = serializers.DecimalField(
        source="baseline.value", max_digits=12, decimal_places=4, coerce_to_string=False, allow_null=True
    )
    latest = serializers.DecimalField(
        source="latest.value", max_digits=12, decimal_places=4, coerce_to_string=False, allow_null=True
    )
    change = serializers.DecimalField(max_digits=13, decimal_places=4, coerce_to_string=False, allow_null=True)
    percent_change = serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True,
        help_text="(latest − baseline) / baseline × 100, one decimal; null when the baseline is 0.",
    )
    improved = serializers.BooleanField(allow_null=True, help_text="Whether the change is in the better direction.")


class EnrolmentFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    protocol = IdFilter(field_name="protocol_id")
    status = filters.ChoiceFilter(choices=EnrolmentStatus.choices)


class EnrolmentViewSet(AuditViews, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicViewSet):
    """Enrolments of patients in protocols, each with its generated sessions."""

    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter
    action_roles = {"withdraw": Role.CLINICIAN}

    def scoped_queryset(self, clinic):
        return enrolments_of(clinic)

    def _reloaded(self, enrolment):
        return self.get_queryset().get(pk=enrolment.pk)

    @extend_schema(description="Enrol a patient: the response holds the generated `sessions`.")
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enrolment = enrol_patient(
            patient=data["patient"],
            protocol=data["protocol"],
            start_date=data["start_date"],
            clinician=data.get("clinician"),
            area=data.get("area", ""),
            by=request.user,
        )
        return Response(self.get_serializer(self._reloaded(enrolment)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WithdrawSerializer,
        responses=EnrolmentSerializer,
        description="Withdraw: planned and booked sessions become `cancelled`, their reminders void (clinician).",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrolment = withdraw_enrolment(
            enrolment=self.get_object(), reason=serializer.validated_data["reason"], by=request.user
        )
        return Response(self.get_serializer(self._reloaded(enrolment)).data)

    @extend_schema(
        responses=OutcomeSummarySerializer(many=True),
        description="Per measure: the series over completed sessions, baseline (first value), latest, change "
        "and percent change from baseline (hair density 100 → 129 is 29.0).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def outcomes(self, request, pk=None):
        summaries = outcome_summary(self.get_object())
        return Response(OutcomeSummarySerializer(summaries, many=True).data)

