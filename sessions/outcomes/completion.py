"""Completing a session with its outcome values, product and adverse events,
and correcting a recorded value (SPEC §2, §4). Values are cleaned and scored
by protocols.outcome_values, next to the instruments."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from core.text import check_text, single_line
from protocols.library import asked_of, shown
from protocols.models import Lot, OutcomeMeasure, StepKind
from protocols.outcome_values import measured_value
from protocols.products import check_lot_for
from sessions.decisions import propose, values_corrected
from sessions.models import (
    AdverseEvent,
    OutcomeMeasurement,
    ProductForm,
    ProductSource,
    Session,
    SessionStatus,
    ValueSource,
)
from sessions.records.adverse_events import clean_event
from sessions.workflows import changing, finish_if_done, recascade


def _clean_outcomes(
    session: Session, outcomes: Iterable[Mapping], not_done_reason: str, *, on: dt.date
) -> list[tuple]:
    items = list(outcomes)
    codes = [str(item.get("measure", "")) for item in items]
    catalogue = {m.code: m for m in OutcomeMeasure.objects.filter(code__in=codes)}
    errors: list[str] = []
    cleaned: list[tuple[OutcomeMeasure, Decimal, dict | None]] = []
    # Values the patient already gave in the questionnaire (or staff from a
    # paper one, SPEC §17): the visit does not ask for them again.
    answered = set(session.outcomes.values_list("measure__code", flat=True))
    seen: set[str] = set()
    for code, item in zip(codes, items, strict=True):
        measure = catalogue.get(code)
        if measure is None:
            errors.append(_("%(code)s is not a known measure code.") % {"code": repr(code[:40])})
            continue
        if code in answered:
            errors.append(f"{measure.name}: already answered in the questionnaire; correct that value instead.")
            continue
        if code in seen:
            errors.append(_("%(measure)s: given twice.") % {"measure": shown(measure.name)})
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
        required = {
            code: name
            for code, name in session.step.measures.values_list("code", "name")
            if asked_of(code, session.patient.sex)
        }
        missing = [shown(required[code]) for code in sorted(set(required) - seen - answered)]
        if missing:
            errors.append(
                _("This visit records %(measures)s: enter the results, or say why they were not recorded.")
                % {"measures": ", ".join(missing)}
            )
    if errors:
        raise ValidationError({"outcomes": errors})
    return cleaned


def _clean_adverse_events(events: Iterable[Mapping], *, on: dt.date, today: dt.date, session: Session) -> list[dict]:
    cleaned, errors = [], []
    for index, event in enumerate(events, start=1):
        try:
            cleaned.append(clean_event(event, default_onset=on, born=session.patient.date_of_birth, today=today))
        except ValidationError as error:
            errors.extend(
                _("Event %(index)s: %(field)s: %(message)s") % {"index": index, "field": field, "message": message}
                for field, messages in error.message_dict.items()
                for message in messages
            )
    if errors:
        raise ValidationError({"adverse_events": errors})
    return cleaned


def visit_day(session: Session, performed_on: dt.date | None, *, now: dt.datetime) -> dt.date:
    """The date the session's values were observed (SPEC §10): a booked
    session's clinic-local start date; an unbooked (home) one's
    ``performed_on``, by default the clinic's today, never in the future and
    never before the enrolment started."""
    tz = session.clinic.tz
    if session.start is not None:
        booked_day = session.start.astimezone(tz).date()
        if performed_on is not None and performed_on != booked_day:
            raise ValidationError(
                {"performed_on": [_("A booked session was performed on its booked day, %(day)s.") % {"day": booked_day.isoformat()}]}
            )
        return booked_day
    today = now.astimezone(tz).date()
    if performed_on is None:
        return today
    if performed_on > today:
        raise ValidationError({
                "performed_on": [
                    _("%(day)s is in the future (today is %(today)s).")
                    % {"day": performed_on.isoformat(), "today": today.isoformat()}
                ]
            })
    if performed_on < session.enrolment.start_date:
        raise ValidationError(
            {
                "performed_on": [
                    _("%(day)s is before the enrolment started (%(start)s).")
                    % {"day": performed_on.isoformat(), "start": session.enrolment.start_date.isoformat()}
                ]
            }
        )
    return performed_on


def _clean_lot(session: Session, lot: Lot | None, *, on: dt.date) -> Lot | None:
    """A treatment session names the lot it used (SPEC §12); any session that
    names one must name a usable one."""
    if lot is None:
        if session.step.kind == StepKind.TREATMENT:
            raise ValidationError({"lot": [_("A treatment session must name the product lot used.")]})
        return None
    lot = Lot.objects.select_related("product").get(pk=lot.pk)
    check_lot_for(lot, clinic_id=session.clinic_id, on=on)
    return lot


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
    lot: Lot | None = None,
    adverse_events: Iterable[Mapping] = (),
    performed_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Session:
    now = now_or(now)
    session = changing(session, by=by, role=Role.CLINICIAN)
    if refusal := session.completion_refusal(now):
        raise Conflict(refusal)
    if product_source and product_source not in ProductSource.values:
        raise ValidationError({"product_source": [_("Choose one of %(choices)s.") % {"choices": ", ".join(ProductSource.values)}]})
    if product_form and product_form not in ProductForm.values:
        raise ValidationError({"product_form": [_("Choose one of %(choices)s.") % {"choices": ", ".join(ProductForm.values)}]})
    not_done_reason = (not_done_reason or "").strip()
    check_text(
        Session,
        {
            "notes": notes or "",
            "not_done_reason": not_done_reason,
            "product_lot": product_lot or "",
            "product_concentration": product_concentration or "",
        },
    )
    observed_on = visit_day(session, performed_on, now=now)
    today = now.astimezone(session.clinic.tz).date()
    cleaned = _clean_outcomes(session, outcomes, not_done_reason, on=observed_on)
    lot = _clean_lot(session, lot, on=observed_on)
    events = _clean_adverse_events(adverse_events, on=observed_on, today=today, session=session)

    session.status = SessionStatus.COMPLETED
    session.completed_at = now
    session.completed_by = by
    session.notes = notes or ""
    session.not_done_reason = not_done_reason
    session.lot = lot
    session.product_lot = lot.lot_number if lot else product_lot or ""
    session.product_source = (lot.product.source_tissue if lot else product_source) or ""
    session.product_form = product_form or ""
    session.product_concentration = product_concentration or ""
    session._history_user = by
    session.save()
    # The questionnaire's values take the visit's date as it turned out (the
    # booking may have moved since they were answered), keeping their history.
    for earlier in session.outcomes.exclude(observed_on=observed_on):
        earlier.observed_on = observed_on
        earlier._history_user = by
        earlier._change_reason = "dated by the visit"
        earlier.save(update_fields=["observed_on"])
    for measure, value, answers in cleaned:
        measurement = OutcomeMeasurement(
            session=session,
            measure=measure,
            value=value,
            items=answers,
            observed_on=observed_on,
            recorded_by=by,
            recorded_at=now,
            source=ValueSource.STAFF,
        )
        measurement._history_user = by
        measurement.save()
    for event in events:
        adverse = AdverseEvent(
            enrolment=session.enrolment, session=session, reported_by=by, reported_at=now, **event
        )
        adverse._history_user = by
        adverse.save()
    # A decision visit makes its proposal (SPEC §19); nothing is re-planned until a clinician decides.
    propose(session, now=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    finish_if_done(session.enrolment)
    session.refresh_from_db()
    return session


# The history table's change-reason column holds 100 characters.
REASON_MAX = 100


@workflow
def correct_outcome(
    *,
    measurement: OutcomeMeasurement,
    value=None,
    items=None,
    reason: str,
    by: User,
    now: dt.datetime | None = None,
) -> OutcomeMeasurement:
    """Change a recorded value, saying why (SPEC §10): a value typed in (the
    items, if any, are cleared), or a scored instrument's items, scored as of
    the visit date. The history table keeps every version with who, when and
    the reason; nothing clinical is ever deleted."""
    now = now_or(now)
    require_role(by, Role.CLINICIAN, clinic_id=measurement.session.clinic_id, what="measurement")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the value is corrected.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %(count)s characters.") % {"count": REASON_MAX}]})
    try:
        single_line(reason)  # kept in the history's change-reason column, one line
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    measurement = (
        OutcomeMeasurement.objects.select_for_update(of=("self",))
        .select_related("measure", "session__clinic", "session__patient")
        .get(pk=measurement.pk)
    )
    session = measurement.session
    try:
        measurement.value, measurement.items = measured_value(
            measurement.measure, value, items, born=session.patient.date_of_birth, on=measurement.observed_on
        )
    except ValidationError as error:
        raise ValidationError({"value" if items is None else "items": error.messages}) from None
    measurement.recorded_by = by
    measurement.recorded_at = now
    measurement._history_user = by
    measurement._change_reason = reason
    measurement.save(update_fields=["value", "items", "recorded_by", "recorded_at"])
    values_corrected(session, code=measurement.measure.code, by=by, now=now)
    return measurement
