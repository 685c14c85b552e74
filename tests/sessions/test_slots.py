"""sessions/booking/slots.py: the pure free-slot walk (SPEC §4, free slots)."""

import datetime as dt
import zoneinfo

import pytest

from clinics.models import Closure
from sessions import selectors, services
from sessions.booking.slots import Busy, Slot, free_slots, opening_starts
from tests.factories import PatientFactory
from tests.sessions.conftest import BEFORE_ALL, clock, enrol, sessions_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC
MONDAY = dt.date(2026, 3, 16)  # CET, UTC+1


def at(hour, minute=0, day=MONDAY):
    """A Berlin wall-clock time on a winter day, as UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def walk(**overrides):
    arguments = {
        "days": [MONDAY],
        "opening_hours": {MONDAY.weekday(): [(dt.time(9), dt.time(11))]},
        "closures": set(),
        "slot_minutes": 30,
        "duration_minutes": 45,
        "tz": BERLIN,
        "not_before": at(0, 0, dt.date(2026, 1, 1)),
        "practitioner_busy": {1: []},
        "room_busy": {},
        "patient_busy": [],
    }
    arguments.update(overrides)
    return free_slots(**arguments)


def starts(slots):
    return [(s.start.astimezone(BERLIN).strftime("%H:%M"), s.practitioner_id, s.room_id) for s in slots]


def test_overlaps_is_half_open():
    busy = Busy([(at(10), at(11))])
    assert busy.overlaps(at(10, 30), at(10, 45))
    assert busy.overlaps(at(9, 30), at(10, 1))
    assert not busy.overlaps(at(11), at(12))
    assert not busy.overlaps(at(9), at(10))
    assert not Busy().overlaps(at(9), at(10))


def test_busy_answers_as_a_walk_over_every_interval_would():
    """The bisection over sorted starts and the latest end so far agrees
    with asking every interval, for intervals given in any order, nested
    (a long booking around short ones), touching and repeated."""
    import random

    chance = random.Random(15)
    for _ in range(200):
        intervals = []
        for _ in range(chance.randint(0, 12)):
            begin = chance.randint(0, 40) * 15
            intervals.append((at(8) + dt.timedelta(minutes=begin),
                              at(8) + dt.timedelta(minutes=begin + chance.choice([15, 30, 45, 240]))))
        busy = Busy(intervals)
        for begin in range(0, 600, 15):
            start = at(8) + dt.timedelta(minutes=begin)
            for length in (15, 45):
                end = start + dt.timedelta(minutes=length)
                walked = any(b_start < end and start < b_end for b_start, b_end in intervals)
                assert busy.overlaps(start, end) == walked, (intervals, start, end)


def test_slots_fit_the_whole_duration_into_opening_hours():
    slots = walk()
    assert starts(slots) == [("09:00", 1, None), ("09:30", 1, None), ("10:00", 1, None)]  # 10:30 would end 11:15
    assert all(s.end - s.start == dt.timedelta(minutes=45) for s in slots)
    assert slots[0] == Slot(at(9), at(9, 45), 1, None)


def test_slots_are_in_time_order_then_by_practitioner():
    slots = walk(practitioner_busy={7: [], 3: []})
    assert starts(slots) == [
        ("09:00", 3, None), ("09:00", 7, None), ("09:30", 3, None), ("09:30", 7, None),
        ("10:00", 3, None), ("10:00", 7, None),
    ]


def test_busy_practitioner_patient_and_closure():
    slots = walk(practitioner_busy={1: [(at(9, 40), at(10, 10))], 2: []})
    assert starts(slots) == [("09:00", 2, None), ("09:30", 2, None), ("10:00", 2, None)]
    assert walk(patient_busy=[(at(9, 40), at(10, 10))]) == []
    assert walk(closures={MONDAY}) == []
    assert walk(opening_hours={}) == []


def test_rooms_first_free_room_and_none_left():
    slots = walk(room_busy={5: [(at(9), at(9, 30))], 4: [(at(9, 45), at(10, 30))]})
    assert starts(slots) == [("09:00", 1, 4), ("09:30", 1, 5), ("10:00", 1, 5)]
    assert walk(room_busy={4: [(at(9), at(11))]}) == []


def test_not_before_and_limit():
    assert starts(walk(not_before=at(9, 30))) == [("09:30", 1, None), ("10:00", 1, None)]
    assert len(walk(practitioner_busy={1: [], 2: []}, limit=3)) == 3


def test_several_opening_intervals_a_day():
    hours = {MONDAY.weekday(): [(dt.time(9), dt.time(10)), (dt.time(14), dt.time(15))]}
    assert starts(walk(opening_hours=hours, duration_minutes=30)) == [
        ("09:00", 1, None), ("09:30", 1, None), ("14:00", 1, None), ("14:30", 1, None),
    ]


SPRING = dt.date(2026, 3, 29)  # 02:00 -> 03:00 in Berlin
AUTUMN = dt.date(2026, 10, 25)  # 03:00 -> 02:00 in Berlin


def local_walk(day, opens, closes, *, slot, duration):
    return [
        (start.astimezone(BERLIN).strftime("%H:%M"), end.astimezone(BERLIN).strftime("%H:%M"))
        for start, end in opening_starts(
            day, [(opens, closes)], slot_minutes=slot, duration_minutes=duration, tz=BERLIN
        )
    ]


def test_wall_clock_times_the_spring_change_skips_are_never_offered():
    assert local_walk(SPRING, dt.time(1), dt.time(5), slot=30, duration=30) == [
        ("01:00", "01:30"), ("01:30", "03:00"), ("03:00", "03:30"), ("03:30", "04:00"),
        ("04:00", "04:30"), ("04:30", "05:00"),
    ]


def test_a_slot_across_the_spring_change_must_end_by_closing_time():
    # 01:45 + 30 real minutes is 03:15 on the clock: past a 03:00 closing.
    assert local_walk(SPRING, dt.time(0), dt.time(3), slot=15, duration=30)[-2:] == [
        ("01:15", "01:45"), ("01:30", "03:00"),
    ]


def test_the_repeated_autumn_hour_is_offered_once_at_its_first_occurrence():
    walked = opening_starts(AUTUMN, [(dt.time(1), dt.time(4))], slot_minutes=60, duration_minutes=60, tz=BERLIN)
    assert [start for start, _ in walked] == [
        dt.datetime(2026, 10, 24, 23, 0, tzinfo=UTC),  # 01:00 CEST
        dt.datetime(2026, 10, 25, 0, 0, tzinfo=UTC),  # 02:00 CEST
        dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC),  # 03:00 CET
    ]
    assert all(end - start == dt.timedelta(hours=1) for start, end in walked)


@pytest.mark.parametrize("day", [SPRING, AUTUMN, MONDAY])
def test_day_clinic_slots_on_change_days_are_the_usual_wall_times(day):
    walked = local_walk(day, dt.time(8), dt.time(20), slot=15, duration=45)
    assert walked[0] == ("08:00", "08:45")
    assert walked[-1] == ("19:15", "20:00")
    assert len(walked) == 46


# --- through selectors.free_slots, on the database ------------------------------------------------


@pytest.fixture
def injection(hair_course):
    return hair_course.sessions.select_related("step", "clinic").get(sequence=2)  # window 03-16..03-30


def db_slots(session, **kwargs):
    with clock(kwargs.pop("when", BEFORE_ALL)):
        return selectors.free_slots(session, **kwargs)


@pytest.mark.django_db
def test_free_slots_leave_out_bookings_closures_and_the_past(injection, hair_course, clinician, receptionist, patient):
    day = dt.date(2026, 3, 17)
    one_day = {"date_from": day, "date_to": day, "practitioner": clinician}
    assert len(db_slots(injection, **one_day)) == 46
    other = sessions_of(enrol(PatientFactory(clinic=patient.clinic), hair_course.protocol, "2026-03-02", receptionist))[1]
    with clock(BEFORE_ALL):
        services.book_session(session=other, start=at(10, 0, day), practitioner=clinician, by=receptionist)
    taken = {s.start for s in db_slots(injection, **one_day)}
    # 10:00-10:45 is taken: starts from 09:30 (ends 10:15) to 10:30 clash.
    assert taken.isdisjoint({at(9, 30, day), at(9, 45, day), at(10, 0, day), at(10, 15, day), at(10, 30, day)})
    assert {at(9, 15, day), at(10, 45, day)} <= taken
    # A session's own booking does not hide its slot from a rebooking.
    assert at(10, 0, day) in {s.start for s in db_slots(other, **one_day)}
    Closure.objects.create(clinic=patient.clinic, date=day)
    assert db_slots(injection, **one_day) == []
    # Today from now on only: 2026-03-18 13:05 local is 12:05 UTC.
    later = db_slots(injection, date_from=dt.date(2026, 3, 18), date_to=dt.date(2026, 3, 18), practitioner=clinician,
                     when="2026-03-18T12:05:00+00:00")
    assert later[0].start == at(13, 15, dt.date(2026, 3, 18))


@pytest.mark.django_db
def test_free_slots_stay_inside_the_window(injection, clinician):
    slots = db_slots(
        injection, practitioner=clinician, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 4, 30), limit=1000
    )
    days = {s.start.astimezone(BERLIN).date() for s in slots}
    assert min(days) == dt.date(2026, 3, 16)
    assert max(days) == dt.date(2026, 3, 30)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # Berlin's spring change
        dt.datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        dt.datetime(2099, 12, 31, 23, 30, 0, 250000, tzinfo=UTC),
    ],
)
def test_epoch_microseconds_are_exact(db, moment):
    """The free-slot search reads booked times as whole microseconds since
    1970 (selectors.EpochMicroseconds): they come back exact, DST or not."""
    from django.db import connection
    from django.db.models import Value
    from django.db.models.sql import Query

    expected = (moment - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    compiler = Query(None).get_compiler(connection=connection)
    sql, params = compiler.compile(selectors.EpochMicroseconds(Value(moment)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        assert cursor.fetchone()[0] == expected
