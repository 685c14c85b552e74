"""No practitioner, room or patient is ever in two overlapping booked
sessions (SPEC §4), even when two requests race; and the reminder rows a
booking plans when its first reminders are already past due (SPEC §5)."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from core.exceptions import Conflict
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus, Session, SessionStatus
from sessions.reminders.plan import booked_reminders
from tests.factories import PatientFactory, RoomFactory
from tests.sessions.conftest import BEFORE_ALL, clock, enrol, sessions_of, utc

NOW = utc(2026, 2, 20, 9, 0)


def overlapping_booked_pairs(column: str) -> int:
    """Pairs of booked rows that share `column` and overlap, by SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM treatment_sessions_session a
            JOIN treatment_sessions_session b
              ON a.id < b.id AND a.{column}_id = b.{column}_id
             AND a.start < b."end" AND b.start < a."end"
            WHERE a.status IN ('booked', 'completed') AND b.status IN ('booked', 'completed')
            """
        )
        return cursor.fetchone()[0]


def race(jobs):
    """Run each job in its own thread, released together; return what each
    returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = job()
        except Exception as error:  # the test inspects it
            outcomes[index] = error
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_threads_booking_one_practitioner_exactly_one_wins(clinic, hair_protocol, receptionist, clinician):
    rounds = 3
    courses = [
        sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))
        for _ in range(2 * rounds)
    ]
    for n in range(rounds):
        first, second = courses[2 * n][1], courses[2 * n + 1][1]
        start = utc(2026, 3, 16 + n, 9, 0)
        outcomes = race(
            [
                lambda s=first, t=start: services.book_session(
                    session=s, start=t, practitioner=clinician, by=receptionist, now=NOW
                ),
                # Fifteen minutes later: the two 45-minute sessions overlap.
                lambda s=second, t=start: services.book_session(
                    session=s, start=t + dt.timedelta(minutes=15), practitioner=clinician, by=receptionist, now=NOW
                ),
            ]
        )
        winners = [o for o in outcomes if isinstance(o, Session)]
        losers = [o for o in outcomes if not isinstance(o, Session)]
        assert len(winners) == 1, outcomes
        assert len(losers) == 1 and isinstance(losers[0], Conflict), outcomes
        assert losers[0].field == "practitioner"
        loser_session = second if winners[0].pk == first.pk else first
        assert Session.objects.get(pk=loser_session.pk).status == SessionStatus.PLANNED
        # The loser's transaction left nothing behind: no booked reminders.
        assert not Reminder.objects.filter(session=loser_session, kind=ReminderKind.BOOKED).exists()
    assert Session.objects.filter(status=SessionStatus.BOOKED, practitioner=clinician).count() == rounds
    for column in ("practitioner", "room", "patient"):
        assert overlapping_booked_pairs(column) == 0


@pytest.mark.django_db(transaction=True)
def test_two_threads_booking_one_room_exactly_one_wins(clinic, hair_protocol, receptionist, clinician, manager):
    room = RoomFactory(clinic=clinic)
    first = sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))[1]
    second = sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))[1]
    start = utc(2026, 3, 16, 9, 0)
    outcomes = race(
        [
            lambda: services.book_session(
                session=first, start=start, practitioner=clinician, room=room, by=receptionist, now=NOW
            ),
            lambda: services.book_session(
                session=second, start=start, practitioner=manager, room=room, by=receptionist, now=NOW
            ),
        ]
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Session"], outcomes
    assert next(o for o in outcomes if isinstance(o, Conflict)).field == "room"
    assert overlapping_booked_pairs("room") == 0


# --- the exclusion constraints themselves ------------------------------------------------------------


@pytest.fixture
def two_courses(clinic, hair_protocol, receptionist, clinician):
    first = sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))
    second = sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))
    with clock(BEFORE_ALL):
        services.book_session(session=first[1], start=utc(2026, 3, 16, 9, 0), practitioner=clinician, by=receptionist)
    return first, second


def force(session, **fields):
    """A raw UPDATE, past every check in the services."""
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(**fields)


def test_the_database_refuses_an_overlapping_practitioner(two_courses, clinician):
    _, second = two_courses
    with pytest.raises(IntegrityError, match="session_no_overlap_practitioner"):
        force(
            second[1], status="booked", practitioner=clinician,
            start=utc(2026, 3, 16, 9, 30), end=utc(2026, 3, 16, 10, 15),
        )
    # Half-open ranges: starting when the other ends is allowed.
    force(second[1], status="booked", practitioner=clinician, start=utc(2026, 3, 16, 9, 45), end=utc(2026, 3, 16, 10, 30))


def test_the_database_refuses_an_overlapping_room(two_courses, clinician, manager):
    first, second = two_courses
    room = RoomFactory(clinic=clinician.clinic)
    Session.objects.filter(pk=first[1].pk).update(room=room)
    with pytest.raises(IntegrityError, match="session_no_overlap_room"):
        force(
            second[1], status="booked", practitioner=manager, room=room,
            start=utc(2026, 3, 16, 9, 0), end=utc(2026, 3, 16, 9, 45),
        )


def test_the_database_refuses_an_overlapping_patient(two_courses, manager):
    first, _ = two_courses
    # The same patient's baseline moved onto the injection's time, with another practitioner.
    with pytest.raises(IntegrityError, match="session_no_overlap_patient"):
        force(
            first[0], status="booked", practitioner=manager,
            start=utc(2026, 3, 16, 9, 10), end=utc(2026, 3, 16, 9, 40),
        )


@pytest.mark.parametrize("status", [SessionStatus.CANCELLED, SessionStatus.PLANNED])
def test_cancelled_and_planned_rows_do_not_hold_their_old_times(two_courses, clinician, status):
    """A row that is no longer booked keeps its old start, end and
    practitioner (withdrawing an enrolment cancels its bookings so), yet the
    database lets another booking take exactly that time."""
    first, second = two_courses
    old_time = (clinician.pk, utc(2026, 3, 16, 9, 0), utc(2026, 3, 16, 9, 45))
    force(first[1], status=status)
    force(second[1], status="booked", practitioner=clinician, start=old_time[1], end=old_time[2])

    rows = {row.pk: row for row in Session.objects.filter(pk__in=(first[1].pk, second[1].pk))}
    freed, taken = rows[first[1].pk], rows[second[1].pk]
    assert freed.status == status
    assert (freed.practitioner_id, freed.start, freed.end) == old_time, "the freed row should keep its old time"
    assert taken.status == SessionStatus.BOOKED
    assert (taken.practitioner_id, taken.start, taken.end) == old_time, "the new booking should hold that same time"
    assert overlapping_booked_pairs("practitioner") == 0


# --- reminder planning when some reminders are already past due -------------------------------------


def test_booking_23_hours_ahead_sends_only_the_24_hour_reminder_at_once(hair_course, receptionist, clinician):
    session = sessions_of(hair_course)[1]
    with clock("2026-03-15T10:00:00+00:00"):
        services.book_session(session=session, start=utc(2026, 3, 16, 9, 0), practitioner=clinician, by=receptionist)
    rows = list(Reminder.objects.filter(session=session, kind=ReminderKind.BOOKED))
    assert [(r.offset_hours, r.due_at, r.status) for r in rows] == [
        (24, utc(2026, 3, 15, 9, 0), ReminderStatus.PENDING),  # an hour overdue: the next scan sends it
    ]


def test_booking_50_hours_ahead_plans_only_the_24_hour_reminder(hair_course, receptionist, clinician):
    session = sessions_of(hair_course)[1]
    with clock("2026-03-14T07:00:00+00:00"):
        services.book_session(session=session, start=utc(2026, 3, 16, 9, 0), practitioner=clinician, by=receptionist)
    assert sorted(
        Reminder.objects.filter(session=session, kind=ReminderKind.BOOKED).values_list("offset_hours", "due_at")
    ) == [(24, utc(2026, 3, 15, 9, 0))]


def test_a_reminder_that_just_fell_due_survives_a_replan(hair_course, receptionist, clinician):
    """The 72-hour row is due and pending (the scanner has not claimed it
    yet) when a change earlier in the course moves this booking's window:
    the row still fits the booking, so it stays for the scanner to send."""
    baseline, injection = sessions_of(hair_course)[:2]
    with clock(BEFORE_ALL):
        services.book_session(session=injection, start=utc(2026, 3, 20, 9, 0), practitioner=clinician, by=receptionist)
    seventy_two = Reminder.objects.get(session=injection, offset_hours=72)
    assert seventy_two.due_at == utc(2026, 3, 17, 9, 0)
    with clock("2026-03-17T09:00:30+00:00"):
        services.book_session(
            session=baseline, start=utc(2026, 3, 17, 10, 0), practitioner=clinician, by=clinician,
            override_reason="Baseline was missed", later_bookings="keep",  # issue 24: the booking is kept
        )
    injection.refresh_from_db()
    assert (injection.window_start, injection.out_of_window) == (dt.date(2026, 3, 31), True)  # it did move
    seventy_two.refresh_from_db()
    assert seventy_two.status == ReminderStatus.PENDING
    assert Reminder.objects.filter(session=injection, kind=ReminderKind.BOOKED, status=ReminderStatus.PENDING).count() == 2


@pytest.mark.parametrize(
    ("hours_ahead", "offsets_sent"),
    [
        (100, [72, 24]),
        (72, [72, 24]),  # due exactly now
        (50, [24]),  # the 72-hour one has passed and is not the last: dropped
        (24, [24]),
        (23, [24]),  # the last one before the session goes at once
        (1, [24]),
        (0, []),  # the session has begun
        (-5, []),
    ],
)
def test_booked_reminders_by_lead_time(hours_ahead, offsets_sent):
    start = utc(2026, 3, 16, 9, 0)
    now = start - dt.timedelta(hours=hours_ahead)
    wanted = booked_reminders(start, [72, 24], now)
    assert [w.offset_hours for w in wanted] == offsets_sent
    assert all(w.due_at == start - dt.timedelta(hours=w.offset_hours) for w in wanted)


def test_booked_reminders_with_three_offsets():
    start = utc(2026, 3, 16, 9, 0)
    # 23 hours ahead with a 2-hour reminder still to come: nothing overdue is sent.
    assert [w.offset_hours for w in booked_reminders(start, [72, 24, 2], start - dt.timedelta(hours=23))] == [2]
    # 90 minutes ahead: the 2-hour one is the last before the session, at once.
    assert [w.offset_hours for w in booked_reminders(start, [2, 72, 24, 24], start - dt.timedelta(minutes=90))] == [2]


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_between_two_workflows_is_the_losers_conflict(clinic):
    """PostgreSQL aborts one of two transactions that wait for each other (as
    two overlapping bookings can while checking the exclusion constraint).
    A real deadlock, forced by locking two rows in opposite orders: the
    aborted workflow raises Conflict, the other completes."""
    from core.services import workflow
    from patients.models import Patient

    a, b = PatientFactory(clinic=clinic), PatientFactory(clinic=clinic)
    both_hold_one = threading.Barrier(2)

    def locker(first, second):
        @workflow
        def lock_both():
            Patient.objects.select_for_update().get(pk=first.pk)
            both_hold_one.wait(timeout=10)
            Patient.objects.select_for_update().get(pk=second.pk)
            return "done"

        return lock_both

    outcomes = race([locker(a, b), locker(b, a)])
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "str"], outcomes
    assert "same moment" in next(str(o) for o in outcomes if isinstance(o, Conflict))


@pytest.mark.django_db(transaction=True)
def test_many_races_for_one_slot_always_give_one_booking_and_conflicts(clinic, hair_protocol, receptionist, clinician):
    # Overlapping bookings racing on the exclusion check may deadlock rather
    # than meet the constraint; either way the loser is a Conflict naming the
    # practitioner, never a server error.
    rounds = 6
    courses = [
        sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))
        for _ in range(2 * rounds)
    ]
    for n in range(rounds):
        first, second = courses[2 * n][1], courses[2 * n + 1][1]
        start = utc(2026, 3, 16 + n, 13, 0)
        outcomes = race(
            [
                lambda s=session, t=start + dt.timedelta(minutes=5 * i): services.book_session(
                    session=s, start=t, practitioner=clinician, by=receptionist, now=NOW
                )
                for i, session in enumerate((first, second))
            ]
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Session"], outcomes
        assert next(o for o in outcomes if isinstance(o, Conflict)).field == "practitioner"
    assert overlapping_booked_pairs("practitioner") == 0
