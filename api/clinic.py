"""The clinic's settings over the API (`/api/v1/clinic/`): here, not in
`clinics`, because a change acts on bookings and reminders
(sessions/clinic.py)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.models import CLINIC_SETTINGS, MAX_REMINDER_OFFSET_HOURS, Absence, Clinic, Role
from clinics.selectors import practitioners_of
from core.api import BoundedDateField, ClinicRelatedField, ClinicViewSet, JSONOnlyParser
from core.languages import Language
from core.permissions import ClinicScoped
from core.text import single_line
from protocols import questionnaires
from sessions.clinic import add_absence, update_clinic


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
    closure_details = serializers.SerializerMethodField(
        help_text="Each closure with its reason and whether it is a public holiday of `holiday_region`."
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
        fields = ["id", "slug", *CLINIC_SETTINGS, "opening_hours", "closures", "closure_details"]
        read_only_fields = ["id", "slug"]
        extra_kwargs = {
            "timezone": {"help_text": "IANA time zone, e.g. Europe/Berlin"},
            "patients_may_request_booking": {
                "help_text": "Whether 'time to book' emails carry a link to ask the clinic for a booking."
            },
            "patients_may_book": {
                "help_text": "Whether patients may pick a free time in the session's window themselves from "
                "an email's link (/p/<token>/book/)."
            },
            "language": {"help_text": "The language a new patient is written to in (emails, link pages)."},
            "holiday_region": {
                "help_text": "A `holidays` region, e.g. DE or DE-BE: its public holidays of the next two years "
                "become closures (kept up to date daily); removing one from `closures` reopens it for good."
            },
        }

    def get_closure_details(self, clinic) -> list[dict]:
        return [
            {"date": c.date.isoformat(), "reason": c.reason, "holiday": c.holiday} for c in clinic.closures.all()
        ]

    def validate_reminder_offsets_hours(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("Each offset may appear only once."))
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


class AbsenceSerializer(serializers.ModelSerializer):
    practitioner = ClinicRelatedField(scope=practitioners_of, help_text="A clinician or manager of the clinic.")
    first_day = BoundedDateField()
    last_day = BoundedDateField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", validators=[single_line])

    class Meta:
        model = Absence
        fields = ["id", "practitioner", "first_day", "last_day", "reason"]
        read_only_fields = ["id"]


class AbsenceViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, ClinicViewSet):
    """Practitioners' absences (issue 24): days the free-slot search offers
    none of their slots. Everyone reads; the manager adds and removes them.
    An absence over the practitioner's coming bookings is a 409 naming each."""

    serializer_class = AbsenceSerializer
    action_roles = {"create": Role.MANAGER, "destroy": Role.MANAGER}

    def scoped_queryset(self, clinic):
        return Absence.objects.filter(clinic=clinic).order_by("first_day", "id")

    def perform_create(self, serializer):
        serializer.instance = add_absence(clinic=self.clinic, by=self.request.user, **serializer.validated_data)


class WordingSerializer(serializers.Serializer):
    """The licensed DLQI wording in one language (SPEC §17)."""

    language = serializers.ChoiceField(choices=Language.choices)
    instructions = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    questions = serializers.ListField(
        child=serializers.CharField(max_length=1000), min_length=10, max_length=10,
        help_text="DLQI's ten questions, in order, as licensed.",
    )
    answers = serializers.DictField(
        child=serializers.CharField(max_length=200),
        help_text="The answer labels: " + ", ".join(f"`{k}`" for k in questionnaires.DLQI_ANSWER_KEYS) + ".",
    )
    entered = serializers.BooleanField(read_only=True, help_text="Complete: the questionnaire asks DLQI in it.")


class WordingRowSerializer(WordingSerializer):
    """A language's wording as the clinic has it: no questions until entered."""

    questions = serializers.ListField(
        child=serializers.CharField(max_length=1000), max_length=10,
        help_text="DLQI's ten questions, in order, as licensed; empty until entered.",
    )


def _wording_rows(clinic) -> list[dict]:
    rows = []
    for language in questionnaires.WORDING_LANGUAGES:
        wording = questionnaires.wording_of(clinic.pk, "dlqi", language)
        rows.append({
            "language": language,
            "instructions": wording.instructions if wording else "",
            "questions": wording.questions if wording else [],
            "answers": wording.answers if wording else {},
            "entered": questionnaires.wording_complete(wording),
        })
    return rows


class WordingView(ClinicScoped, APIView):
    """`/api/v1/clinic/dlqi-wording/`: DLQI's licensed wording, which the
    manager enters per language (`en`, `de`); until it is entered for a
    patient's language the questionnaire leaves DLQI out (SPEC §17)."""

    parser_classes = [JSONOnlyParser]
    action_roles = {"put": Role.MANAGER}

    @extend_schema(responses=WordingRowSerializer(many=True), operation_id="clinic_dlqi_wording_list")
    def get(self, request):
        return Response(WordingRowSerializer(_wording_rows(self.clinic), many=True).data)

    @extend_schema(request=WordingSerializer, responses=WordingRowSerializer(many=True),
                   operation_id="clinic_dlqi_wording_update",
                   description="Enter or replace the wording of one `language`; answers every language's.")
    def put(self, request):
        serializer = WordingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        questionnaires.set_wording(clinic=self.clinic, code="dlqi", by=request.user, **serializer.validated_data)
        return Response(WordingRowSerializer(_wording_rows(self.clinic), many=True).data)
