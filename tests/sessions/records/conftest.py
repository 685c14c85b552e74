"""Fixtures for the clinical records (SPEC §12): the API personas and the
hair course of tests/api, a booked first injection whose start has passed."""

import pytest
import time_machine

from sessions import services
from tests.api.conftest import NOW, START, at, baseline, enrolment, first_injection, frozen, room  # noqa: F401

INJECTION_DAY = START.replace(day=16)


@pytest.fixture
def booked_injection(clinician, receptionist, first_injection):  # noqa: F811
    """The first injection booked for 16 March 10:00; time stands at 10:50 that day."""
    with time_machine.travel(NOW, tick=False):
        services.book_session(session=first_injection, start=at(INJECTION_DAY, 10), practitioner=clinician, by=receptionist)
    with time_machine.travel(at(INJECTION_DAY, 10, 50), tick=False):
        first_injection.refresh_from_db()
        yield first_injection
