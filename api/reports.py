"""The cohort report over the API (SPEC §11): `GET /api/v1/reports/cohort/`,
for a clinic's manager."""

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.helpers import FirstRendererNegotiation
from audit.log import record
from audit.models import Action
from core.api import MAX_ID
from core.pages import clinic_today
from core.permissions import ClinicScoped
from core.roles import Role
from patients.models import Patient
from reports.exports import outcomes_csv
from reports.fhir import fhir_patient, patient_bundle
from reports.filters import CohortFilterSerializer
from reports.selectors import cohort_report


class EnrolmentCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Courses started that match the filters.")
    active = serializers.IntegerField()
    completed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()


class AdherenceSerializer(serializers.Serializer):
    sessions_due = serializers.IntegerField(
        help_text="Visits done or skipped, or whose window has closed; a cancelled visit is never due."
    )
    in_window = serializers.IntegerField(help_text="Visits done inside their window.")
    out_of_window = serializers.IntegerField(help_text="Visits done outside their window.")
    skipped = serializers.IntegerField()
    no_show = serializers.IntegerField(help_text="Missed appointments (a visit missed twice counts twice).")
    in_window_rate = serializers.DecimalField(
        max_digits=4, decimal_places=3, allow_null=True, help_text="in_window / sessions_due."
    )


class ResponderRateSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    n = serializers.IntegerField(help_text="Values with a baseline at this time point.")
    responders = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True)
    ci95 = serializers.ListField(
        child=serializers.DecimalField(max_digits=4, decimal_places=3),
        allow_null=True,
        help_text="Wilson score 95 % interval of the rate.",
    )


class TimePointSerializer(serializers.Serializer):
    step_name = serializers.CharField()
    step_position = serializers.IntegerField()
    occurrence = serializers.IntegerField()
    n = serializers.IntegerField(help_text="Values with a baseline at this time point.")
    without_baseline = serializers.IntegerField(help_text="Values left out: their baseline visit lacks the measure.")
    mean_change = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    mean_change_ci95 = serializers.ListField(
        child=serializers.DecimalField(max_digits=20, decimal_places=2), allow_null=True, help_text="Student's t."
    )
    median_change = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    mean_percent_change = serializers.DecimalField(max_digits=20, decimal_places=1, allow_null=True)
    mean_percent_change_ci95 = serializers.ListField(
        child=serializers.DecimalField(max_digits=20, decimal_places=1), allow_null=True, help_text="Student's t."
    )
    responders = ResponderRateSerializer(many=True)


class MeasureReportSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    ordinal = serializers.BooleanField(help_text="A grade: change in points and no percent change.")
    higher_is_better = serializers.BooleanField()
    reported_by = serializers.CharField(help_text="`patient` for a patient-reported measure (SPEC §17), else `clinician`.")
    time_points = TimePointSerializer(many=True)


class AdverseEventCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_grade = serializers.DictField(child=serializers.IntegerField(), help_text="CTCAE grade 1–5 → events.")
    related = serializers.IntegerField(help_text="Judged related to the treatment.")
    serious = serializers.IntegerField()
    treatments = serializers.IntegerField(help_text="Treatment visits done.")
    per_100_treatments = serializers.DecimalField(max_digits=20, decimal_places=1, allow_null=True)


class FollowUpSerializer(serializers.Serializer):
    reached_3_months = serializers.IntegerField()
    reached_6_months = serializers.IntegerField()
    reached_12_months = serializers.IntegerField()


class QuestionnaireCountsSerializer(serializers.Serializer):
    visits = serializers.IntegerField(help_text="Completed booked visits whose step asks patient-reported measures.")
    answered_before_visit = serializers.IntegerField(help_text="Of these, with the questionnaire answered before the start.")
    by_patient = serializers.IntegerField(help_text="Of those, answered by the patient online (not a paper one).")
    rate = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    ci95 = serializers.ListField(child=serializers.DecimalField(max_digits=6, decimal_places=3), allow_null=True)


class DecisionProposalSerializer(serializers.Serializer):
    step_name = serializers.CharField(help_text="The decision visit's step.")
    proposed_action = serializers.CharField()
    total = serializers.IntegerField()
    accepted = serializers.IntegerField()
    overridden = serializers.IntegerField()
    pending = serializers.IntegerField()


class DecisionCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    accepted = serializers.IntegerField()
    overridden = serializers.IntegerField()
    pending = serializers.IntegerField()
    needs_review = serializers.IntegerField(help_text="Flagged by a correction after the decision.")
    by_proposal = DecisionProposalSerializer(many=True)


class ArmSerializer(serializers.Serializer):
    arm = serializers.CharField(help_text="`main` for enrolments never switched; else the arm of their latest switch.")
    enrolments = serializers.IntegerField()
    measures = MeasureReportSerializer(
        many=True, help_text="The arm's outcomes, as `measures`; empty while no enrolment is on an arm."
    )


class CohortReportSerializer(serializers.Serializer):
    enrolments = EnrolmentCountsSerializer()
    adherence = AdherenceSerializer()
    measures = MeasureReportSerializer(many=True)
    adverse_events = AdverseEventCountsSerializer()
    follow_up = FollowUpSerializer()
    questionnaires = QuestionnaireCountsSerializer(help_text="Patient questionnaires answered before the visit (SPEC §17).")
    decisions = DecisionCountsSerializer(help_text="Proposals at decision visits (SPEC §19).")
    arms = ArmSerializer(many=True, help_text="Enrolments and outcomes per arm (SPEC §19).")


class CohortReportView(ClinicScoped, APIView):
    """Does a protocol work here? The cohort's courses, adherence, change from
    baseline and responder rates per time point, adverse events and follow-up."""

    action_roles = {"get": Role.MANAGER}

    @extend_schema(parameters=[CohortFilterSerializer], responses=CohortReportSerializer, operation_id="reports_cohort")
    def get(self, request):
        params = CohortFilterSerializer(data=request.query_params, context={"clinic": self.clinic})
        params.is_valid(raise_exception=True)
        report = cohort_report(self.clinic, today=clinic_today(self.clinic), **params.filters())
        data = CohortReportSerializer(report).data
        # Logged once the answer is built: a report that failed was not read.
        record(action=Action.REPORT, request=request, object_type="report.cohort", summary=request.get_full_path())
        return Response(data)


class OutcomesExportView(ClinicScoped, APIView):
    """The de-identified outcomes of patients with registry consent, one row
    per value (long format), as CSV."""

    action_roles = {"get": Role.MANAGER}
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="exports_outcomes_csv",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per recorded value.")},
    )
    def get(self, request):
        record(action=Action.EXPORT, request=request, object_type="export.outcomes", summary=request.get_full_path())
        response = StreamingHttpResponse(outcomes_csv(self.clinic), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="outcomes.csv"'
        response["Cache-Control"] = "no-store"
        return response


class PatientFhirView(ClinicScoped, APIView):
    """The patient as a FHIR R4 Bundle (type collection): Patient, PlanDefinition
    and CarePlan per course, Appointments, Observations, AdverseEvents, Consents."""

    action_roles = {"get": Role.MANAGER}

    @extend_schema(
        operation_id="patients_fhir",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 Bundle.")},
    )
    def get(self, request, pk):
        if not (pk.isascii() and pk.isdigit() and 1 <= int(pk) <= MAX_ID):
            raise Http404
        try:
            patient = fhir_patient(self.clinic, int(pk))
        except Patient.DoesNotExist:
            raise Http404 from None
        record(action=Action.EXPORT, request=request, obj=patient, summary="FHIR bundle")
        return Response(patient_bundle(patient))
