"""Dates in the reader's language through Django's formats (SPEC §20)."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from core.languages import clock_time, long_date, long_time

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WEDNESDAY_1000 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)  # 10:00 in Berlin (CET)


@pytest.mark.parametrize(
    ("language", "when", "day"),
    [
        ("de", "Mittwoch, 2. Dezember 2026, 10:00", "Mittwoch, 2. Dezember 2026"),
        ("en", "Wednesday 2 December 2026, 10:00", "Wednesday 2 December 2026"),
        ("en-gb", "Wednesday 2 December 2026, 10:00", "Wednesday 2 December 2026"),  # LANGUAGE_CODE
    ],
)
def test_a_visit_in_each_language(language, when, day):
    with translation.override(language):
        assert long_time(WEDNESDAY_1000, BERLIN) == when
        assert long_date(dt.date(2026, 12, 2)) == day


def test_the_clinics_wall_clock_on_either_side_of_a_dst_change():
    with translation.override("de"):
        # 09:00 in Berlin the day before and the day after the spring change.
        assert long_time(dt.datetime(2026, 3, 28, 8, 0, tzinfo=dt.UTC), BERLIN) == "Samstag, 28. März 2026, 09:00"
        assert long_time(dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC), BERLIN) == "Montag, 30. März 2026, 09:00"
        assert clock_time(dt.datetime(2026, 3, 30, 7, 15, tzinfo=dt.UTC), BERLIN) == "09:15"
