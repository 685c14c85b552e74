"""Daylight saving (SPEC §3: a booked 09:00 is never moved to 08:00 or
10:00) for a clinic in Europe/Berlin and one in America/New_York."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from core.timezones import as_clinic_time
from sessions import selectors, services
from sessions.models import Reminder, ReminderKind, ReminderStatus, Session
from sessions.reminders.plan import booked_reminders
from tests.factories import lot_of
from tests.sessions.conftest import BEFORE_ALL, clock, utc

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("zone", "day", "utc_hour"),
    [
        # Spring: Berlin changes on Sunday 2026-03-29, New York on Sunday 2026-03-08.
        (BERLIN, "2026-03-27", 8),  # Friday before, CET (+1)
        (BERLIN, "2026-03-30", 7),  # Monday after, CEST (+2)
        (NEW_YORK, "2026-03-06", 14),  # Friday before, EST (-5)
        (NEW_YORK, "2026-03-09", 13),  # Monday after, EDT (-4)
        # Autumn: Berlin on Sunday 2026-10-25, New York on Sunday 2026-11-01.
        (BERLIN, "2026-10-23", 7),
        (BERLIN, "2026-10-26", 8),
        (NEW_YORK, "2026-10-30", 13),
        (NEW_YORK, "2026-11-02", 14),
    ],
)
def test_nine_oclock_local_on_both_sides_of_each_change(zone_world, zone, day, utc_hour):
    world = zone_world(zone)
    session = world.session()
    local_nine = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(9, 0))
    with clock(BEFORE_ALL):
        services.book_session(
            session=session, start=as_clinic_time(local_nine, world.tz), practitioner=world.clinician,
            by=world.receptionist,
        )
    stored = Session.objects.get(pk=session.pk)
    assert stored.start == utc(*map(int, day.split("-")), utc_hour, 0)
    assert stored.start.astimezone(world.tz).replace(tzinfo=None) == local_nine
    assert stored.end.astimezone(world.tz).time() == dt.time(9, 45)
    assert stored.start.astimezone(world.tz).date() == dt.date.fromisoformat(day)


def test_a_booking_across_the_change_keeps_its_wall_clock_time(zone_world):
    """Rebooking from the Friday to the Monday at the same wall-clock time is
    a different UTC hour, and a later session counts from the Monday."""
    world = zone_world(BERLIN)
    session = world.session()
    with clock(BEFORE_ALL):
        services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 3, 27, 9), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )
        services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 3, 30, 9), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )
    session.refresh_from_db()
    assert session.start == utc(2026, 3, 30, 7, 0)
    following = Session.objects.get(enrolment=session.enrolment, sequence=2)
    assert following.target_date == dt.date(2026, 3, 30)


def test_an_evening_in_new_york_counts_on_its_local_date(zone_world):
    """19:15 EST on Friday 03-06 is 00:15 UTC on Saturday: the schedule
    counts the clinic's date, for the booking and for the completion."""
    world = zone_world(NEW_YORK)
    session = world.session()
    with clock(BEFORE_ALL):
        booked = services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 3, 6, 19, 15), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )
    assert booked.start == utc(2026, 3, 7, 0, 15)
    following = Session.objects.get(enrolment=session.enrolment, sequence=2)
    assert following.target_date == dt.date(2026, 3, 6)
    with clock("2026-03-07T00:55:00+00:00"):
        services.complete_session(session=booked, by=world.clinician, lot=lot_of(booked.clinic))
    following.refresh_from_db()
    assert following.target_date == dt.date(2026, 3, 6)


@pytest.mark.parametrize(
    ("zone", "day", "first_utc"),
    [
        (BERLIN, "2026-03-29", utc(2026, 3, 29, 6, 0)),  # 08:00 CEST
        (BERLIN, "2026-10-25", utc(2026, 10, 25, 7, 0)),  # 08:00 CET
        (NEW_YORK, "2026-03-08", utc(2026, 3, 8, 12, 0)),  # 08:00 EDT
        (NEW_YORK, "2026-11-01", utc(2026, 11, 1, 13, 0)),  # 08:00 EST
    ],
)
def test_free_slots_on_change_days_follow_local_opening_hours(zone_world, zone, day, first_utc):
    world = zone_world(zone)
    session = world.session()
    the_day = dt.date.fromisoformat(day)
    with clock(BEFORE_ALL):
        slots = selectors.free_slots(session, date_from=the_day, date_to=the_day)
    assert slots[0].start == first_utc
    local_starts = [s.start.astimezone(world.tz) for s in slots]
    assert local_starts[0].time() == dt.time(8, 0)
    # Every 15 minutes of wall-clock time from 08:00 to the last 45-minute
    # slot, 19:15-20:00: 46 of them, each one 45 real minutes long.
    assert [t.time() for t in local_starts] == [
        (dt.datetime(2026, 1, 1, 8) + dt.timedelta(minutes=15 * n)).time() for n in range(46)
    ]
    assert all(s.end - s.start == dt.timedelta(minutes=45) for s in slots)
    assert {t.date() for t in local_starts} == {the_day}
    # The first and the last offered slot can really be booked.
    for slot in (slots[-1], slots[0]):
        with clock(BEFORE_ALL):
            booked = services.book_session(
                session=session, start=slot.start, practitioner=world.clinician, by=world.receptionist
            )
        assert booked.start == slot.start


@pytest.mark.parametrize(
    ("zone", "wall"),
    [
        (BERLIN, dt.datetime(2026, 3, 29, 2, 30)),
        (BERLIN, dt.datetime(2026, 3, 29, 2, 0)),
        (NEW_YORK, dt.datetime(2026, 3, 8, 2, 30)),
        (NEW_YORK, dt.datetime(2026, 3, 8, 2, 59)),
    ],
)
def test_a_time_in_the_spring_gap_is_rejected_on_start(zone_world, zone, wall):
    world = zone_world(zone)
    with pytest.raises(ValidationError) as error:
        as_clinic_time(wall, world.tz)
    assert list(error.value.message_dict) == ["start"]
    assert zone in error.value.message_dict["start"][0]


@pytest.mark.parametrize(
    ("zone", "wall", "first_occurrence"),
    [
        (BERLIN, dt.datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),  # still CEST
        (BERLIN, dt.datetime(2026, 10, 25, 2, 30, fold=1), utc(2026, 10, 25, 0, 30)),
        (NEW_YORK, dt.datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30)),  # still EDT
        (NEW_YORK, dt.datetime(2026, 11, 1, 1, 30, fold=1), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_an_ambiguous_autumn_time_is_its_first_occurrence(zone_world, zone, wall, first_occurrence):
    world = zone_world(zone)
    assert as_clinic_time(wall, world.tz).astimezone(dt.UTC) == first_occurrence


def test_an_ambiguous_time_can_be_booked_at_a_night_clinic(zone_world):
    world = zone_world(BERLIN)
    world.clinic.opening_hours.filter(weekday=6).update(opens=dt.time(0, 0), closes=dt.time(6, 0))
    session = world.session()
    with clock(BEFORE_ALL):
        booked = services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 10, 25, 2, 30), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )
    assert booked.start == utc(2026, 10, 25, 0, 30)
    # 45 real minutes later is 02:15 on the second pass through the fold.
    assert booked.end == utc(2026, 10, 25, 1, 15)


def test_every_slot_offered_across_the_spring_gap_can_be_booked(zone_world):
    """A night clinic, open 00:00-03:00 on the Sunday the clocks skip 02:00."""
    world = zone_world(BERLIN)
    world.clinic.opening_hours.filter(weekday=6).update(opens=dt.time(0, 0), closes=dt.time(3, 0))
    session = world.session()
    day = dt.date(2026, 3, 29)
    with clock(BEFORE_ALL):
        slots = selectors.free_slots(session, date_from=day, date_to=day)
    # 01:15 CET + 45 minutes is 03:00 CEST; 01:30 would end at 03:15.
    assert [s.start.astimezone(world.tz).strftime("%H:%M") for s in slots] == [
        "00:00", "00:15", "00:30", "00:45", "01:00", "01:15",
    ]
    for slot in slots:
        with clock(BEFORE_ALL):
            booked = services.book_session(
                session=session, start=slot.start, practitioner=world.clinician, by=world.receptionist
            )
        assert (booked.start, booked.end) == (slot.start, slot.end)
    with pytest.raises(ValidationError), clock(BEFORE_ALL):
        services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 3, 29, 1, 30), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )


def test_24_hour_reminder_across_the_spring_change():
    # A start as the API hands it over: 09:00 in the clinic's zone.
    monday_nine = as_clinic_time(dt.datetime(2026, 3, 30, 9, 0), zoneinfo.ZoneInfo(BERLIN))
    assert monday_nine == utc(2026, 3, 30, 7, 0)
    due = {w.offset_hours: w.due_at for w in booked_reminders(monday_nine, [72, 24], utc(2026, 3, 1, 0, 0))}
    # Offsets are elapsed hours: 24 h before is Sunday 07:00 UTC (09:00 CEST,
    # after the change at 01:00 UTC); 72 h before is Friday 07:00 UTC (08:00 CET).
    assert due == {24: utc(2026, 3, 29, 7, 0), 72: utc(2026, 3, 27, 7, 0)}


def test_booking_across_the_spring_change_plans_those_reminder_rows(zone_world):
    world = zone_world(BERLIN)
    session = world.session()
    with clock(BEFORE_ALL):
        services.book_session(
            session=session, start=as_clinic_time(dt.datetime(2026, 3, 30, 9), world.tz),
            practitioner=world.clinician, by=world.receptionist,
        )
    rows = Reminder.objects.filter(session=session, kind=ReminderKind.BOOKED, status=ReminderStatus.PENDING)
    assert sorted((r.offset_hours, r.due_at) for r in rows) == [
        (24, utc(2026, 3, 29, 7, 0)),
        (72, utc(2026, 3, 27, 7, 0)),
    ]
