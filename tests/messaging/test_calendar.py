"""The `.ics` files are icalendar objects with their times in UTC, and so
need no VTIMEZONE: icalendar 7.3.2 writes a zone's spring change an hour
late. When the first test here fails, icalendar has fixed it and the
events may name the clinic's zone again."""

import datetime as dt

import icalendar
import pytest
import time_machine

from messaging.emails import calendar_ics
from sessions import services

UTC = dt.UTC


def test_icalendar_from_tzid_writes_the_spring_change_an_hour_late():
    """Berlin goes from 02:00 CET to 03:00 CEST on 28 March 2027: the
    DAYLIGHT onset is DTSTART:20270328T020000 with TZOFFSETFROM:+0100
    (RFC 5545 §3.6.5, the local time before the change). icalendar 7.3.2
    writes 03:00, which a calendar reads as 02:00 UTC, an hour after the
    real change at 01:00 UTC."""
    zone = icalendar.Timezone.from_tzid("Europe/Berlin", first_date=dt.date(2027, 1, 1), last_date=dt.date(2027, 12, 31))
    [daylight] = zone.walk("DAYLIGHT")
    assert daylight["TZOFFSETFROM"].td == dt.timedelta(hours=1)
    onset = daylight.decoded("DTSTART")
    if onset == dt.datetime(2027, 3, 28, 2, 0):
        pytest.fail("icalendar writes the spring onset right now: messaging/emails.py may use TZID and VTIMEZONE again")
    assert onset == dt.datetime(2027, 3, 28, 3, 0)


def test_a_booking_after_the_spring_change_is_the_clinics_0900_without_any_vtimezone(
    clinic, patient, quick_protocol, receptionist, clinician
):
    with time_machine.travel(dt.datetime(2027, 3, 20, 10, 0, tzinfo=UTC), tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=quick_protocol, start_date=dt.date(2027, 3, 20), by=receptionist
        )
        session = services.book_session(
            session=enrolment.sessions.get(),
            start=dt.datetime(2027, 3, 29, 7, 0, tzinfo=UTC),  # Monday 09:00 CEST, the day after the change
            practitioner=clinician,
            by=receptionist,
        )
    calendar = icalendar.Calendar.from_ical(calendar_ics([session]))
    assert calendar.walk("VTIMEZONE") == []
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2027, 3, 29, 7, 0, tzinfo=UTC)
    assert event.decoded("DTSTART").astimezone(clinic.tz).hour == 9
