"""API: sessions (booking, completion, outcomes) and reminders (SPEC §4, §6).

Dates (`target_date`, the window, the date filters) are clinic-local dates;
`start`, `end` and the other instants are rendered in the clinic's zone with
their UTC offset. A `start` sent without an offset is clinic-local time.
"""

import datetime as dt

from django.db.models import Prefetch, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from api.audit import AuditViews
from api.helpers import ShownField
from api.photos import SessionPhotosMixin
from clinics.models import Role, Room, User
from core.api import (
    BoundedDateField,
    ClinicRelatedField,
    ClinicTimeField,
    ClinicViewSet,
    FilterSet,
    IdFilter,
    IsoDateFilter,
    LocalDateTimeField,
    StrictBooleanFilter,
    to_clinic_time,
)
from core.pagination import SessionPagination
from core.services import now
from core.text import multi_line, single_line
from patients.models import EnrolmentStatus
from protocols import instruments
from protocols.library import shown
from protocols.products import lots_of
from sessions import questionnaires, services
from sessions.models import (
    ActionTaken,
    AdverseEvent,
    AdverseEventOutcome,
    ChangeReason,
    OutcomeMeasurement,
    ProductForm,
    ProductSource,
    Relatedness,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
    Severity,
)
from sessions.records.adverse_events import EVENT_FIELDS
from sessions.selectors import (
    EpochMicroseconds,
    awaiting_results_q,
    free_slots,
    from_epoch_microseconds,
    practitioners_of,
    reminders_of,
    session_list_of,
    sessions_of,
)

MAX_TEXT = 5000

# --- Representations ------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    step_name = ShownField(source="step.name")
    kind = serializers.CharField(source="step.kind", read_only=True)
    duration_minutes = serializers.IntegerField(source="step.duration_minutes", read_only=True)
    start = ClinicTimeField(allow_null=True)
    end = ClinicTimeField(allow_null=True)
    completed_at = ClinicTimeField(allow_null=True)
    # Blank until the session is completed with product details.
    product_source = serializers.ChoiceField(ProductSource.choices, allow_blank=True, read_only=True)
    product_form = serializers.ChoiceField(ProductForm.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "enrolment",
            "patient",
            "step",
            "step_name",
            "kind",
            "duration_minutes",
            "sequence",
            "occurrence",
            "status",
            "target_date",
            "window_start",
            "window_end",
            "start",
            "end",
            "practitioner",
            "room",
            "out_of_window",
            "booked_by_patient",
            "missed_count",
            "completed_at",
            "notes",
            "not_done_reason",
            "skip_reason",
            "product_lot",
            "product_source",
            "product_form",
            "product_concentration",
            "lot",
        ]
        read_only_fields = fields

    def to_representation(self, session):
        """The declared fields' representation (the schema's), written out
        for this class (`session_row`). Subclasses take DRF's walk."""
        if type(self) is not SessionSerializer:
            return super().to_representation(session)
        return session_row([_follow(session, lookup) for lookup in ROW_VALUES.values()], session.clinic.tz)


# A list row's keys and the values_list() lookups they come from, in order.
# The sessions list is the agenda's hot path: it reads these with
# values_list() and writes the rows by hand, as SessionSerializer's declared
# fields would (model objects and DRF's walk field by field were most of its
# time, docs/benchmarks.md). tests/api/test_session_list_representation.py
# checks the two agree.
ROW_VALUES = {
    "id": "id", "enrolment": "enrolment_id", "patient": "patient_id", "step": "step_id", "step_name": "step__name",
    "kind": "step__kind", "duration_minutes": "step__duration_minutes", "sequence": "sequence",
    "occurrence": "occurrence", "status": "status", "target_date": "target_date", "window_start": "window_start",
    "window_end": "window_end", "start": "start", "end": "end", "practitioner": "practitioner_id", "room": "room_id",
    "out_of_window": "out_of_window", "booked_by_patient": "booked_by_patient", "missed_count": "missed_count",
    "completed_at": "completed_at",
    "notes": "notes", "not_done_reason": "not_done_reason", "skip_reason": "skip_reason",
    "product_lot": "product_lot", "product_source": "product_source", "product_form": "product_form",
    "product_concentration": "product_concentration", "lot": "lot_id",
}
ROW_KEYS = tuple(ROW_VALUES)
ROW_DATES = tuple(ROW_KEYS.index(key) for key in ("target_date", "window_start", "window_end"))
ROW_INSTANTS = tuple(ROW_KEYS.index(key) for key in ("start", "end", "completed_at"))
ROW_STEP_NAME = ROW_KEYS.index("step_name")


def session_row(values, tz) -> dict:
    """One list row from a values_list() row of ROW_VALUES' lookups, in their
    order; instants in the clinic's zone `tz`."""
    return session_rows([values], tz)[0]


def session_rows(rows, tz) -> list[dict]:
    """List rows from values_list() rows of ROW_VALUES' lookups (or of
    LIST_COLUMNS, whose instants are whole microseconds since 1970): dates
    in ISO 8601, instants in the clinic's zone `tz` as DRF's DateTimeField
    writes them ("Z" for UTC). Each distinct date and instant is written
    once: a day's sessions share a handful of start times and dates, and
    writing them was most of the rows' cost (docs/benchmarks.md)."""
    days: dict = {None: None}
    instants: dict = {None: None}
    names: dict = {}  # step names in the reader's language (a standard step's), each looked up once
    written = []
    for row in rows:
        values = list(row)
        name = values[ROW_STEP_NAME]
        if name not in names:
            names[name] = shown(name)
        values[ROW_STEP_NAME] = names[name]
        for index in ROW_DATES:
            day = values[index]
            text = days.get(day)
            if text is None and day is not None:
                text = days[day] = day.isoformat()
            values[index] = text
        for index in ROW_INSTANTS:
            moment = values[index]
            text = instants.get(moment)
            if text is None and moment is not None:
                instant = from_epoch_microseconds(moment) if isinstance(moment, int) else moment
                text = instant.astimezone(tz).isoformat()
                text = instants[moment] = text[:-6] + "Z" if text.endswith("+00:00") else text
            values[index] = text
        written.append(dict(zip(ROW_KEYS, values, strict=True)))
    return written


# What the list reads: ROW_VALUES' lookups, the instants as whole
# microseconds since 1970 (EpochMicroseconds), which cost a fraction of
# loading timestamps through Django's loader.
LIST_COLUMNS = [EpochMicroseconds(lookup) if key in ("start", "end", "completed_at") else lookup
                for key, lookup in ROW_VALUES.items()]


def _follow(obj, lookup: str):
    for name in lookup.split("__"):
        obj = getattr(obj, name)
    return obj


class OutcomeSerializer(serializers.ModelSerializer):
    measure = serializers.CharField(source="measure.code", read_only=True)
    unit = serializers.CharField(source="measure.unit", read_only=True)
    value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False, read_only=True)
    items = serializers.JSONField(
        read_only=True, allow_null=True,
        help_text="The items a scored instrument's value was computed from, as sent; null for a value typed in.",
    )
    recorded_at = ClinicTimeField(clinic_path="session.clinic")
    answered_at = ClinicTimeField(clinic_path="session.clinic", allow_null=True)
    interpretation = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeMeasurement
        fields = ["id", "measure", "unit", "value", "items", "interpretation", "observed_on", "source", "answered_at",
                  "recorded_by", "recorded_at"]
        extra_kwargs = {
            "source": {"help_text": "`patient`: answered by the patient in the questionnaire before the visit; "
                       "`staff`: entered by staff (at the visit, or a paper questionnaire on the patient's behalf)."},
            "recorded_by": {"help_text": "The member of staff who entered it; null for the patient's own answers."},
        }
        read_only_fields = fields

    @extend_schema_field(
        {"type": "object", "nullable": True, "description": "DLQI: band, unanswered and not_relevant questions; "
         "SCORAD: band, objective_scorad and objective_band; null for other measures."}
    )
    def get_interpretation(self, outcome):
        return instruments.interpretation(outcome.measure.code, outcome.value, outcome.items)


class AdverseEventSerializer(serializers.ModelSerializer):
    reported_at = ClinicTimeField(clinic_path="enrolment.clinic")
    patient = serializers.IntegerField(source="enrolment.patient_id", read_only=True)

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "enrolment",
            "patient",
            "session",
            *EVENT_FIELDS,
            "review_reason",
            "reported_by",
            "reported_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "review_reason": {
                "help_text": "Why a clinician must review the event (recorded before the CTCAE consistency rules, "
                "its grade, severity, outcome or resolution disagree); blank when nothing is to review. An update "
                "that makes them agree clears it."
            }
        }


class SessionDetailSerializer(SessionSerializer):
    outcomes = OutcomeSerializer(many=True, read_only=True)
    adverse_events = AdverseEventSerializer(many=True, read_only=True)

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "outcomes", "adverse_events"]
        read_only_fields = fields


class ReminderSerializer(serializers.ModelSerializer):
    due_at = ClinicTimeField()
    next_attempt_at = ClinicTimeField(allow_null=True)
    sent_at = ClinicTimeField(allow_null=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "session",
            "kind",
            "offset_hours",
            "due_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
        ]
        read_only_fields = fields


class SlotSerializer(serializers.Serializer):
    start = ClinicTimeField(clinic_path="")
    end = ClinicTimeField(clinic_path="")
    practitioner = serializers.IntegerField(source="practitioner_id")
    practitioner_name = serializers.CharField()
    room = serializers.IntegerField(source="room_id", allow_null=True)


# --- Requests -------------------------------------------------------------------------------------


def _staff(clinic):
    return User.objects.filter(clinic=clinic)


def _rooms(clinic):
    return Room.objects.filter(clinic=clinic)


class SlotQuerySerializer(serializers.Serializer):
    date_from = BoundedDateField(required=False, help_text="First clinic-local date (default: window start or today).")
    date_to = BoundedDateField(required=False, help_text="Last clinic-local date (default: window end).")
    practitioner = ClinicRelatedField(scope=practitioners_of, required=False, help_text="Only this practitioner.")

    def validate(self, data):
        if "date_from" in data and "date_to" in data and data["date_to"] < data["date_from"]:
            raise serializers.ValidationError({"date_to": [_("date_to must not be before date_from.")]})
        return data


class BookSerializer(serializers.Serializer):
    start = LocalDateTimeField(
        help_text="ISO 8601. Without a UTC offset it is the clinic's local time; a time the clocks skip is refused."
    )
    practitioner = ClinicRelatedField(scope=_staff, help_text="A clinician or manager of the clinic.")
    room = ClinicRelatedField(scope=_rooms, required=False, allow_null=True)
    override_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[multi_line],
        help_text="Books outside the session's window (clinician or manager); logged as a deviation.",
    )
    change_reason = serializers.ChoiceField(
        ChangeReason.choices, required=False, default=ChangeReason.OTHER,
        help_text="When rebooking: why the old time is given up; kept and counted in the reports.",
    )
    change_note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[multi_line]
    )
    later_bookings = serializers.ChoiceField(
        [("release", "release"), ("keep", "keep")], required=False, default="",
        help_text="When the move pushes later bookings out of their windows: `release` them (back to planned, "
        "the patient told) or `keep` them (logged as deviations). Without it such a move is a 409 naming them.",
    )

    def validate_start(self, value):
        return to_clinic_time(value, self.context["clinic"])


class CancelSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        ChangeReason.choices, required=False, default=ChangeReason.OTHER,
        help_text="Why the booking is cancelled; kept and counted in the reports (default `other`).",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", validators=[multi_line])


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[multi_line]
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, validators=[multi_line], help_text="Why the session is skipped (required)."
    )


ITEMS_HELP = (
    "Instead of `value`, for `scorad`, `easi`, `pasi`, `dlqi` and `poem` (which never take a bare value) and "
    "`posas_patient` (which may): the instrument's items, from which the value is computed "
    "(clinical/instruments.md) and stored with them. Exactly these keys:\n"
    + "".join(f"- `{code}`: `{instruments.describe_layout(code)}`\n" for code in instruments.SCORED_CODES)
    + "- `posas_patient`: `{\"answers\": [6 answers in order (pain, itch, colour, stiffness, thickness, "
    "irregularity), each an integer 1-10], \"overall\": 1-10 or null}`\n"
    + "EASI's weights follow the patient's age on the visit date. Example (SCORAD 51.5): "
    "`{\"area_percent\": 40, \"intensity\": {\"erythema\": 2, \"oedema_papulation\": 2, \"oozing_crusts\": 1, "
    "\"excoriation\": 2, \"lichenification\": 1, \"dryness\": 1}, \"pruritus\": 7, \"sleeplessness\": 5}`. "
    "Giving both `value` and `items`, items for another measure, or a bad item is a 400 on `outcomes`."
)


class OutcomeInputSerializer(serializers.Serializer):
    measure = serializers.CharField(max_length=40, help_text="A measure code, e.g. hair_density.")
    value = serializers.DecimalField(
        max_digits=12, decimal_places=4, coerce_to_string=False, required=False,
        help_text="The value; required unless `items` is given.",
    )
    items = serializers.DictField(required=False, help_text=ITEMS_HELP)


class AdverseEventInputSerializer(serializers.Serializer):
    """One adverse event (SPEC §12). A CTCAE `grade` or a `severity` is
    required; either gives the other (1 mild, 2 moderate, 3–5 severe) and both
    must agree. Grade 5 is death: grade 5 exactly when the outcome is `fatal`
    (grade 5 alone gives it). `recovered` and `recovered_with_sequelae` need a
    `resolved_date`, which no other outcome has. Grade 4–5 or a fatal outcome
    make it serious."""

    description = serializers.CharField(max_length=MAX_TEXT, validators=[multi_line])
    severity = serializers.ChoiceField(Severity.choices, required=False)
    grade = serializers.IntegerField(min_value=1, max_value=5, required=False, help_text="CTCAE grade 1–5.")
    serious = serializers.BooleanField(required=False)
    onset_date = BoundedDateField(required=False, help_text="Default: the visit's date (between visits: today).")
    resolved_date = BoundedDateField(required=False, allow_null=True, help_text="Not before the onset.")
    outcome = serializers.ChoiceField(AdverseEventOutcome.choices, required=False)
    action_taken = serializers.ChoiceField(ActionTaken.choices, required=False)
    related_to_treatment = serializers.ChoiceField(Relatedness.choices, required=False)


class CompleteSerializer(serializers.Serializer):
    outcomes = OutcomeInputSerializer(many=True, required=False, default=list, max_length=50)
    notes = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, default="", validators=[multi_line]
    )
    not_done_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", validators=[multi_line],
        help_text="Why the step's measures were not recorded; without it they are required.",
    )
    lot = ClinicRelatedField(
        scope=lots_of, required=False, allow_null=True, default=None,
        help_text="The product lot used (GET /api/v1/lots/): required for a treatment session, not expired on "
        "the visit's date.",
    )
    product_lot = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default="", validators=[single_line],
        help_text="Free text, kept for sessions without a `lot`; a `lot` overrides it.",
    )
    product_source = serializers.ChoiceField(ProductSource.choices, required=False, allow_blank=True, default="")
    product_form = serializers.ChoiceField(ProductForm.choices, required=False, allow_blank=True, default="")
    product_concentration = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default="", validators=[single_line]
    )
    adverse_events = AdverseEventInputSerializer(many=True, required=False, default=list, max_length=20)
    performed_on = BoundedDateField(
        required=False, allow_null=True, default=None,
        help_text="For a session completed without a booking (home): the clinic-local date it was done; by "
        "default today, never in the future nor before the enrolment started. A booked session's date is its "
        "booked start's.",
    )


# --- Filters --------------------------------------------------------------------------------------


def _clinic_day(request, field: str):
    """The clinic-local date of an instant, as a database expression."""
    return TruncDate(field, tzinfo=request.user.clinic.tz)


class SessionFilter(FilterSet):
    date_from = IsoDateFilter(
        method="day_from", help_text="Clinic-local date: a booked session's start date, else its target date."
    )
    date_to = IsoDateFilter(method="day_to", help_text="Inclusive; the same date as for date_from.")
    status = filters.ChoiceFilter(choices=SessionStatus.choices)
    practitioner = IdFilter(field_name="practitioner_id")
    patient = IdFilter(field_name="patient_id")
    enrolment = IdFilter(field_name="enrolment_id")
    awaiting_results = StrictBooleanFilter(
        method="filter_awaiting_results",
        help_text="`true`: booked visits of active enrolments whose start has passed and that were never completed "
        "(the due list's 'awaiting results'); `false`: every other session.",
    )

    @extend_schema_field(OpenApiTypes.BOOL)
    def filter_awaiting_results(self, queryset, name, value):
        awaiting = awaiting_results_q(now()) & Q(enrolment__status=EnrolmentStatus.ACTIVE)
        return queryset.filter(awaiting) if value else queryset.exclude(awaiting)

    # date_from and date_to are applied together in filter_queryset, as one
    # condition the indexes on (clinic, start) and (clinic, target_date) can
    # serve; a day computed per row (the local date of start, else the target
    # date) would make PostgreSQL read every session of the clinic.
    def day_from(self, queryset, name, value):
        return queryset

    day_to = day_from

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        first, last = self.form.cleaned_data.get("date_from"), self.form.cleaned_data.get("date_to")
        if first is None and last is None:
            return queryset
        return queryset.filter(on_local_days(first, last, self.request.user.clinic.tz))


def _local_midnight(day: dt.date, tz) -> dt.datetime:
    """The first instant of a local date: fold=0 puts a midnight the clocks
    skip at the end of the gap, and a repeated one at its first occurrence."""
    return dt.datetime.combine(day, dt.time.min).replace(tzinfo=tz, fold=0)


def on_local_days(first: dt.date | None, last: dt.date | None, tz) -> Q:
    """Sessions whose day lies in [first, last]: a booked or completed one's
    local start date, else its target date."""
    booked, unbooked = Q(start__isnull=False), Q(start__isnull=True)
    if first is not None:
        booked &= Q(start__gte=_local_midnight(first, tz))
        unbooked &= Q(target_date__gte=first)
    if last is not None:
        if last < dt.date.max:
            booked &= Q(start__lt=_local_midnight(last + dt.timedelta(days=1), tz))
        unbooked &= Q(target_date__lte=last)
    return booked | unbooked


class ReminderFilter(FilterSet):
    status = filters.ChoiceFilter(choices=ReminderStatus.choices)
    kind = filters.ChoiceFilter(choices=ReminderKind.choices)
    session = IdFilter(field_name="session_id")
    patient = IdFilter(field_name="session__patient_id", help_text="Only this patient's reminders.")
    date_from = IsoDateFilter(method="day_from", help_text="Clinic-local date of due_at, inclusive.")
    date_to = IsoDateFilter(method="day_to", help_text="Clinic-local date of due_at, inclusive.")

    def day_from(self, queryset, name, value):
        return queryset.annotate(due_day=_clinic_day(self.request, "due_at")).filter(due_day__gte=value)

    def day_to(self, queryset, name, value):
        return queryset.annotate(due_day_to=_clinic_day(self.request, "due_at")).filter(due_day_to__lte=value)


class QuestionnaireSerializer(serializers.Serializer):
    """The questionnaire of a session (SPEC §17)."""

    asked = serializers.BooleanField(help_text="The session's step has patient-reported measures.")
    measures = serializers.ListField(child=serializers.CharField(), help_text="Its patient-reported measure codes.")
    left_out = serializers.ListField(
        child=serializers.CharField(),
        help_text="Measures the questionnaire leaves out for staff to record at the visit: their licensed wording "
        "(DLQI) is not entered for the patient's language.",
    )
    email_due_at = ClinicTimeField(clinic_path="", allow_null=True, help_text="When the email is planned to go out.")
    sent = serializers.BooleanField()
    sent_at = ClinicTimeField(clinic_path="", allow_null=True)
    opened = serializers.BooleanField()
    opened_at = ClinicTimeField(clinic_path="", allow_null=True)
    answered = serializers.BooleanField()
    answered_at = ClinicTimeField(clinic_path="", allow_null=True, help_text="First sent (kept when changed later).")
    changed_at = ClinicTimeField(clinic_path="", allow_null=True)
    source = serializers.CharField(allow_null=True, help_text="`patient`, or `staff` for a paper questionnaire.")
    answered_before_visit = serializers.BooleanField()
    values = OutcomeSerializer(many=True)


class PaperQuestionnaireSerializer(serializers.Serializer):
    outcomes = OutcomeInputSerializer(many=True, max_length=20, allow_empty=False)


class QuestionnaireMixin:
    """`GET/POST /api/v1/sessions/{id}/questionnaire/`."""

    @extend_schema(
        methods=["GET"], responses=QuestionnaireSerializer,
        description="Whether the session's questionnaire was sent, opened and answered, and the answers.",
    )
    @extend_schema(
        methods=["POST"], request=PaperQuestionnaireSerializer, responses=QuestionnaireSerializer,
        description="Enter a paper questionnaire on the patient's behalf (source `staff`) until the visit is "
        "completed: any of the step's patient-reported measures, each a `value` or (DLQI, POEM, POSAS patient "
        "scale) its `items`.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def questionnaire(self, request, pk=None):
        session = self.get_object()
        if request.method == "POST":
            data = self._body(PaperQuestionnaireSerializer)
            questionnaires.enter_paper(session=session, outcomes=data["outcomes"], by=request.user)
        tz = self.clinic.tz
        state = questionnaires.status(session)
        for key in ("email_due_at", "sent_at", "opened_at", "answered_at", "changed_at"):
            state[key] = state[key].astimezone(tz) if state[key] else None
        return Response(QuestionnaireSerializer(state, context=self.get_serializer_context()).data)


# --- Views ----------------------------------------------------------------------------------------


class SessionViewSet(AuditViews, SessionPhotosMixin, QuestionnaireMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    """Sessions of the clinic's enrolments: book, rebook, cancel, no-show (reception and up); skip and
    complete (clinician and up)."""

    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    pagination_class = SessionPagination
    action_roles = {"skip": Role.CLINICIAN, "complete": Role.CLINICIAN}

    def scoped_queryset(self, clinic):
        return session_list_of(clinic) if self.action == "list" else sessions_of(clinic)

    def get_serializer_class(self):
        return SessionSerializer if self.action == "list" else SessionDetailSerializer

    def list(self, request, *args, **kwargs):
        # values_list() rows written out by session_rows: what SessionSerializer
        # gives, without a model object or a field walk per row.
        sessions = self.filter_queryset(self.get_queryset()).values_list(*LIST_COLUMNS)
        page = self.paginate_queryset(sessions)
        tz = self.clinic.tz
        return self.get_paginated_response(session_rows(page, tz))

    def get_queryset(self):
        sessions = super().get_queryset()
        if self.action == "retrieve":
            return self._with_details(sessions)
        return sessions

    @staticmethod
    def _with_details(sessions):
        return sessions.prefetch_related(
            Prefetch("outcomes", queryset=OutcomeMeasurement.objects.select_related("measure").order_by("measure")),
            Prefetch(
                "adverse_events",
                queryset=AdverseEvent.objects.select_related("enrolment__clinic").order_by("reported_at", "id"),
            ),
        )

    def _answer(self, session):
        session = self._with_details(sessions_of(self.clinic)).get(pk=session.pk)
        return Response(SessionDetailSerializer(session, context=self.get_serializer_context()).data)

    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        parameters=[SlotQuerySerializer],
        responses=SlotSerializer(many=True),
        description="Free slots of the clinic's slot length inside the session's window (narrowed by date_from "
        "and date_to), inside opening hours, not on closures, not in the past, where the practitioner, a room "
        "and the patient are free. At most 2000, earliest first (narrow the dates or the practitioner for more). None for a session that cannot be booked "
        "(done, skipped, cancelled, a home application, or of an enrolment no longer active).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def slots(self, request, pk=None):
        session = self.get_object()
        query = SlotQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        if not session.can_book:
            return Response([])
        found = free_slots(session, **query.validated_data)
        names = {p.pk: p.display_name for p in practitioners_of(self.clinic)}
        tz = self.clinic.tz
        rows = [
            {
                "start": slot.start.astimezone(tz),
                "end": slot.end.astimezone(tz),
                "practitioner_id": slot.practitioner_id,
                "practitioner_name": names.get(slot.practitioner_id, ""),
                "room_id": slot.room_id,
            }
            for slot in found
        ]
        return Response(SlotSerializer(rows, many=True).data)

    @extend_schema(
        request=BookSerializer,
        responses=SessionDetailSerializer,
        description="Book a planned session or rebook a booked one. The start's local date must lie in the "
        "window unless `override_reason` is given (clinician or manager). A practitioner, room or patient "
        "already booked at that time is a 409, and so is a move that pushes later bookings out of their windows "
        "(`later_sessions` names each) unless `later_bookings` says what to do with them.",
    )
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        session = self.get_object()
        data = self._body(BookSerializer)
        return self._answer(
            services.book_session(
                session=session,
                start=data["start"],
                practitioner=data["practitioner"],
                room=data.get("room"),
                override_reason=data["override_reason"],
                change_reason=data["change_reason"],
                change_note=data["change_note"],
                later_bookings=data["later_bookings"],
                by=request.user,
            )
        )

    @extend_schema(
        request=CancelSerializer,
        responses=SessionDetailSerializer,
        description="Cancel a booking: back to planned. The reason is kept and counted.",
    )
    @action(detail=True, methods=["post"], url_path="cancel-booking")
    def cancel_booking(self, request, pk=None):
        session = self.get_object()
        data = self._body(CancelSerializer)
        return self._answer(
            services.cancel_booking(session=session, reason=data["reason"], note=data["note"], by=request.user)
        )

    @extend_schema(
        request=ReasonSerializer,
        responses=SessionDetailSerializer,
        description="The patient did not come: back to planned, missed_count + 1, a deviation, a 'we missed you' "
        "email. Only from the booked start on.",
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        session = self.get_object()
        data = self._body(ReasonSerializer)
        return self._answer(services.mark_no_show(session=session, reason=data["reason"], by=request.user))

    @extend_schema(request=SkipSerializer, responses=SessionDetailSerializer, description="Skip with a reason.")
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        session = self.get_object()
        data = self._body(SkipSerializer)
        return self._answer(services.skip_session(session=session, reason=data["reason"], by=request.user))

    @extend_schema(
        request=CompleteSerializer,
        responses=SessionDetailSerializer,
        description="Complete a booked session (from its start on; a home one from its target date on) with "
        "the step's outcome measures (or a not_done_reason), product details and adverse events. SCORAD, EASI, "
        "PASI, DLQI and POEM are given as their `items` instead of a `value` (the POSAS patient scale may be): the "
        "value is computed from them. A measure the patient already answered in the questionnaire (SPEC §17) is not "
        "given again (400: correct that value instead).",
        examples=[
            OpenApiExample(
                "SCORAD from its items",
                request_only=True,
                value={
                    "outcomes": [
                        {
                            "measure": "scorad",
                            "items": {
                                "area_percent": 40,
                                "intensity": {
                                    "erythema": 2, "oedema_papulation": 2, "oozing_crusts": 1,
                                    "excoriation": 2, "lichenification": 1, "dryness": 1,
                                },
                                "pruritus": 7,
                                "sleeplessness": 5,
                            },
                        },
                        {"measure": "itch_nrs", "value": 6},
                    ],
                    "notes": "Flare on both forearms.",
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        session = self.get_object()
        data = self._body(CompleteSerializer)
        return self._answer(services.complete_session(session=session, by=request.user, **data))

    @extend_schema(responses=ReminderSerializer(many=True), description="The session's reminder rows.")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def reminders(self, request, pk=None):
        rows = reminders_of(self.clinic).filter(session=self.get_object())
        return Response(ReminderSerializer(rows, many=True).data)


class ReminderViewSet(mixins.ListModelMixin, ClinicViewSet):
    """The clinic's reminder emails (the outbox); `?status=failed` lists those that could not be sent."""

    serializer_class = ReminderSerializer
    filterset_class = ReminderFilter

    def scoped_queryset(self, clinic):
        return reminders_of(clinic)
