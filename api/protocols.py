"""API: the outcome measure catalogue and the clinic's protocols (SPEC §6).

A protocol with enrolments is never edited in place: PUT or PATCH on it
answers 200 with the *new* version (a new id, `version` + 1), and the
enrolments stay on the version they started on.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from api.helpers import ShownField
from clinics.models import Role
from core.api import ClinicViewSet, FilterSet, StrictBooleanFilter
from core.text import single_line
from protocols import schedule
from protocols.library import shown
from protocols.models import Adjunct, Anchor, Delivery, Indication, OutcomeMeasure, Protocol, StepKind
from protocols.selectors import measures, protocols_of
from protocols.services import create_protocol, update_protocol


class MeasureSerializer(serializers.ModelSerializer):
    """The catalogue is the standard library's and read-only: names, word
    units and uses in the reader's language (Accept-Language); `code`
    identifies a measure."""

    name = ShownField()
    unit = ShownField()
    used_for = ShownField()
    responders = serializers.SerializerMethodField()
    min_value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)
    max_value = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=False)

    class Meta:
        model = OutcomeMeasure
        fields = [
            "code", "name", "unit", "value_type", "ordinal", "min_value", "max_value", "higher_is_better", "used_for",
            "responders", "reported_by",
        ]
        extra_kwargs = {"reported_by": {"help_text": "`patient`: asked in the questionnaire emailed before a booked "
                                        "visit (SPEC §17); `clinician`: recorded at the visit."}}

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_responders(self, measure) -> list[dict]:
        return [{**responder, "label": shown(responder.get("label", ""))} for responder in measure.responders]


class MeasureViewSet(mixins.ListModelMixin, ClinicViewSet):
    """The outcome measure catalogue, shared by all clinics; steps and outcomes refer to a measure by `code`."""

    serializer_class = MeasureSerializer

    def scoped_queryset(self, clinic):
        return measures()


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": 40}})
class MeasureCodesField(serializers.ListField):
    """Measure codes in, measure codes out (the step's M2M, prefetched)."""

    def to_representation(self, measures):
        return [measure.code for measure in measures.all()]


class StepSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200, validators=[single_line])
    display_name = ShownField(source="name", help_text="`name` in the reader's language for a standard step; else `name`.")
    kind = serializers.ChoiceField(StepKind.choices)
    repeat = serializers.IntegerField(min_value=1, max_value=schedule.MAX_REPEAT, default=1)
    interval_days = serializers.IntegerField(min_value=0, max_value=schedule.MAX_INTERVAL_DAYS, default=0)
    anchor = serializers.ChoiceField(Anchor.choices, default=Anchor.PREVIOUS)
    window_before_days = serializers.IntegerField(min_value=0, max_value=schedule.MAX_WINDOW_DAYS, default=0)
    window_after_days = serializers.IntegerField(min_value=0, max_value=schedule.MAX_WINDOW_DAYS, default=0)
    duration_minutes = serializers.IntegerField(
        min_value=0, max_value=12 * 60, default=30, help_text="At least 5 except for home steps."
    )
    measures = MeasureCodesField(
        child=serializers.CharField(max_length=40), default=list, max_length=50, help_text="Measure codes."
    )
    product = serializers.CharField(max_length=300, allow_blank=True, default="", validators=[single_line])
    adjunct = serializers.ChoiceField(Adjunct.choices, default=Adjunct.NONE)
    primary_endpoint = serializers.BooleanField(
        default=False, help_text="The course's primary end point: its measures' `endpoint` in the outcomes."
    )
    follow_up = serializers.BooleanField(
        default=False,
        help_text="A follow-up assessment: kept planned when the patient withdraws with `keep_follow_up`.",
    )
    arm = serializers.CharField(
        max_length=40, allow_blank=True, default="",
        help_text="Blank on the main path; else the arm (a named sequence of steps) a `switch_to: <arm>` rule schedules.",
    )
    decision = serializers.JSONField(
        allow_null=True, default=None,
        help_text='Decision rules at this step (SPEC §19): {"at": "last"|"every", "rules": [{"if": "responder: pasi_75" '
        'or "<measure> [value|change|percent_change] <op> <number>", "then": "continue" | "switch_to: <arm>" | '
        '"stop_treatments" | "review", "reason": "..."}], "default": {"then": ..., "reason": ...}}.',
    )


class ProtocolSerializer(serializers.ModelSerializer):
    # Empty for a clinic's own protocol: a plain string, not a slug pattern.
    library_key = serializers.CharField(read_only=True, help_text="The standard library's key; empty for the clinic's own.")
    steps = StepSerializer(many=True, max_length=100)
    indication = serializers.ChoiceField(Indication.choices)
    delivery = serializers.ChoiceField(Delivery.choices)
    # SPEC §20: `name`, `description` and `product` are what is stored (and
    # what PUT sends back); the standard library's texts are stored in
    # English and shown in the reader's language here. What a manager typed
    # is the same in both.
    display_name = ShownField(source="name", help_text="`name` in the reader's language for a standard protocol.")
    display_description = ShownField(source="description")
    display_product = ShownField(source="product")

    class Meta:
        model = Protocol
        fields = [
            "id",
            "name",
            "display_name",
            "indication",
            "delivery",
            "description",
            "display_description",
            "product",
            "display_product",
            "version",
            "active",
            "is_current",
            "lineage",
            "library_key",
            "library_edition",
            "created_at",
            "steps",
        ]
        read_only_fields = ["id", "version", "is_current", "lineage", "library_key", "library_edition", "created_at"]
        extra_kwargs = {"description": {"max_length": 10000}}


class ProtocolFilter(FilterSet):
    all_versions = StrictBooleanFilter(
        method="keep", help_text="true: every version; otherwise only the current version of each protocol."
    )
    indication = filters.ChoiceFilter(choices=Indication.choices)
    active = StrictBooleanFilter()

    @extend_schema_field({"type": "string", "enum": ["true", "false"]})  # no model field to read it from
    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("all_versions"):
            queryset = queryset.filter(is_current=True)
        return queryset


class ProtocolViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ClinicViewSet
):
    """Protocols with their ordered steps. Reading is for all staff; authoring is the manager's."""

    serializer_class = ProtocolSerializer
    filterset_class = ProtocolFilter
    action_roles = {"create": Role.MANAGER, "update": Role.MANAGER, "partial_update": Role.MANAGER}

    def scoped_queryset(self, clinic):
        return protocols_of(clinic)

    def _reloaded(self, protocol):
        return protocols_of(self.clinic).get(pk=protocol.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        steps = data.pop("steps")
        protocol = create_protocol(clinic=self.clinic, data=data, steps=steps, by=request.user)
        return Response(self.get_serializer(self._reloaded(protocol)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        description="Edit a protocol. One with enrolments is not changed: the answer is its next version "
        "(new id, version + 1), and enrolments stay on theirs. Only the current version can be edited (else 409)."
    )
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        steps = data.pop("steps", None)
        if partial and steps is not None:
            # PATCH leaves out protocol fields, but `steps` replaces every step,
            # so each step is checked whole, with its defaults.
            whole = StepSerializer(data=request.data["steps"], many=True)
            if not whole.is_valid():
                raise serializers.ValidationError({"steps": whole.errors})
            steps = whole.validated_data
        protocol = update_protocol(protocol=serializer.instance, data=data, steps=steps, by=request.user)
        return Response(self.get_serializer(self._reloaded(protocol)).data)

    @extend_schema(description="Edit some fields; `steps`, when given, replaces all steps. Versioning as for PUT.")
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)
