"""Fixtures and helpers of the session tests: a clock, enrolments whose
dates follow from SPEC §3's worked example, and clinics in other zones."""

import datetime as dt
import functools

import pytest
import time_machine

from clinics.models import Role
from tests import factories
from tests.factories import ClinicFactory, PatientFactory, UserFactory, make_protocol, step

UTC = dt.UTC

# A Friday, well before every course in these tests starts.
BEFORE_ALL = "2026-02-20T09:00:00+00:00"


def clock(when: str):
    """Stop time at an ISO 8601 instant (with its offset) for the block."""
    return time_machine.travel(dt.datetime.fromisoformat(when), tick=False)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


# The session tests enrol before every course starts (tests.factories.enrol).
enrol = functools.partial(factories.enrol, at=BEFORE_ALL)


def sessions_of(enrolment):
    return list(enrolment.sessions.select_related("step").order_by("sequence"))


@pytest.fixture
def hair_course(patient, hair_protocol, receptionist):
    """SPEC §3's worked example, enrolled on 2026-03-02 (Berlin, CET)."""
    return enrol(patient, hair_protocol, "2026-03-02", receptionist)


class ZoneWorld:
    """A clinic in some zone, with a clinician, a patient and a protocol
    whose one step may be booked on any day from its start for 300 days."""

    def __init__(self, zone: str):
        self.clinic = ClinicFactory(timezone=zone)
        self.tz = self.clinic.tz
        self.clinician = UserFactory(clinic=self.clinic, role=Role.CLINICIAN)
        self.receptionist = UserFactory(clinic=self.clinic, role=Role.RECEPTION)
        self.patient = PatientFactory(clinic=self.clinic)
        self.protocol = make_protocol(
            self.clinic, steps=[step("Treatment", repeat=2, window_after_days=300, duration_minutes=45)]
        )

    def session(self, start: str = "2026-03-01"):
        enrolment = enrol(self.patient, self.protocol, start, self.receptionist)
        return sessions_of(enrolment)[0]


@pytest.fixture
def zone_world(db):
    return ZoneWorld
