"""The cohort report's filters, read and checked once for the API and the
staff page (both pass the clinic in the serializer's context)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.api import BoundedDateField, ClinicRelatedField
from protocols.models import Indication, Lot, Protocol


class CohortFilterSerializer(serializers.Serializer):
    protocol = ClinicRelatedField(
        scope=lambda clinic: Protocol.objects.filter(clinic=clinic),
        required=False,
        help_text="A protocol id: every version of that protocol is one cohort.",
    )
    version = serializers.IntegerField(
        min_value=1, max_value=10_000, required=False, help_text="Only enrolments on this version of the protocol."
    )
    indication = serializers.ChoiceField(Indication.choices, required=False)
    lot = ClinicRelatedField(
        scope=lambda clinic: Lot.objects.filter(product__clinic=clinic),
        required=False,
        help_text="Only enrolments with a session that used this lot.",
    )
    started_from = BoundedDateField(required=False, help_text="Enrolments that started on or after this date.")
    started_to = BoundedDateField(required=False, help_text="Enrolments that started on or before this date.")

    def validate(self, attrs):
        if "version" in attrs and "protocol" not in attrs:
            raise serializers.ValidationError({"version": _("A version needs a protocol.")})
        start, end = attrs.get("started_from"), attrs.get("started_to")
        if start and end and start > end:
            raise serializers.ValidationError({"started_to": _("Give a date on or after started_from.")})
        return attrs

    def filters(self) -> dict:
        data = dict(self.validated_data)
        if "lot" in data:
            data["lot"] = data["lot"].pk
        return data
