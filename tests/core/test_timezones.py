"""core/timezones.py: wall-clock times in a clinic's zone, across DST."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from core.timezones import as_clinic_time, at_local, is_in_gap, local_midnight, localize

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


@pytest.mark.parametrize(
    ("tz", "wall", "in_gap"),
    [
        (BERLIN, dt.datetime(2026, 3, 29, 1, 59), False),
        (BERLIN, dt.datetime(2026, 3, 29, 2, 0), True),
        (BERLIN, dt.datetime(2026, 3, 29, 2, 59), True),
        (BERLIN, dt.datetime(2026, 3, 29, 3, 0), False),
        (BERLIN, dt.datetime(2026, 10, 25, 2, 30), False),  # repeated, not skipped
        (NEW_YORK, dt.datetime(2026, 3, 8, 2, 0), True),
        (NEW_YORK, dt.datetime(2026, 3, 8, 3, 0), False),
        (NEW_YORK, dt.datetime(2026, 11, 1, 1, 30), False),
    ],
)
def test_is_in_gap(tz, wall, in_gap):
    assert is_in_gap(wall, tz) is in_gap


def test_localize_names_the_field_it_was_given():
    with pytest.raises(ValidationError) as error:
        localize(dt.datetime(2026, 3, 29, 2, 15), BERLIN, field="when")
    assert set(error.value.message_dict) == {"when"}
    assert "Europe/Berlin" in error.value.message_dict["when"][0]


@pytest.mark.parametrize(
    ("tz", "wall"),
    [(NEW_YORK, dt.datetime(9999, 12, 31, 23, 30)), (BERLIN, dt.datetime(1, 1, 1, 0, 30))],
)
def test_times_without_a_utc_instant_are_a_validation_error(tz, wall):
    with pytest.raises(ValidationError) as error:
        as_clinic_time(wall, tz)
    assert list(error.value.message_dict) == ["start"]


def test_as_clinic_time_keeps_an_aware_time_as_given():
    aware = dt.datetime(2026, 3, 29, 2, 30, tzinfo=UTC)  # 04:30 in Berlin: fine
    assert as_clinic_time(aware, BERLIN) is aware


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected_local", "expected_utc"),
    [
        # Inside the spring gap: moved forward by the gap, never back.
        (BERLIN, dt.date(2026, 3, 29), dt.time(2, 30), dt.time(3, 30), dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (NEW_YORK, dt.date(2026, 3, 8), dt.time(2, 0), dt.time(3, 0), dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        # Outside any gap: the wall time itself, first occurrence in autumn.
        (BERLIN, dt.date(2026, 3, 29), dt.time(8, 0), dt.time(8, 0), dt.datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
        (BERLIN, dt.date(2026, 10, 25), dt.time(2, 30), dt.time(2, 30), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (NEW_YORK, dt.date(2026, 11, 1), dt.time(8, 0), dt.time(8, 0), dt.datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
    ],
)
def test_at_local(tz, day, wall, expected_local, expected_utc):
    moment = at_local(day, wall, tz)
    assert moment.astimezone(UTC) == expected_utc
    assert moment.astimezone(tz).time() == expected_local
    assert moment.astimezone(tz).date() == day


@pytest.mark.parametrize(
    ("zone", "day", "first_hour"),
    [
        ("America/Santiago", dt.date(2026, 9, 6), 1),  # springs forward at midnight
        ("Asia/Beirut", dt.date(2026, 3, 29), 1),
        ("America/Havana", dt.date(2026, 3, 8), 1),
        ("Europe/Berlin", dt.date(2026, 3, 29), 0),
        ("Europe/Berlin", dt.date(2026, 10, 25), 0),
    ],
)
def test_local_midnight_is_the_first_instant_of_the_day(zone, day, first_hour):
    tz = zoneinfo.ZoneInfo(zone)
    moment = local_midnight(day, tz)
    local = moment.astimezone(tz)
    assert (local.date(), local.hour, local.minute) == (day, first_hour, 0)
    # Nothing of that day comes before it.
    assert (moment.astimezone(UTC) - dt.timedelta(seconds=1)).astimezone(tz).date() < day
