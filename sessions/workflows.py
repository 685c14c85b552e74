"""The machinery every session workflow shares (SPEC §3): the checks a
change starts with, the enrolment lock, and the cascade that re-dates later
sessions and keeps the reminder outbox in step, all inside the caller's
transaction (core.services.workflow)."""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from clinics.models import User
from core.exceptions import Conflict
from core.services import require_role
from patients.models import Enrolment, EnrolmentStatus
from protocols import schedule
from sessions.reminders.plan import sync_reminders

from .models import Session, SessionStatus


def changing(session: Session, *, by: User, role: str) -> Session:
    """The checks every session workflow starts with: the caller's role and
    clinic, then the locked, fresh row of a session of an active enrolment."""
    require_role(by, role, clinic_id=session.clinic_id, what="session")
    session = locked(session)
    require_active(session)
    return session


def locked(session: Session) -> Session:
    """Lock the enrolment, then re-read the session, so that two changes to
    one enrolment (and its cascade) run one after the other."""
    Enrolment.objects.select_for_update().filter(pk=session.enrolment_id).first()
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("clinic", "enrolment", "patient", "step", "step__protocol")
        .get(pk=session.pk)
    )


def state_of(session: Session) -> schedule.SessionState:
    tz = session.clinic.tz
    return schedule.SessionState(
        sequence=session.sequence,
        occurrence=session.occurrence,
        rule=schedule.StepRule.of(session.step),
        status=session.status,
        target_date=session.target_date,
        booked_date=session.start.astimezone(tz).date() if session.start else None,
        completed_date=session.completed_at.astimezone(tz).date() if session.completed_at else None,
        arm_anchor=session.arm_anchor,
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
        results = schedule.cascade(enrolment.start_date, [state_of(s) for s in sessions])
    except OverflowError:
        raise ValidationError({"start": [_("This date moves later sessions past the year 9999.")]}) from None
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


def finish_if_done(enrolment: Enrolment) -> None:
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return
    open_left = Session.objects.filter(
        enrolment=enrolment, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
    ).exists()
    if not open_left:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.save(update_fields=["status"])


def require_active(session: Session) -> None:
    if refusal := session.enrolment_refusal():
        raise Conflict(refusal)
