"""API: a patient's consent (SPEC §12): `GET /patients/{id}/consents/` is
the whole history, oldest first, with the current statement per kind;
`POST` adds a statement (given or withdrawn). Nothing is ever edited."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.log import record
from audit.models import Action
from core.api import BoundedDateField
from core.text import single_line
from patients.consents import consents_of, current_consents
from patients.models import Consent, ConsentKind
from sessions.patients.changes import change_consent


class ConsentSerializer(serializers.ModelSerializer):
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = ["id", "kind", "given", "on", "note", "recorded_by", "recorded_by_name", "recorded_at"]
        read_only_fields = fields

    def get_recorded_by_name(self, consent) -> str:
        return consent.recorded_by.display_name if consent.recorded_by else "the patient"


class ConsentInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(ConsentKind.choices)
    given = serializers.BooleanField(help_text="true: given; false: withdrawn.")
    on = BoundedDateField(required=False, help_text="Clinic-local date; default today; never in the future.")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="", validators=[single_line])


class ConsentsSerializer(serializers.Serializer):
    current = serializers.DictField(
        child=ConsentSerializer(allow_null=True), help_text="Per kind, the latest statement (null: never recorded)."
    )
    history = ConsentSerializer(many=True)


class PatientConsentsMixin:
    def _consents(self, patient):
        return {"current": current_consents(patient), "history": list(consents_of(patient))}

    @extend_schema(methods=["GET"], responses=ConsentsSerializer, description="The patient's consent, current and history.")
    @extend_schema(
        methods=["POST"],
        request=ConsentInputSerializer,
        responses={201: ConsentsSerializer},
        description="Record consent given or withdrawn. Email reminder consent also sets `reminder_consent` and "
        "re-plans the patient's reminders.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def consents(self, request, pk=None):
        patient = self.get_object()
        if request.method == "POST":
            body = ConsentInputSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            consent = change_consent(patient=patient, by=request.user, **body.validated_data)
            # Consent rows keep no history table: the change is audited here.
            record(action=Action.CREATE, request=request, obj=consent, summary=f"consent {consent.kind}")
            return Response(ConsentsSerializer(self._consents(patient)).data, status=201)
        return Response(ConsentsSerializer(self._consents(patient)).data)
