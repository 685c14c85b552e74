"""One recorded outcome value over the API (SPEC §10): read it, correct it
with a reason (clinician), and list every version it has had."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from api.sessions import ITEMS_HELP, OutcomeSerializer
from clinics.models import Role
from core.api import ClinicTimeField, ClinicViewSet
from core.text import single_line
from sessions import services
from sessions.models import OutcomeMeasurement
from sessions.outcomes.completion import REASON_MAX


def outcomes_of(clinic):
    return OutcomeMeasurement.objects.filter(session__clinic=clinic).select_related(
        "measure", "session__clinic", "recorded_by"
    )


class OutcomeDetailSerializer(OutcomeSerializer):
    session = serializers.IntegerField(source="session_id", read_only=True)

    class Meta(OutcomeSerializer.Meta):
        fields = ["id", "session", *OutcomeSerializer.Meta.fields[1:]]
        read_only_fields = fields


class CorrectionSerializer(serializers.Serializer):
    value = serializers.DecimalField(
        max_digits=12, decimal_places=4, coerce_to_string=False, required=False,
        help_text="The corrected value; for a scored instrument give `items` instead.",
    )
    items = serializers.DictField(required=False, help_text=ITEMS_HELP)
    reason = serializers.CharField(
        max_length=REASON_MAX, validators=[single_line],
        help_text="Why the value is corrected (required); kept in the history.",
    )

    def validate(self, data):
        if "value" not in data and "items" not in data:
            raise serializers.ValidationError({"value": [_("Give the corrected value, or the instrument's items.")]})
        return data


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)
    items = serializers.JSONField(allow_null=True)
    observed_on = serializers.DateField()
    source = serializers.CharField(help_text="`patient` (the questionnaire, SPEC §17) or `staff`.")
    by = serializers.CharField(allow_null=True, help_text="Who recorded this version; null for the patient's own.")
    at = ClinicTimeField(clinic_path="", help_text="When it was recorded, in the clinic's zone.")
    reason = serializers.CharField(allow_null=True, help_text="Why it was corrected; null for the first version.")


class OutcomeViewSet(mixins.RetrieveModelMixin, ClinicViewSet):
    """Recorded outcome values: correct one with a reason (clinician and up), list its versions."""

    serializer_class = OutcomeDetailSerializer
    action_roles = {"partial_update": Role.CLINICIAN}
    http_method_names = ["get", "patch", "head", "options"]

    def scoped_queryset(self, clinic):
        return outcomes_of(clinic)

    @extend_schema(
        request=CorrectionSerializer,
        responses=OutcomeDetailSerializer,
        description="Correct a value: `value` (or a scored instrument's `items`) and a required `reason`. "
        "Range and items are checked as at completion; the old version stays in the history.",
    )
    def partial_update(self, request, pk=None):
        serializer = CorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        measurement = services.correct_outcome(
            measurement=self.get_object(),
            value=data.get("value"),
            items=data.get("items"),
            reason=data["reason"],
            by=request.user,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=measurement.pk)).data)

    @extend_schema(responses=VersionSerializer(many=True), description="Every version, oldest first.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        measurement = self.get_object()
        tz = measurement.session.clinic.tz
        rows = measurement.history.select_related("history_user").order_by("history_date", "history_id")
        versions = [
            {
                "version": number,
                "value": row.value,
                "items": row.items,
                "observed_on": row.observed_on,
                "source": row.source,
                "by": row.history_user.get_username() if row.history_user else None,
                "at": row.history_date.astimezone(tz),
                "reason": row.history_change_reason,
            }
            for number, row in enumerate(rows, start=1)
        ]
        return Response(VersionSerializer(versions, many=True).data)
