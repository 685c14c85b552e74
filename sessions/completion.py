"""Completing a session with its outcome values, product and adverse events,
and correcting a recorded value (SPEC §2, §4). Values are cleaned and scored
by protocols.outcome_values, next to the instruments."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from protocols.models import OutcomeMeasure
from protocols.outcome_values import measured_value

from .models import (
    AdverseEvent,
    OutcomeMeasurement,
    ProductForm,
    ProductSource,
    Relatedness,
    Session,
    SessionStatus,
    Severity,
)
from .workflows import changing, finish_if_done, recascade


def _clean_outcomes(
    session: Session, outcomes: Iterable[Mapping], not_done_reason: str, *, on: dt.date
) -> list[tuple]:
    items = list(outcomes)
    codes = [str(item.get("measure", "")) for item in items]
    catalogue = {m.code: m for m in OutcomeMeasure.objects.filter(code__in=codes)}
    errors: list[str] = []
    cleaned: list[tuple[OutcomeMeasure, Decimal, dict | None]] = []
    seen: set[str] = set()
    for code, item in zip(codes, items, strict=True):
        measure = catalogue.get(code)
        if measure is None:
            errors.append(f"{code[:40]!r} is not a known measure code.")
            continue
        if code in seen:
            errors.append(f"{code}: given twice.")
            continue
        seen.add(code)
        try:
            value, answers = measured_value(
                measure, item.get("value"), item.get("items"), born=session.patient.date_of_birth, on=on
            )
            cleaned.append((measure, value, answers))
        except ValidationError as error:
            errors.extend(error.messages)
    if not errors and not not_done_reason:
        required = dict(session.step.measures.values_list("code", "name"))
        missing = [required[code] for code in sorted(set(required) - seen)]
        if missing:
            errors.append(
                f"This visit records {', '.join(missing)}: enter the results, or say why they were not recorded."
            )
    if errors:
        raise ValidationError({"outcomes": errors})
    return cleaned


def _clean_adverse_events(events: Iterable[Mapping]) -> list[dict]:
    cleaned, errors = [], []
    for index, event in enumerate(events, start=1):
        description = str(event.get("description") or "").strip()
        severity = event.get("severity")
        related = event.get("related_to_treatment", Relatedness.UNKNOWN)
        if not description:
            errors.append(f"Event {index}: a description is required.")
        if severity not in Severity.values:
            errors.append(f"Event {index}: severity must be one of {', '.join(Severity.values)}.")
        if related not in Relatedness.values:
            errors.append(f"Event {index}: related_to_treatment must be one of {', '.join(Relatedness.values)}.")
        cleaned.append({"description": description, "severity": severity, "related_to_treatment": related})
    if errors:
        raise ValidationError({"adverse_events": errors})
    return cleaned


@workflow
def complete_session(
    *,
    session: Session,
    by: User,
    outcomes: Iterable[Mapping] = (),
    notes: str = "",
    not_done_reason: str = "",
    product_lot: str = "",
    product_source: str = "",
    product_form: str = "",
    product_concentration: str = "",
    adverse_events: Iterable[Mapping] = (),
    now: dt.datetime | None = None,
) -> Session:
    now = now_or(now)
    session = changing(session, by=by, role=Role.CLINICIAN)
    if refusal := session.completion_refusal(now):
        raise Conflict(refusal)
    if product_source and product_source not in ProductSource.values:
        raise ValidationError({"product_source": [f"Choose one of {', '.join(ProductSource.values)}."]})
    if product_form and product_form not in ProductForm.values:
        raise ValidationError({"product_form": [f"Choose one of {', '.join(ProductForm.values)}."]})
    not_done_reason = (not_done_reason or "").strip()
    cleaned = _clean_outcomes(session, outcomes, not_done_reason, on=now.astimezone(session.clinic.tz).date())
    events = _clean_adverse_events(adverse_events)

    session.status = SessionStatus.COMPLETED
    session.completed_at = now
    session.completed_by = by
    session.notes = notes or ""
    session.not_done_reason = not_done_reason
    session.product_lot = product_lot or ""
    session.product_source = product_source or ""
    session.product_form = product_form or ""
    session.product_concentration = product_concentration or ""
    session._history_user = by
    session.save()
    for measure, value, answers in cleaned:
        measurement = OutcomeMeasurement(
            session=session, measure=measure, value=value, items=answers, recorded_by=by, recorded_at=now
        )
        measurement._history_user = by
        measurement.save()
    for event in events:
        adverse = AdverseEvent(session=session, reported_by=by, reported_at=now, **event)
        adverse._history_user = by
        adverse.save()
    recascade(session.enrolment, now=now, touched=[session.pk])
    finish_if_done(session.enrolment)
    session.refresh_from_db()
    return session


@workflow
def correct_outcome(
    *, measurement: OutcomeMeasurement, value=None, items=None, by: User, now: dt.datetime | None = None
) -> OutcomeMeasurement:
    """Change a recorded value: a value typed in (the items, if any, are
    cleared), or a scored instrument's items, scored as of the session's
    completion date. The history table keeps who, when, the old and the new
    value and items; nothing clinical is ever deleted."""
    now = now_or(now)
    require_role(by, Role.CLINICIAN, clinic_id=measurement.session.clinic_id, what="measurement")
    measurement = (
        OutcomeMeasurement.objects.select_for_update(of=("self",))
        .select_related("measure", "session__clinic", "session__patient")
        .get(pk=measurement.pk)
    )
    session = measurement.session
    on = (session.completed_at or now).astimezone(session.clinic.tz).date()
    try:
        measurement.value, measurement.items = measured_value(
            measurement.measure, value, items, born=session.patient.date_of_birth, on=on
        )
    except ValidationError as error:
        raise ValidationError({"value" if items is None else "items": error.messages}) from None
    measurement.recorded_by = by
    measurement.recorded_at = now
    measurement._history_user = by
    measurement.save(update_fields=["value", "items", "recorded_by", "recorded_at"])
    return measurement
