"""Enrolments over the API (SPEC §6): enrol, list, withdraw, and the
outcomes of one course."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.adverse_events import EnrolmentAdverseEventsMixin
from api.audit import AuditViews
from api.decisions import EnrolmentDecisionsMixin
from api.helpers import ShownField
from api.sessions import SessionSerializer
from clinics.models import Role, User
from core.api import ClinicRelatedField, ClinicViewSet, FilterSet, IdFilter
from core.text import multi_line
from patients.models import Enrolment, EnrolmentStatus
from patients.selectors import patients_of
from protocols.models import Protocol
from sessions.enrolments.bulk import MAX_ROWS, import_enrolments
from sessions.enrolments.selectors import enrolments_of
from sessions.enrolments.services import enrol_patient, withdraw_enrolment
from sessions.outcomes.selectors import enrolment_outcomes


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
    protocol_name = ShownField(source="protocol.name")
    protocol_version = serializers.IntegerField(source="protocol.version", read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)
    allow_concurrent = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="Enrol even though the patient is in an active course of this protocol (any version); "
        "without it that is a 409.",
    )

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
            "follow_up_kept",
            "created_at",
            "sessions",
            "allow_concurrent",
        ]
        read_only_fields = ["id", "status", "withdrawn_reason", "withdrawn_at", "follow_up_kept", "created_at"]
        extra_kwargs = {"start_date": {"help_text": "Within two years of today (clinic-local date)."}}


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default="", validators=[multi_line]
    )
    keep_follow_up = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Withdraw from treatment only: the follow-up assessments stay planned and bookable.",
    )


class PointSerializer(serializers.Serializer):
    measurement = serializers.IntegerField(
        source="measurement_id", help_text="The outcome's id, for `PATCH /outcomes/{id}/` and its history."
    )
    session = serializers.IntegerField(source="session_id")
    sequence = serializers.IntegerField()
    step_name = serializers.CharField()
    observed_on = serializers.DateField(help_text="The visit's clinic-local date.")
    value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)
    baseline = serializers.BooleanField(source="is_baseline", help_text="Recorded at the baseline visit.")
    primary_endpoint = serializers.BooleanField(help_text="Recorded at the protocol's primary end point step.")
    change = serializers.DecimalField(
        max_digits=13, decimal_places=4, coerce_to_string=False, allow_null=True,
        help_text="value − baseline (points for a grade); null without a baseline.",
    )
    percent_change = serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True,
        help_text="(value − baseline) / baseline × 100, one decimal; null for ordinal measures, a zero baseline "
        "or no baseline.",
    )
    responder = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the measure's `responders` this value meets."
    )


class ResponderDefinitionSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = ShownField()


def _value(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, allow_null=True, **kwargs)


class OutcomeSummarySerializer(serializers.Serializer):
    measure = serializers.CharField(source="measure.code")
    name = ShownField(source="measure.name")
    unit = ShownField(source="measure.unit")
    value_type = serializers.CharField(source="measure.value_type")
    ordinal = serializers.BooleanField(help_text="A grade: change in points, never a percent change.")
    higher_is_better = serializers.BooleanField(source="measure.higher_is_better")
    responders = ResponderDefinitionSerializer(many=True, help_text="The responder definitions that apply.")
    baseline = _value(help_text="The value at the baseline visit; null when none was recorded there.")
    series = PointSerializer(many=True)
    latest = _value()
    endpoint = _value(help_text="The value at the primary end point (its last occurrence); null if none.")
    endpoint_session = serializers.IntegerField(source="endpoint_point.session_id", allow_null=True)
    change = serializers.DecimalField(max_digits=13, decimal_places=4, coerce_to_string=False, allow_null=True)
    percent_change = serializers.DecimalField(
        max_digits=12, decimal_places=1, coerce_to_string=False, allow_null=True,
        help_text="The latest value's percent change from baseline (see the series).",
    )
    improved = serializers.BooleanField(allow_null=True, help_text="Whether the latest change is in the better direction.")


class ImportSerializer(serializers.Serializer):
    csv = serializers.CharField(
        max_length=4_000_000, trim_whitespace=False,
        help_text=f"The CSV text, a header line first (at most {MAX_ROWS:,} rows). Columns: record_number, "
        "first_name, last_name, date_of_birth, protocol (library key or name), start_date; optional email, phone, "
        "skin_type, reminder_consent, clinician (username), area.",
    )


class ImportedSerializer(serializers.Serializer):
    patients = serializers.IntegerField()
    enrolments = serializers.IntegerField()
    sessions = serializers.IntegerField()
    reminders = serializers.IntegerField()


class EnrolmentFilter(FilterSet):
    patient = IdFilter(field_name="patient_id")
    protocol = IdFilter(field_name="protocol_id")
    status = filters.ChoiceFilter(choices=EnrolmentStatus.choices)


class EnrolmentViewSet(
    AuditViews,
    EnrolmentAdverseEventsMixin,
    EnrolmentDecisionsMixin,
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ClinicViewSet):
    """Enrolments of patients in protocols, each with its generated sessions."""

    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter
    action_roles = {"withdraw": Role.CLINICIAN, "import_csv": Role.MANAGER}

    def scoped_queryset(self, clinic):
        return enrolments_of(clinic)

    def _reloaded(self, enrolment):
        return self.get_queryset().get(pk=enrolment.pk)

    @extend_schema(
        description="Enrol a patient: the response holds the generated `sessions`. A schedule with a visit whose "
        "window holds no open day is a 400 on `start_date` naming the next start date that works; a second active "
        "course of the same protocol is a 409 unless `allow_concurrent` is true."
    )
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
            allow_concurrent=data["allow_concurrent"],
            by=request.user,
        )
        return Response(self.get_serializer(self._reloaded(enrolment)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WithdrawSerializer,
        responses=EnrolmentSerializer,
        description="Withdraw: planned and booked sessions become `cancelled`, their reminders void (clinician). "
        "With `keep_follow_up: true` the follow-up assessments stay planned or booked (the enrolment reads "
        "`withdrawn` with `follow_up_kept: true`); 400 when there is no open follow-up to keep.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrolment = withdraw_enrolment(
            enrolment=self.get_object(),
            reason=serializer.validated_data["reason"],
            keep_follow_up=serializer.validated_data["keep_follow_up"],
            by=request.user,
        )
        return Response(self.get_serializer(self._reloaded(enrolment)).data)

    @extend_schema(
        responses=OutcomeSummarySerializer(many=True),
        description="Per measure: `baseline` (the value at the baseline visit, else null), the `series` of "
        "completed visits by visit date (`observed_on`) with `change`, `percent_change` (null for grades) and the "
        "`responder` definitions each meets, `latest` and `endpoint` (hair density 100 → 129 is 29.0).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def outcomes(self, request, pk=None):
        summaries = enrolment_outcomes(self.get_object())
        return Response(OutcomeSummarySerializer(summaries, many=True).data)

    @extend_schema(
        request=ImportSerializer,
        responses={201: ImportedSerializer},
        description="Bulk enrolment (manager): new patients, each enrolled in a protocol from a start date, from "
        "CSV text. Every row is checked with the rules of creating a patient and enrolling one; any error is a "
        "400 listing each under `csv` as `line N: field: message`, and nothing is written.",
    )
    @action(detail=False, methods=["post"], url_path="import", pagination_class=None, filterset_class=None)
    def import_csv(self, request):
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        imported = import_enrolments(clinic=self.clinic, text=serializer.validated_data["csv"], by=request.user)
        return Response(ImportedSerializer(imported).data, status=status.HTTP_201_CREATED)
