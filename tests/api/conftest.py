"""Personas and helpers for the API tests. Time stands still at NOW (a
Sunday morning in Berlin) unless a test moves it; the clinic is open
08:00–20:00 every day (tests/factories.py)."""

import datetime as dt

import pytest
import time_machine

from sessions import services
from tests.factories import RoomFactory

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
START = dt.date(2026, 3, 2)  # enrolment start: the baseline's target and whole window


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def room(clinic):
    return RoomFactory(clinic=clinic, name="Room 1")


@pytest.fixture
def enrolment(frozen, patient, hair_protocol, receptionist):
    return services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=START, by=receptionist)


@pytest.fixture
def baseline(enrolment):
    return enrolment.sessions.get(sequence=1)


@pytest.fixture
def first_injection(enrolment):
    return enrolment.sessions.get(sequence=2)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Berlin wall-clock time (no DST change in the test dates' range) as an aware instant."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo("Europe/Berlin"))
