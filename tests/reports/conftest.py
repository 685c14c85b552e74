"""A cohort built through the services: each course a baseline visit and an
end-of-course visit four weeks later, booked and completed at their times."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sessions import services
from tests.factories import PatientFactory, complete_visit, make_protocol, step
from tests.web.conftest import browser, console, new_page  # noqa: F401 (the browser fixtures)

START = dt.date(2026, 3, 2)  # a Monday
END_VISIT = dt.date(2026, 3, 30)
BERLIN = ZoneInfo("Europe/Berlin")

STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density", "itch_nrs"]),
    step("End-of-course assessment", "assessment", interval_days=28, window_after_days=14,
         measures=["hair_density", "itch_nrs"], primary_endpoint=True),
]


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=BERLIN)


@pytest.fixture
def course_protocol(clinic):
    return make_protocol(clinic, steps=STEPS, name="Hair course")


@pytest.fixture
def make_course(clinic, receptionist, clinician, course_protocol):
    """make_course(baseline={...}, end={...} or None, patient=...) → the enrolment.
    `end=None` leaves the end visit planned; a value dict of {} completes the
    visit without values (a reason given)."""
    hour = iter(range(8, 20))

    def make(baseline, end=None, *, protocol=None, patient=None, start=START, **patient_fields):
        slot = next(hour)
        patient = patient or PatientFactory(clinic=clinic, **patient_fields)
        with time_machine.travel(at(start - dt.timedelta(days=1), 8), tick=False):
            enrolment = services.enrol_patient(
                patient=patient, protocol=protocol or course_protocol, start_date=start, by=receptionist
            )
            first, last = enrolment.sessions.order_by("sequence")
            services.book_session(session=first, start=at(start, slot), practitioner=clinician, by=receptionist)
        with time_machine.travel(at(start, slot + 1), tick=False):
            _complete(first, baseline, clinician)
        if end is not None:
            end_day = start + dt.timedelta(days=28)
            with time_machine.travel(at(end_day - dt.timedelta(days=1), 8), tick=False):
                services.book_session(session=last, start=at(end_day, slot), practitioner=clinician, by=receptionist)
            with time_machine.travel(at(end_day, slot + 1), tick=False):
                _complete(last, end, clinician)
        return enrolment

    return make


END_DENSITY = [110, 120, 130, 140, 150, 100, 90, 125, 135, 145]
END_ITCH = [3, 4, 5, 2, 8, 7, 4, 1, 6, 9]


@pytest.fixture
def ten(make_course):
    """Ten courses with answers known by hand (tests/reports/test_cohort.py)."""
    return [
        make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": density, "itch_nrs": itch})
        for density, itch in zip(END_DENSITY, END_ITCH, strict=True)
    ]


def _complete(session, values, clinician):
    outcomes = [{"measure": code, "value": value} for code, value in values.items()]
    missing = {"hair_density", "itch_nrs"} - set(values)
    # No lot: the cohort's lot filter is tested on lots set by hand.
    complete_visit(
        session, clinician, lot=None, outcomes=outcomes,
        not_done_reason=f"Not measured: {', '.join(sorted(missing))}." if missing else "",
    )
