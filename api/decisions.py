"""Decisions over the API (SPEC §19): the proposals of an enrolment's
decision visits, and a clinician's accept or override, which re-plans the
course in one transaction."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from api.helpers import ShownField
from clinics.models import Role
from core.api import ClinicViewSet, FilterSet, IdFilter
from core.text import multi_line
from sessions.decisions import accept_decision, override_decision
from sessions.models import Decision, DecisionStatus


def decisions_of(clinic):
    return Decision.objects.filter(clinic=clinic).select_related("session__step", "decided_by")


class DecisionSerializer(serializers.ModelSerializer):
    session_sequence = serializers.IntegerField(source="session.sequence", read_only=True)
    step_name = ShownField(source="session.step.name")
    decided_by = serializers.SerializerMethodField()
    needs_review = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id", "enrolment", "session", "session_sequence", "step_name", "proposed_action", "rule_index",
            "rule_text", "rule_reason", "values", "status", "chosen_action", "override_reason", "decided_by",
            "decided_at", "needs_review", "review_reason", "created_at",
        ]
        read_only_fields = fields

    def get_decided_by(self, decision) -> str | None:
        return decision.decided_by.get_full_name() or decision.decided_by.username if decision.decided_by else None

    def get_needs_review(self, decision) -> bool:
        return bool(decision.review_reason)


class OverrideSerializer(serializers.Serializer):
    action = serializers.CharField(
        max_length=80, help_text="continue, switch_to: <arm>, stop_treatments or review; the arm of this version."
    )
    reason = serializers.CharField(
        max_length=1000, validators=[multi_line], help_text="Why the proposal is overridden (required)."
    )


class DecisionFilter(FilterSet):
    enrolment = IdFilter(field_name="enrolment_id")
    status = filters.ChoiceFilter(choices=DecisionStatus.choices)


class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ClinicViewSet):
    """Proposals made at decision visits; a clinician accepts or overrides a pending one."""

    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    action_roles = {"accept": Role.CLINICIAN, "override": Role.CLINICIAN}

    def scoped_queryset(self, clinic):
        return decisions_of(clinic)

    @extend_schema(
        request=None, responses=DecisionSerializer,
        description="Accept the proposal (clinician or manager): the course is re-planned at once — sessions "
        "leaving the path cancelled (booked ones with the patient's cancelled notice), an arm's sessions created "
        "anchored on the decision visit. 409 when it is already decided.",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        decision = accept_decision(decision=self.get_object(), by=request.user)
        return Response(DecisionSerializer(self.get_queryset().get(pk=decision.pk)).data)

    @extend_schema(
        request=OverrideSerializer, responses=DecisionSerializer,
        description="Choose another action with a reason (clinician or manager); re-plans as accept does.",
    )
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        body = OverrideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decision = override_decision(
            decision=self.get_object(), action=body.validated_data["action"], reason=body.validated_data["reason"],
            by=request.user,
        )
        return Response(DecisionSerializer(self.get_queryset().get(pk=decision.pk)).data)


class EnrolmentDecisionsMixin:
    """`/enrolments/{id}/decisions/` for the enrolment viewset."""

    @extend_schema(responses=DecisionSerializer(many=True), description="The enrolment's proposals, latest first.")
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def decisions(self, request, pk=None):
        enrolment = self.get_object()
        return Response(DecisionSerializer(decisions_of(self.clinic).filter(enrolment=enrolment), many=True).data)
