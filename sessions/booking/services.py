"""Booking workflows (SPEC §3, §4): book or rebook, cancel a booking, a
no-show, a skip. Each runs in one transaction, checks the transition on the
locked row, re-runs the cascade and keeps the reminder outbox in step.
Callers get ValidationError (400), PermissionDenied (403) or Conflict (409)."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinics.models import Absence, Role, Room, User
from core.exceptions import Conflict, is_contention
from core.services import now as now_or
from core.services import workflow
from core.text import check_text
from protocols.library import shown
from sessions.models import (
    OCCUPYING,
    BookingChange,
    BookingChangeKind,
    ChangeReason,
    Deviation,
    DeviationKind,
    Session,
    SessionStatus,
)
from sessions.reminders.notices import plan_booking_notice, plan_cancel_notice
from sessions.reminders.plan import add_missed_reminder
from sessions.workflows import changing, finish_if_done, locked, recascade


def _check_slot(session: Session, *, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    clinic = session.clinic
    tz = clinic.tz
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if start < now:
        raise ValidationError({"start": [_("This time is in the past.")]})
    if clinic.closures.filter(date=local_start.date()).exists():
        raise ValidationError({"start": [_("The clinic is closed on %(day)s.") % {"day": f"{local_start.date():%Y-%m-%d}"}]})
    fits = local_start.date() == local_end.date() and any(
        hours.opens <= local_start.time() and local_end.time() <= hours.closes
        for hours in clinic.opening_hours.filter(weekday=local_start.weekday())
    )
    if not fits:
        raise ValidationError(
            {
                "start": [
                    _("%(start)s–%(end)s is outside the clinic's opening hours.")
                    % {"start": date_format(local_start, "D Y-m-d H:i"), "end": f"{local_end:%H:%M}"}
                ]
            }
        )


def _check_present(practitioner: User, day: dt.date) -> None:
    absence = Absence.objects.filter(practitioner=practitioner, first_day__lte=day, last_day__gte=day).first()
    if absence is not None:
        dates = {"name": practitioner.display_name, "first": f"{absence.first_day:%Y-%m-%d}",
                 "last": f"{absence.last_day:%Y-%m-%d}", "reason": absence.reason}
        if absence.reason:
            message = _("%(name)s is absent from %(first)s to %(last)s (%(reason)s).") % dates
        else:
            message = _("%(name)s is absent from %(first)s to %(last)s.") % dates
        raise ValidationError({"practitioner": [message]})


def _check_free(session: Session, *, start: dt.datetime, end: dt.datetime, practitioner: User, room: Room | None):
    """The friendly check: names what is taken. The exclusion constraints
    make it race-free (two concurrent bookings never both commit)."""
    clashing = Session.objects.filter(status__in=OCCUPYING, start__lt=end, end__gt=start).exclude(pk=session.pk)
    if clashing.filter(practitioner=practitioner).exists():
        raise Conflict(
            _("%(name)s is already booked at this time.") % {"name": practitioner.display_name}, field="practitioner"
        )
    if room is not None and clashing.filter(room=room).exists():
        raise Conflict(_("Room %(room)s is already booked at this time.") % {"room": room.name}, field="room")
    if clashing.filter(patient_id=session.patient_id).exists():
        raise Conflict(_("The patient already has a session at this time."), field="start")


_CONSTRAINT_FIELDS = {
    "session_no_overlap_practitioner": ("practitioner", gettext_lazy("The practitioner is already booked at this time.")),
    "session_no_overlap_room": ("room", gettext_lazy("The room is already booked at this time.")),
    "session_no_overlap_patient": ("start", gettext_lazy("The patient already has a session at this time.")),
}


def _conflict_from(error: IntegrityError) -> Conflict:
    text = str(error)
    for name, (field, message) in _CONSTRAINT_FIELDS.items():
        if name in text:
            return Conflict(str(message), field=field)
    return Conflict(_("This slot was just taken by another booking."), field="start")


@workflow
def book_session(
    *,
    session: Session,
    start: dt.datetime,
    practitioner: User,
    room: Room | None = None,
    override_reason: str = "",
    change_reason: str = "",
    change_note: str = "",
    later_bookings: str = "",
    by: User,
    now: dt.datetime | None = None,
) -> Session:
    """Book a planned session, or rebook a booked one, into [start, end).
    A rebooking keeps why the old time was given up (`change_reason`, one
    of ChangeReason; "other" when none is given).

    When the new date pushes a later booking of the enrolment out of its
    re-computed window, the caller must say what becomes of it
    (`later_bookings`): "release" (back to planned, the patient told) or
    "keep" (kept, logged as a deviation); without it the move is a Conflict
    naming each such booking, and nothing changes."""
    now = now_or(now)
    if later_bookings not in LATER_BOOKINGS:
        raise ValidationError({"later_bookings": [_('Say "release" or "keep".')]})
    session = changing(session, by=by, role=Role.RECEPTION)
    return book_locked(
        session, start=start, practitioner=practitioner, room=room, override_reason=override_reason,
        change_reason=change_reason, change_note=change_note, later_bookings=later_bookings, by=by, now=now,
    )


def book_locked(
    session: Session,
    *,
    start: dt.datetime,
    practitioner: User,
    room: Room | None = None,
    override_reason: str = "",
    change_reason: str = "",
    change_note: str = "",
    later_bookings: str = "",
    by: User | None,
    now: dt.datetime,
) -> Session:
    """book_session on a session the caller has locked, inside its
    transaction. `by=None` is the patient's own booking from their link
    (web/self_booking.py): it is marked `booked_by_patient`, and may
    never leave the window."""
    if refusal := session.booking_refusal():
        raise Conflict(refusal)
    change_reason = _change_reason(change_reason, "change_reason")
    check_text(BookingChange, {"note": change_note}, names={"note": "change_note"})
    check_text(Deviation, {"reason": override_reason}, names={"reason": "override_reason"})
    if start.tzinfo is None:
        raise ValidationError({"start": [_("A time zone is required.")]})
    if practitioner.clinic_id != session.clinic_id or not practitioner.is_practitioner:
        raise ValidationError({"practitioner": [_("Choose a clinician or manager of this clinic.")]})
    if room is not None and (room.clinic_id != session.clinic_id or not room.active):
        raise ValidationError({"room": [_("Choose an active room of this clinic.")]})
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
        raise ValidationError({"start": [_("This time is out of range.")]}) from None
    _check_slot(session, start=start, end=end, now=now)
    _check_present(practitioner, start.astimezone(session.clinic.tz).date())

    local_date = start.astimezone(session.clinic.tz).date()
    in_window = session.window_start <= local_date <= session.window_end
    if not in_window:
        if not override_reason:
            raise ValidationError(
                {
                    "start": [
                        _(
                            "%(day)s is outside the window, %(first)s to %(last)s. "
                            "A clinician may book it anyway with a reason."
                        )
                        % {
                            "day": date_format(local_date, "D d M Y"),
                            "first": date_format(session.window_start, "D d M"),
                            "last": date_format(session.window_end, "D d M Y"),
                        }
                    ]
                }
            )
        if by is None or not by.has_role(Role.CLINICIAN):
            raise PermissionDenied(_("Only a clinician or manager may book outside the window."))
    _check_free(session, start=start, end=end, practitioner=practitioner, room=room)

    previous_start = session.start if session.status == SessionStatus.BOOKED else None
    in_window_before = _booked_in_window_after(session)
    session.status = SessionStatus.BOOKED
    session.start, session.end = start, end
    session.practitioner, session.room = practitioner, room
    session.out_of_window = not in_window
    # A new time is a new question to the patient (SPEC §13).
    session.patient_confirmed_at = session.rebook_requested_at = None
    session.booked_by_patient = by is None
    session._history_user = by
    _save_booking(session)
    plan_booking_notice(session, previous_start=previous_start, now=now)
    if not in_window:
        Deviation.objects.create(session=session, kind=DeviationKind.OUT_OF_WINDOW, reason=override_reason, by=by, at=now)
    # A patient's move is in the session's history (booked_by_patient), not
    # among the staff's booking changes, which name who made them.
    if previous_start is not None and previous_start != start and by is not None:
        BookingChange.objects.create(
            clinic=session.clinic, session=session, kind=BookingChangeKind.REBOOKED, reason=change_reason,
            note=change_note, previous_start=previous_start, by=by, at=now,
        )
    pushed_out = _pushed_out(session, before=in_window_before, now=now)
    if pushed_out:
        _settle_later_bookings(session, pushed_out, choice=later_bookings, by=by, now=now)
    session.refresh_from_db()
    return session


LATER_BOOKINGS = ("", "release", "keep")


def _booked_in_window_after(session: Session) -> set[int]:
    return set(
        Session.objects.filter(
            enrolment_id=session.enrolment_id, sequence__gt=session.sequence,
            status=SessionStatus.BOOKED, out_of_window=False,
        ).values_list("pk", flat=True)
    )


def _pushed_out(session: Session, *, before: set[int], now: dt.datetime) -> list[Session]:
    """Re-run the cascade; the later bookings that were inside their windows
    before this change and are outside them now."""
    recascade(session.enrolment, now=now, touched=[session.pk])
    if not before:
        return []
    return list(
        Session.objects.filter(pk__in=before, out_of_window=True)
        .select_related("clinic", "enrolment", "patient", "step", "step__protocol")
        .order_by("sequence")
    )


def later_booking_row(later: Session) -> dict:
    local = later.start.astimezone(later.clinic.tz)
    return {
        "id": later.pk,
        "step": shown(later.step.name),
        "sequence": later.sequence,
        "start": local.isoformat(),
        "date": local.date().isoformat(),
        "window_start": later.window_start.isoformat(),
        "window_end": later.window_end.isoformat(),
    }


def _settle_later_bookings(session: Session, pushed_out: list[Session], *, choice: str, by: User, now: dt.datetime):
    moved_to = f"{session.step.name} #{session.sequence} moved to {session.start.astimezone(session.clinic.tz):%Y-%m-%d}"
    if not choice:
        names = "; ".join(
            _("%(step)s #%(sequence)s on %(day)s (window now %(first)s to %(last)s)")
            % {
                "step": shown(s.step.name), "sequence": s.sequence, "day": f"{s.start.astimezone(s.clinic.tz):%Y-%m-%d}",
                "first": f"{s.window_start:%Y-%m-%d}", "last": f"{s.window_end:%Y-%m-%d}",
            }
            for s in pushed_out
        )
        raise Conflict(
            _(
                "This move puts later bookings outside their windows: %(sessions)s. "
                'Say whether to release them ("release") or keep them as deviations ("keep").'
            )
            % {"sessions": names},
            field="later_bookings",
            extra={"later_sessions": [later_booking_row(s) for s in pushed_out]},
        )
    for later in pushed_out:
        if choice == "keep":
            Deviation.objects.create(
                session=later, kind=DeviationKind.OUT_OF_WINDOW, reason=f"Kept when {moved_to}.", by=by, at=now
            )
            continue
        later = locked(later)
        if later.status != SessionStatus.BOOKED:
            continue
        BookingChange.objects.create(
            clinic=later.clinic, session=later, kind=BookingChangeKind.CANCELLED, reason=ChangeReason.CLINIC,
            note=f"Released when {moved_to}.", previous_start=later.start, by=by, at=now,
        )
        give_up_booking(later, by=by, now=now)


BOOKING_FIELDS = ("status", "start", "end", "practitioner", "room", "out_of_window", "booked_by_patient")


def _save_booking(session: Session) -> None:
    for attempt in (1, 2, 3):
        try:
            with transaction.atomic():
                session.save(update_fields=[*BOOKING_FIELDS, "patient_confirmed_at", "rebook_requested_at"])
            return
        except IntegrityError as error:
            raise _conflict_from(error) from None
        except OperationalError as error:
            # Two overlapping bookings deadlocked on the exclusion check and
            # this one was aborted. Its savepoint is gone, so the rival goes
            # on; the retry waits for the rival to commit and then meets the
            # constraint (or finds the time free if the rival rolled back).
            # On a loaded machine the retry itself was seen to deadlock once
            # more (the rival still writing its cascade): a third try names
            # the practitioner instead of a generic conflict.
            if not is_contention(error) or attempt == 3:
                raise


def _change_reason(reason: str, field: str = "reason") -> str:
    if not reason:
        return ChangeReason.OTHER
    if reason not in ChangeReason.values:
        choices = ", ".join(f"{str(label).lower()} ({value})" for value, label in ChangeReason.choices)
        raise ValidationError({field: [_("Choose why the booking is given up: %(choices)s.") % {"choices": choices}]})
    return reason


def _clear_booking(session: Session) -> None:
    session.status = SessionStatus.PLANNED
    session.start = session.end = None
    session.practitioner = session.room = None
    session.out_of_window = session.booked_by_patient = False
    session.patient_confirmed_at = None


def give_up_booking(session: Session, *, by: User | None, now: dt.datetime) -> Session:
    """Cancel a locked, booked session inside the caller's transaction: the
    slot is freed, later sessions re-dated, the patient told. Staff and the
    patient's own link (web/links.py) both cancel through it."""
    if refusal := session.cancel_refusal():
        raise Conflict(refusal)
    start, end = session.start, session.end
    _clear_booking(session)
    session._history_user = by
    session.save(update_fields=[*BOOKING_FIELDS, "patient_confirmed_at"])
    plan_cancel_notice(session, start=start, end=end, now=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    session.refresh_from_db()
    return session


@workflow
def cancel_booking(
    *, session: Session, by: User, reason: str = "", note: str = "", now: dt.datetime | None = None
) -> Session:
    """Give up a booking (back to planned), keeping why (`reason`, one of
    ChangeReason; "other" when none is given) for the reports."""
    now = now_or(now)
    session = changing(session, by=by, role=Role.RECEPTION)
    if refusal := session.cancel_refusal():
        raise Conflict(refusal)
    check_text(BookingChange, {"note": note})
    BookingChange.objects.create(
        clinic=session.clinic, session=session, kind=BookingChangeKind.CANCELLED, reason=_change_reason(reason),
        note=note, previous_start=session.start, by=by, at=now,
    )
    return give_up_booking(session, by=by, now=now)


@workflow
def mark_no_show(*, session: Session, by: User, reason: str = "", now: dt.datetime | None = None) -> Session:
    now = now_or(now)
    session = changing(session, by=by, role=Role.RECEPTION)
    if refusal := session.no_show_refusal(now):
        raise Conflict(refusal)
    check_text(Deviation, {"reason": reason or ""})
    _clear_booking(session)
    session.missed_count += 1
    session._history_user = by
    session.save(update_fields=[*BOOKING_FIELDS, "patient_confirmed_at", "missed_count"])
    Deviation.objects.create(session=session, kind=DeviationKind.NO_SHOW, reason=reason or "", by=by, at=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    add_missed_reminder(session, now=now)
    session.refresh_from_db()
    return session


@workflow
def skip_session(*, session: Session, reason: str, by: User, now: dt.datetime | None = None) -> Session:
    now = now_or(now)
    reason = (reason or "").strip()
    session = changing(session, by=by, role=Role.CLINICIAN)
    if not reason:
        raise ValidationError({"reason": [_("Say why the session is skipped.")]})
    check_text(Session, {"skip_reason": reason}, names={"skip_reason": "reason"})
    if refusal := session.skip_refusal():
        raise Conflict(refusal)
    # A skipped session has no booking; its target date is what it passes on.
    was_booked = (session.start, session.end) if session.status == SessionStatus.BOOKED else None
    _clear_booking(session)
    session.status = SessionStatus.SKIPPED
    session.skip_reason = reason
    session._history_user = by
    session.save(update_fields=[*BOOKING_FIELDS, "patient_confirmed_at", "skip_reason"])
    if was_booked:
        plan_cancel_notice(session, start=was_booked[0], end=was_booked[1], now=now)
    Deviation.objects.create(session=session, kind=DeviationKind.SKIPPED, reason=reason, by=by, at=now)
    recascade(session.enrolment, now=now, touched=[session.pk])
    finish_if_done(session.enrolment)
    session.refresh_from_db()
    return session
