"""The clinic's settings over the API (`/api/v1/clinic/`): here, not in
`clinics`, because a change acts on bookings and reminders
(sessions/clinic.py)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.models import CLINIC_SETTINGS, MAX_REMINDER_OFFSET_HOURS, Clinic, Role
from core.api import BoundedDateField, JSONOnlyParser
from core.permissions import ClinicScoped
from sessions.clinic import update_clinic


@extend_schema_field({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "example": "08:30"})
class HourMinuteField(serializers.TimeField):
    """A clinic-local wall-clock time as HH:MM (HH:MM:SS accepted)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)


class OpeningHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="Monday 0 … Sunday 6")
    opens = HourMinuteField(help_text="HH:MM, clinic-local")
    closes = HourMinuteField(help_text="HH:MM, clinic-local")


class ClosuresField(serializers.ListField):
    def to_representation(self, closures):
        return [self.child.to_representation(closure.date) for closure in closures.all()]


class ClinicSerializer(serializers.ModelSerializer):
    opening_hours = OpeningHoursSerializer(many=True, required=False, max_length=70)
    closures = ClosuresField(
        child=BoundedDateField(), required=False, max_length=1000, help_text="Dates the clinic is closed."
    )
    slot_minutes = serializers.IntegerField(min_value=5, max_value=240, required=False)
    reminder_offsets_hours = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_REMINDER_OFFSET_HOURS),
        required=False,
        max_length=10,
        help_text="Hours before a booked session at which a reminder email is due, e.g. [72, 24].",
    )

    cancel_cutoff_hours = serializers.IntegerField(
        min_value=0,
        max_value=24 * 30,
        required=False,
        help_text="Patients may cancel from an email's link until this many hours before the start.",
    )

    class Meta:
        model = Clinic
        fields = ["id", "slug", *CLINIC_SETTINGS, "opening_hours", "closures"]
        read_only_fields = ["id", "slug"]
        extra_kwargs = {
            "timezone": {"help_text": "IANA time zone, e.g. Europe/Berlin"},
            "patients_may_request_booking": {
                "help_text": "Whether 'time to book' emails carry a link to ask the clinic for a booking."
            },
        }

    def validate_reminder_offsets_hours(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each offset may appear only once.")
        return sorted(value, reverse=True)


class ClinicView(ClinicScoped, APIView):
    """The caller's clinic; its manager changes its settings."""

    parser_classes = [JSONOnlyParser]
    action_roles = {"patch": Role.MANAGER}

    @extend_schema(responses=ClinicSerializer, operation_id="clinic_retrieve")
    def get(self, request):
        return Response(ClinicSerializer(self.clinic).data)

    @extend_schema(request=ClinicSerializer, responses=ClinicSerializer, operation_id="clinic_partial_update")
    def patch(self, request):
        serializer = ClinicSerializer(self.clinic, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        hours = data.pop("opening_hours", None)
        clinic = update_clinic(
            clinic=self.clinic,
            data=data,
            by=request.user,
            opening_hours=None if hours is None else [(h["weekday"], h["opens"], h["closes"]) for h in hours],
            closures=data.pop("closures", None),
        )
        return Response(ClinicSerializer(clinic).data)
