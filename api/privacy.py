"""API: a patient's export and erasure (SPEC §14), both the manager's."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from audit.log import record
from audit.models import Action
from clinics.models import Role
from core.api import ClinicViewSet
from patients.selectors import patients_of
from privacy.services import erase_patient, export_patient

ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


class EraseSerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=100, help_text="The patient's record number, to confirm.")


class PatientRightsViewSet(ClinicViewSet):
    action_roles = {"export": Role.MANAGER, "erase": Role.MANAGER}
    serializer_class = EraseSerializer  # what an OPTIONS request describes

    def scoped_queryset(self, clinic):
        return patients_of(clinic)

    @extend_schema(
        operation_id="patients_export",
        parameters=[ID],
        responses=OpenApiResponse(OpenApiTypes.OBJECT, description="Everything held on the patient, as JSON."),
        description="Everything held on the patient (manager): the record and its history, enrolments, sessions, "
        "outcomes with every version, adverse events, deviations, reminders and the audit entries about them; "
        "`fhir` holds the FHIR R4 bundle once a builder exists.",
    )
    def export(self, request, pk=None):
        patient = self.get_object()
        data = export_patient(patient=patient, by=request.user)
        record(action=Action.EXPORT, request=request, obj=patient, summary="patient data export (JSON)")
        return Response(data)

    @extend_schema(
        operation_id="patients_erase",
        parameters=[ID],
        request=EraseSerializer,
        responses=inline_serializer(
            "Erasure",
            {"patient": serializers.IntegerField(), "erased_at": serializers.DateTimeField(),
             "reminders_voided": serializers.IntegerField()},
        ),
        description="Erase what identifies the patient (manager), keeping the de-identified clinical record: "
        "names, record number, contact details, day and month of birth and free-text notes go; outcome values, "
        "sessions and adverse events stay; pending reminders are voided. Send the record number as `confirm`.",
    )
    def erase(self, request, pk=None):
        patient = self.get_object()
        serializer = EraseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = erase_patient(patient=patient, by=request.user, confirm=serializer.validated_data["confirm"])
        record(action=Action.ERASE, request=request, obj=patient, summary="identifying data erased")
        return Response(result)
