"""Read queries over protocols and the measure catalogue."""

from django.db.models import Prefetch, QuerySet

from clinics.models import Clinic

from .models import OutcomeMeasure, Protocol, Step


def protocols_of(clinic: Clinic | None, *, all_versions: bool = True) -> QuerySet[Protocol]:
    """The clinic's protocols with their ordered steps and the steps' measures
    (three queries for any number of protocols)."""
    protocols = Protocol.objects.filter(clinic=clinic).prefetch_related(
        Prefetch("steps", queryset=Step.objects.order_by("position").prefetch_related("measures"))
    )
    return protocols if all_versions else protocols.filter(is_current=True)


def measures() -> QuerySet[OutcomeMeasure]:
    return OutcomeMeasure.objects.order_by("code")
