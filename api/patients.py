"""API: patients and a patient's calendar (SPEC §6). Here, above the
patients app, because a patient's edit re-plans their reminders and the
calendar lists their sessions."""

import datetime as dt

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers

from api.audit import AuditViews
from api.consents import PatientConsentsMixin
from api.helpers import FirstRendererNegotiation
from core.api import ClinicViewSet, FilterSet
from messaging.emails import calendar_ics  # one builder for this calendar and the emails' .ics
from patients.models import Patient
from patients.selectors import patients_of, search_patients
from patients.services import PATIENT_FIELDS, create_patient
from sessions.models import SessionStatus
from sessions.patients.changes import update_patient
from sessions.selectors import sessions_of

EARLIEST_BIRTH = dt.date(1900, 1, 1)


class PatientSerializer(serializers.ModelSerializer):
    skin_type = serializers.IntegerField(
        min_value=1, max_value=6, allow_null=True, required=False, help_text="Fitzpatrick I–VI as 1–6"
    )

    class Meta:
        model = Patient
        fields = ["id", *PATIENT_FIELDS, "reminder_consent_changed_at"]
        read_only_fields = ["id", "reminder_consent_changed_at"]
        extra_kwargs = {
            "language": {
                "required": False,
                "help_text": "The language of the patient's emails and link pages; when creating, "
                "it defaults to the clinic's `language`.",
            },
        }

    def validate_date_of_birth(self, value):
        today = timezone.now().astimezone(self.context["clinic"].tz).date()
        if value > today:
            raise serializers.ValidationError(_("A date of birth cannot be in the future."))
        if value < EARLIEST_BIRTH:
            raise serializers.ValidationError(_("A date of birth before 1900 is not plausible."))
        return value


class PatientFilter(FilterSet):
    search = filters.CharFilter(
        method="search_text",
        max_length=200,
        help_text="Words of a name (\"Hartmann, Petra\" too), a record number, email, phone or birth date "
        "(YYYY-MM-DD or DD.MM.YYYY); accent- and case-insensitive, best match first.",
    )

    def search_text(self, queryset, name, value):
        return search_patients(queryset, value)


class PatientViewSet(
    AuditViews,
    PatientConsentsMixin,
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


class PatientCalendarViewSet(AuditViews, ClinicViewSet):
    content_negotiation_class = FirstRendererNegotiation

    def scoped_queryset(self, clinic):
        return patients_of(clinic)

    @extend_schema(
        operation_id="patients_calendar_ics",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={(200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="iCalendar (RFC 5545)")},
        description="The patient's booked sessions as iCalendar: one VEVENT per booking, its times in UTC.",
    )
    def retrieve(self, request, pk=None):
        patient = self.get_object()
        booked = (
            sessions_of(self.clinic)
            .filter(patient=patient, status=SessionStatus.BOOKED)
            .select_related("step__protocol")
            .order_by("start")
        )
        # The patient's calendar file, in the patient's words (SPEC §20).
        with translation.override(patient.reading_language):
            body = calendar_ics(booked)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="patient-{patient.pk}.ics"'
        return response


