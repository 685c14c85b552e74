"""Workflows over enrolments and sessions (SPEC §3, §4).

Each public function is keyword-only, runs in one transaction, checks the
state transition it makes, re-runs the schedule cascade and keeps the
reminder outbox in step, all before it commits. Callers get Django's
ValidationError (400), PermissionDenied (403) or config.exceptions.Conflict
(409).
"""

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from clinics.models import Role, Room, User
from config.exceptions import Conflict, is_contention
from patients.models import Enrolment, EnrolmentStatus, Patient
from protocols import instruments
from protocols.models import OutcomeMeasure, Protocol, ValueType

from . import schedule
from .models import (
    OCCUPYING,
    AdverseEvent,
    Deviation,
    DeviationKind,
    OutcomeMeasurement,
    ProductForm,
    ProductSource,
    Relatedness,
    Session,
    SessionStatus,
    Severity,
)
from .reminders import add_missed_reminder, sync_reminders

# How far from today an enrolment may start (issue 3: "more than two years
# away are 400"), in either direction, so back-entering a course is possible.
MAX_START_DISTANCE = dt.timedelta(days=2 * 365 + 1)


def workflow(function):
    """One transaction per workflow. Two overlapping changes checking the
    exclusion constraints at the same moment can each wait for the other;
    PostgreSQL then aborts one of them (a deadlock). That one lost the race:
    it is a Conflict (409), never a server error, and changed nothing."""
    atomic = transaction.atomic(function)

    @functools.wraps(function)
    def run(*args, **kwargs):
        try:
            return atomic(*args, **kwargs)
        except OperationalError as error:
            if is_contention(error):
                raise Conflict("Another change to the same time was made at the same moment; reload and try again.") from None
            raise

    return run


def require_role(user: User, role: str) -> None:
    if not user.has_role(role):
        raise PermissionDenied(f"This needs the {role} role or higher.")


def _same_clinic(user: User, clinic_id: int, *, what: str) -> None:
    if user.clinic_id != clinic_id:
        # Never reveal another clinic's objects: callers have already scoped
        # lookups, so this guards service calls made from elsewhere.
        raise ValidationError({what: [f"Unknown {what}."]})


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _changing(session: Session, *, by: User, role: str) -> Session:
    """The checks every session workflow starts with: the caller's role and
    clinic, then the locked, fresh row of a session of an active enrolment."""
    require_role(by, role)
    _same_clinic(by, session.clinic_id, what="session")
    session = _locked(session)
    _require_active(session)
    return session


def _locked(session: Session) -> Session:
    """Lock the enrolment, then re-read the session, so that two changes to
    one enrolment (and its cascade) run one after the other."""
    Enrolment.objects.select_for_update().filter(pk=session.enrolment_id).first()
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("clinic", "enrolment", "patient", "step", "step__protocol")
        .get(pk=session.pk)
    )


def _rule(step) -> schedule.StepRule:
    return schedule.StepRule(
        repeat=step.repeat,
        interval_days=step.interval_days,
        anchor=step.anchor,
        window_before_days=step.window_before_days,
        window_after_days=step.window_after_days,
    )


def _state(session: Session) -> schedule.SessionState:
    tz = session.clinic.tz
    return schedule.SessionState(
        sequence=session.sequence,
        occurrence=session.occurrence,
        rule=_rule(session.step),
        status=session.status,
        target_date=session.target_date,
        booked_date=session.start.astimezone(tz).date() if session.start else None,
        completed_date=session.completed_at.astimezone(tz).date() if session.completed_at else None,
    )


def recascade(enrolment: Enrolment, *, now: dt.datetime, touched: Iterable[int] = ()) -> list[Session]:
    """Recompute every movable session's dates and re-plan the reminders of
    each session that moved, plus those in `touched` (the changed ones)."""
    sessions = list(
        Session.objects.filter(enrolment=enrolment)
        .select_related("clinic", "enrolment", "patient", "step")
        .order_by("sequence")
    )
    by_sequence = {s.sequence: s for s in sessions}
    try:
        results = schedule.cascade(enrolment.start_date, [_state(s) for s in sessions])
    except OverflowError:
        raise ValidationError({"start": ["This date moves later sessions past the year 9999."]}) from None
    changed: list[Session] = []
    for result in results:
        session = by_sequence[result.sequence]
        new = (result.dates.target_date, result.dates.window_start, result.dates.window_end, result.out_of_window)
        old = (session.target_date, session.window_start, session.window_end, session.out_of_window)
        if new != old:
            session.target_date, session.window_start, session.window_end, session.out_of_window = new
            changed.append(session)
    if changed:
        # With a history row per moved session, as a save would leave (the user is the request's).
        bulk_update_with_history(changed, Session, ["target_date", "window_start", "window_end", "out_of_window"])
    resync = {s.pk for s in changed} | set(touched)
    for session in sessions:
        if session.pk in resync:
            sync_reminders(session, now=now)
    return changed


def _finish_if_done(enrolment: Enrolment) -> None:
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return
    open_left = Session.objects.filter(
        enrolment=enrolment, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
    ).exists()
    if not open_left:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.save(update_fields=["status"])


def _require_active(session: Session) -> None:
    if session.enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(f"The enrolment is {session.enrolment.status}; its sessions cannot change.")


# --- Enrolment ---------------------------------------------------------------------------------


@workflow
def enrol_patient(
    *,
    patient: Patient,
    protocol: Protocol,
    start_date: dt.date,
    by: User,
    clinician: User | None = None,
    area: str = "",
    now: dt.datetime | None = None,
) -> Enrolment:
    now = _now(now)
    require_role(by, Role.RECEPTION)
    _same_clinic(by, patient.clinic_id, what="patient")
    _same_clinic(by, protocol.clinic_id, what="protocol")
    if not protocol.is_current or not protocol.active:
        raise ValidationError({"protocol": ["Enrol only in the current version of an active protocol."]})
    if clinician is not None and (clinician.clinic_id != by.clinic_id or not clinician.is_practitioner):
        raise ValidationError({"clinician": ["Choose a clinician or manager of this clinic."]})
    today = now.astimezone(patient.clinic.tz).date()
    if abs(start_date - today) > MAX_START_DISTANCE:
        raise ValidationError({"start_date": ["The start date must lie within two years of today."]})
    steps = list(protocol.steps.order_by("position"))
    if not steps:
        raise ValidationError({"protocol": ["This protocol has no steps."]})
    try:
        planned = schedule.initial_schedule(start_date, [_rule(s) for s in steps])
    except OverflowError:
        raise ValidationError({"start_date": ["This start date puts sessions past the year 9999."]}) from None

    enrolment = Enrolment.objects.create(
        clinic=patient.clinic,
        patient=patient,
        protocol=protocol,
        start_date=start_date,
        clinician=clinician,
        area=area,
        created_by=by,
    )
    bulk_create_with_history(
        [Session(
            clinic=patient.clinic,
            enrolment=enrolment,
            patient=patient,
            step=steps[p.step_index],
            sequence=p.sequence,
            occurrence=p.occurrence,
            target_date=p.dates.target_date,
            window_start=p.dates.window_start,
            window_end=p.dates.window_end,
        )
        for p in planned],
        Session,
        default_user=by,
        default_date=now,
    )
    for session in enrolment.sessions.select_related("clinic", "enrolment", "patient", "step"):
        sync_reminders(session, now=now)
    return enrolment


@workflow
def withdraw_enrolment(*, enrolment: Enrolment, by: User, reason: str = "", now: dt.datetime | None = None) -> Enrolment:
    now = _now(now)
    require_role(by, Role.CLINICIAN)
    _same_clinic(by, enrolment.clinic_id, what="enrolment")
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(f"The enrolment is already {enrolment.status}.")
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_reason = reason
    enrolment.withdrawn_at = now
    enrolment.save(update_fields=["status", "withdrawn_reason", "withdrawn_at"])
    # Planned and booked sessions are given up; their slots are freed and
    # their pending reminders voided. Completed ones stay as history.
    open_sessions = list(
        enrolment.sessions.filter(status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)).select_related(
            "clinic", "enrolment", "patient", "step"
        )
    )
    for session in open_sessions:
        session.status = SessionStatus.CANCELLED
        session._history_user = by
        session.save(update_fields=["status"])
        sync_reminders(session, now=now)
    return enrolment


# --- Booking -------------------------------------------------------------------------------------


def _check_slot(session: Session, *, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    clinic = session.clinic
    tz = clinic.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if start < now:
        raise ValidationError({"start": ["This time is in the past."]})
    if clinic.closures.filter(date=local_start.date()).exists():
        raise ValidationError({"start": [f"The clinic is closed on {local_start.date():%Y-%m-%d}."]})
    fits = local_start.date() == local_end.date() and any(
        hours.opens <= local_start.time() and local_end.time() <= hours.closes
        for hours in clinic.opening_hours.filter(weekday=local_start.weekday())
    )
    if not fits:
        raise ValidationError(
            {"start": [f"{local_start:%a %Y-%m-%d %H:%M}–{local_end:%H:%M} is outside the clinic's opening hours."]}
        )


def _check_free(session: Session, *, start: dt.datetime, end: dt.datetime, practitioner: User, room: Room | None):
    """The friendly check: names what is taken. The exclusion constraints
    (PostgreSQL) or the IMMEDIATE transaction (SQLite) make it race-free."""
    clashing = Session.objects.filter(status__in=OCCUPYING, start__lt=end, end__gt=start).exclude(pk=session.pk)
    if clashing.filter(practitioner=practitioner).exists():
        raise Conflict(f"{practitioner.display_name} is already booked at this time.", field="practitioner")
    if room is not None and clashing.filter(room=room).exists():
        raise Conflict(f"Room {room.name} is already booked at this time.", field="room")
    if clashing.filter(patient_id=session.patient_id).exists():
        raise Conflict("The patient already has a session at this time.", field="start")


_CONSTRAINT_FIELDS = {
    "session_no_overlap_practitioner": ("practitioner", "The practitioner is already booked at this time."),
    "session_no_overlap_room": ("room", "The room is already booked at this time."),
    "session_no_overlap_patient": ("start", "The patient already has a session at this time."),
}


def _conflict_from(error: IntegrityError) -> Conflict:
    text = str(error)
    for name, (field, message) in _CONSTRAINT_FIELDS.items():
        if name in text:
            return Conflict(message, field=field)
    return Conflict("This slot was just taken by another booking.", field="start")


@workflow
def book_session(
    *,
    session: Session,
    start: dt.datetime,
    practitioner: User,
    room: Room | None = None,
    override_reason: str = "",
    by: User,
    now: dt.datetime | None = None,
) -> Session:
    """Book a planned session, or rebook a booked one, into [start, end)."""
    now = _now(now)
    session = _changing(session, by=by, role=Role.RECEPTION)
    if session.step.kind == "home":
        raise Conflict("Home applications are not booked.")
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
        raise Conflict(f"A {session.status} session cannot be booked.")
    if start.tzinfo is None:
        raise ValidationError({"start": ["A time zone is required."]})
    if practitioner.clinic_id != session.clinic_id or not practitioner.is_practitioner:
        raise ValidationError({"practitioner": ["Choose a clinician or manager of this clinic."]})
    if room is not None and (room.clinic_id != session.clinic_id or not room.active):
        raise ValidationError({"room": ["Choose an active room of this clinic."]})
    override_reason = (override_reason or "").strip()
    try:
        # Python adds to an aware time in one zone on the wall clock; in UTC
        # the end is `duration` real minutes later, even across a DST change.
        start = start.astimezone(dt.UTC)
        end = start + dt.timedelta(minutes=session.step.duration_minutes)
        # Both ends must exist on the clinic's clock too: the last hours of
        # year 9999 east of UTC (or the first of year 1 west of it) do not.
        start.astimezone(session.clinic.tz), end.astimezone(session.clinic.tz)
    except OverflowError:
        raise ValidationError({"start": ["This time is out of range."]}) from None
    _check_slot(session, start=start, end=end, now=now)

    local_date = start.astimezone(session.clinic.tz).date()
    in_window = session.window_start <= local_date <= session.window_end
    if not in_window:
        if not override_reason:
            raise ValidationError(
                {
                    "start": [
                        f"{local_date:%Y-%m-%d} is outside the window {session.window_start:%Y-%m-%d} to "
                        f"{session.window_end:%Y-%m-%d}; give an override_reason to book it anyway."
                    ]
                }
            )
        if not by.has_role(Role.CLINICIAN):
            raise PermissionDenied("Only a clinician or manager may book outside the window.")
    _check_free(session, start=start, end=end, practitioner=practitioner, room=room)

    session.status = SessionStatus.BOOKED
    session.start, session.end = start, end
    session.practitioner, session.room = practitioner, room
    session.out_of_window = not in_window
    session._history_user = by
    _save_booking(session)
    if not in_window:
        Deviation.objects.create(session=session, kind=DeviationKind.OUT_OF_WINDOW, reason=override_reason, by=by, at=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    session.refresh_from_db()
    return session


def _save_booking(session: Session) -> None:
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                session.save(update_fields=["status", "start", "end", "practitioner", "room", "out_of_window"])
            return
        except IntegrityError as error:
            raise _conflict_from(error) from None
        except OperationalError as error:
            # Two overlapping bookings deadlocked on the exclusion check and
            # this one was aborted. Its savepoint is gone, so the rival goes
            # on; the retry waits for the rival to commit and then meets the
            # constraint (or finds the time free if the rival rolled back).
            if not is_contention(error) or attempt == 2:
                raise


def _clear_booking(session: Session) -> None:
    session.status = SessionStatus.PLANNED
    session.start = session.end = None
    session.practitioner = session.room = None
    session.out_of_window = False


@workflow
def cancel_booking(*, session: Session, by: User, now: dt.datetime | None = None) -> Session:
    now = _now(now)
    session = _changing(session, by=by, role=Role.RECEPTION)
    if session.status != SessionStatus.BOOKED:
        raise Conflict(f"Only a booked session can be cancelled; this one is {session.status}.")
    _clear_booking(session)
    session._history_user = by
    session.save(update_fields=["status", "start", "end", "practitioner", "room", "out_of_window"])
    recascade(session.enrolment, now=now, touched=[session.pk])
    session.refresh_from_db()
    return session


@workflow
def mark_no_show(*, session: Session, by: User, reason: str = "", now: dt.datetime | None = None) -> Session:
    now = _now(now)
    session = _changing(session, by=by, role=Role.RECEPTION)
    if session.status != SessionStatus.BOOKED:
        raise Conflict(f"Only a booked session can be a no-show; this one is {session.status}.")
    if now < session.start:
        raise Conflict("A session can be marked a no-show only from its booked start on.")
    _clear_booking(session)
    session.missed_count += 1
    session._history_user = by
    session.save(update_fields=["status", "start", "end", "practitioner", "room", "out_of_window", "missed_count"])
    Deviation.objects.create(session=session, kind=DeviationKind.NO_SHOW, reason=reason or "", by=by, at=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    add_missed_reminder(session, now=now)
    session.refresh_from_db()
    return session


@workflow
def skip_session(*, session: Session, reason: str, by: User, now: dt.datetime | None = None) -> Session:
    now = _now(now)
    reason = (reason or "").strip()
    session = _changing(session, by=by, role=Role.CLINICIAN)
    if not reason:
        raise ValidationError({"reason": ["Say why the session is skipped."]})
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
        raise Conflict(f"A {session.status} session cannot be skipped.")
    # A skipped session has no booking; its target date is what it passes on.
    _clear_booking(session)
    session.status = SessionStatus.SKIPPED
    session.skip_reason = reason
    session._history_user = by
    session.save(update_fields=["status", "start", "end", "practitioner", "room", "out_of_window", "skip_reason"])
    Deviation.objects.create(session=session, kind=DeviationKind.SKIPPED, reason=reason, by=by, at=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    _finish_if_done(session.enrolment)
    session.refresh_from_db()
    return session


# --- Completion and outcomes ---------------------------------------------------------------------


def clean_value(measure: OutcomeMeasure, raw) -> Decimal:
    """A finite number of the measure's type inside its range, or a
    ValidationError naming the measure and the rule."""
    label = measure.code
    if isinstance(raw, bool) or raw is None:
        raise ValidationError(f"{label}: a number is required.")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValidationError(f"{label}: the value must be a finite number.")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}: {str(raw)[:40]!r} is not a number.") from None
    if not value.is_finite():
        raise ValidationError(f"{label}: the value must be a finite number.")
    if value < measure.min_value or value > measure.max_value:
        raise ValidationError(
            f"{label}: {value} is outside {measure.min_value.normalize():f}–{measure.max_value.normalize():f}"
            f"{' ' + measure.unit if measure.unit else ''}."
        )
    if measure.value_type == ValueType.INTEGER and value != value.to_integral_value():
        raise ValidationError(f"{label}: a whole number is required.")
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError(f"{label}: at most 4 decimal places.")
    return value


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` (born on 29 February: a year older from 1 March)."""
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def _as_json(value):
    """Items as plain JSON for the JSONField (a service caller may pass Decimals or tuples)."""
    if isinstance(value, Mapping):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def measured_value(measure: OutcomeMeasure, value, items, *, patient: Patient, on: dt.date):
    """The (value, items) to store: a value typed in (items None), or a scored
    instrument's value computed from its items (clinical/instruments.md) on the
    session date ``on``. Either is range-checked by clean_value; a
    ValidationError names the measure and the rule."""
    code = measure.code
    if items is None:
        return clean_value(measure, value), None
    if value is not None:
        raise ValidationError(f"{code}: give value or items, not both.")
    if code not in instruments.SCORED_CODES:
        raise ValidationError(
            f"{code}: only {', '.join(instruments.SCORED_CODES)} are computed from items; give a value."
        )
    # EASI weights the head and neck more for children aged 0-7.
    age = age_on(patient.date_of_birth, on) if code == "easi" else None
    try:
        score = instruments.score_items(code, items, age_years=age)
    except ValueError as error:
        raise ValidationError(f"{code}: {str(error)[:300]}") from None
    return clean_value(measure, score), _as_json(items)


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
                measure, item.get("value"), item.get("items"), patient=session.patient, on=on
            )
            cleaned.append((measure, value, answers))
        except ValidationError as error:
            errors.extend(error.messages)
    if not errors and not not_done_reason:
        required = set(session.step.measures.values_list("code", flat=True))
        missing = sorted(required - seen)
        if missing:
            errors.append(
                f"This step records {', '.join(missing)}; give them, or a not_done_reason for leaving them out."
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
    now = _now(now)
    session = _changing(session, by=by, role=Role.CLINICIAN)
    is_home = session.step.kind == "home"
    if session.status == SessionStatus.BOOKED:
        if now < session.start:
            raise Conflict("A booked session can be completed only from its booked start on.")
    elif session.status == SessionStatus.PLANNED and is_home:
        if now.astimezone(session.clinic.tz).date() < session.target_date:
            raise Conflict("A home application can be completed only from its target date on.")
    elif session.status == SessionStatus.PLANNED:
        raise Conflict("Book the session before completing it.")
    else:
        raise Conflict(f"A {session.status} session cannot be completed.")
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
    _finish_if_done(session.enrolment)
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
    now = _now(now)
    require_role(by, Role.CLINICIAN)
    _same_clinic(by, measurement.session.clinic_id, what="measurement")
    measurement = (
        OutcomeMeasurement.objects.select_for_update(of=("self",))
        .select_related("measure", "session__clinic", "session__patient")
        .get(pk=measurement.pk)
    )
    session = measurement.session
    on = (session.completed_at or now).astimezone(session.clinic.tz).date()
    try:
        measurement.value, measurement.items = measured_value(
            measurement.measure, value, items, patient=session.patient, on=on
        )
    except ValidationError as error:
        raise ValidationError({"value" if items is None else "items": error.messages}) from None
    measurement.recorded_by = by
    measurement.recorded_at = now
    measurement._history_user = by
    measurement.save(update_fields=["value", "items", "recorded_by", "recorded_at"])
    return measurement
