"""Random histories through the real services on PostgreSQL: whatever
staff do, in whatever order, the stored schedule stays the one SPEC §3
gives for the current state, and the reminder outbox stays in step."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import Conflict
from core.timezones import as_clinic_time
from patients.models import EnrolmentStatus
from protocols import schedule
from sessions import services
from sessions.models import Deviation, Reminder, ReminderKind, ReminderStatus, Session, SessionStatus
from tests.factories import lot_of, make_protocol, step
from tests.sessions.conftest import BEFORE_ALL, enrol

STEPS = [
    step("Baseline", "assessment"),
    step("Treatment", repeat=4, interval_days=14, window_before_days=2, window_after_days=7, duration_minutes=45),
    step("Home serum", "home", interval_days=7, duration_minutes=0),
    step("Review", "assessment", repeat=2, interval_days=60, anchor="start", window_before_days=5, window_after_days=5),
]
SESSIONS = 8


class Rollback(Exception):
    pass


def rows(enrolment):
    return list(Session.objects.filter(enrolment=enrolment).select_related("step", "clinic").order_by("sequence"))


def snapshot(enrolment):
    return (
        [
            (s.status, s.target_date, s.window_start, s.window_end, s.start, s.end, s.out_of_window, s.missed_count)
            for s in rows(enrolment)
        ],
        sorted(Reminder.objects.filter(session__enrolment=enrolment).values_list("id", "status")),
        Deviation.objects.filter(session__enrolment=enrolment).count(),
        enrolment.__class__.objects.get(pk=enrolment.pk).status,
    )


def check(enrolment, offsets):
    sessions = rows(enrolment)
    tz = sessions[0].clinic.tz
    states = [
        schedule.SessionState(
            sequence=s.sequence,
            occurrence=s.occurrence,
            rule=schedule.StepRule(
                repeat=s.step.repeat, interval_days=s.step.interval_days, anchor=s.step.anchor,
                window_before_days=s.step.window_before_days, window_after_days=s.step.window_after_days,
            ),
            status=s.status,
            target_date=s.target_date,
            # The clinic's dates, never UTC ones.
            booked_date=s.start.astimezone(tz).date() if s.start else None,
            completed_date=s.completed_at.astimezone(tz).date() if s.completed_at else None,
        )
        for s in sessions
    ]
    # The stored dates are the cascade's fixed point for the current state.
    recomputed = {r.sequence: r for r in schedule.cascade(enrolment.start_date, states)}
    for s in sessions:
        assert s.window_start <= s.target_date <= s.window_end
        if s.sequence in recomputed:
            r = recomputed[s.sequence]
            assert (s.target_date, s.window_start, s.window_end, s.out_of_window) == (
                r.dates.target_date, r.dates.window_start, r.dates.window_end, r.out_of_window,
            )
        if s.step.anchor == "start":
            assert s.target_date == enrolment.start_date + dt.timedelta(days=60 * s.occurrence)
        if s.status == SessionStatus.BOOKED:
            assert s.out_of_window == (not s.window_start <= s.start.astimezone(tz).date() <= s.window_end)
            assert s.end - s.start == dt.timedelta(minutes=s.step.duration_minutes)
        else:
            assert s.status != SessionStatus.PLANNED or (s.start, s.practitioner_id) == (None, None)
        live = Reminder.objects.filter(session=s, status=ReminderStatus.PENDING)
        booked_dues = set(live.filter(kind=ReminderKind.BOOKED).values_list("due_at", flat=True))
        if s.status == SessionStatus.BOOKED:
            assert booked_dues <= {s.start - dt.timedelta(hours=h) for h in offsets}
        else:
            assert not booked_dues
        if s.status in (SessionStatus.COMPLETED, SessionStatus.SKIPPED):
            assert not live.exists()
        keys = list(live.values_list("kind", "due_at"))
        assert len(keys) == len(set(keys))
    open_left = any(s.status in (SessionStatus.PLANNED, SessionStatus.BOOKED) for s in sessions)
    enrolment.refresh_from_db()
    assert enrolment.status == (EnrolmentStatus.ACTIVE if open_left else EnrolmentStatus.COMPLETED)


operations = st.lists(
    st.tuples(
        st.sampled_from(["book"] * 5 + ["cancel", "no_show", "no_show", "complete", "complete", "complete", "skip"]),
        st.integers(0, SESSIONS - 1),
        st.integers(-4, 20),  # days from the target
        st.sampled_from([dt.time(8), dt.time(9, 15), dt.time(12, 30), dt.time(19, 15)]),
        st.booleans(),  # give an override reason
    ),
    min_size=4,
    max_size=14,
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=operations)
def test_random_histories_through_the_services(clinic, patient, clinician, receptionist, history):
    protocol = make_protocol(clinic, name="Mixed course", steps=STEPS)
    try:
        with transaction.atomic():
            _play(clinic, patient, clinician, receptionist, protocol, history)
            raise Rollback
    except Rollback:
        pass


def _pick(sessions, name, index):
    """Mostly a session the operation suits (so that most steps do
    something), else the one at `index` (a refusal is a valid step too)."""
    open_ = (SessionStatus.PLANNED, SessionStatus.BOOKED)
    suits = {
        "book": lambda s: s.status in open_ and s.step.kind != "home",
        "cancel": lambda s: s.status == SessionStatus.BOOKED,
        "no_show": lambda s: s.status == SessionStatus.BOOKED,
        "complete": lambda s: s.status == SessionStatus.BOOKED
        or (s.status == SessionStatus.PLANNED and s.step.kind == "home"),
        "skip": lambda s: s.status in open_,
    }[name]
    candidates = [s for s in sessions if suits(s)]
    if candidates and index % 4:
        return candidates[index % len(candidates)]
    return sessions[index]


def _play(clinic, patient, clinician, receptionist, protocol, history):
    enrolment = enrol(patient, protocol, "2026-03-02", receptionist)
    offsets = clinic.reminder_offsets_hours
    now = dt.datetime.fromisoformat(BEFORE_ALL)
    check(enrolment, offsets)
    for name, index, days, wall, override in history:
        session = _pick(rows(enrolment), name, index)
        if name in ("no_show", "complete") and session.status == SessionStatus.BOOKED:
            now = max(now, session.start + dt.timedelta(minutes=10))
        elif name == "complete" and session.step.kind == "home":
            now = max(now, dt.datetime.combine(session.target_date, dt.time(9), tzinfo=clinic.tz))
        before = snapshot(enrolment)
        with time_machine.travel(now, tick=False):
            try:
                if name == "book":
                    start = as_clinic_time(
                        dt.datetime.combine(session.target_date + dt.timedelta(days=days), wall), clinic.tz
                    )
                    services.book_session(
                        session=session, start=start, practitioner=clinician, by=clinician,
                        override_reason="Patient's request" if override else "",
                    )
                elif name == "cancel":
                    services.cancel_booking(session=session, by=receptionist)
                elif name == "no_show":
                    services.mark_no_show(session=session, by=receptionist)
                elif name == "complete":
                    services.complete_session(
                        session=session, by=clinician, not_done_reason="Not measured", lot=lot_of(session.clinic)
                    )
                else:
                    services.skip_session(session=session, by=clinician, reason="Unwell")
            except (ValidationError, Conflict, PermissionDenied):
                assert snapshot(enrolment) == before  # a refusal changes nothing
        check(enrolment, offsets)
