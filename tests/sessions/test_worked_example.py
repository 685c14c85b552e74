"""SPEC §3's worked example, through the services."""

import datetime as dt

import time_machine

from sessions import services
from sessions.models import SessionStatus

BERLIN_MORNING = dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.UTC)


def dates(enrolment):
    return [
        (s.sequence, s.target_date.isoformat(), s.window_start.isoformat(), s.window_end.isoformat())
        for s in enrolment.sessions.order_by("sequence")
    ]


@time_machine.travel(BERLIN_MORNING, tick=False)
def test_enrolment_gives_the_worked_example_dates(patient, hair_protocol, receptionist):
    enrolment = services.enrol_patient(
        patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist
    )
    got = dates(enrolment)
    assert got[0] == (1, "2026-03-02", "2026-03-02", "2026-03-02")
    assert got[1] == (2, "2026-03-16", "2026-03-16", "2026-03-30")
    assert len(got) == 7


def test_late_completion_moves_the_next_treatment(patient, hair_protocol, receptionist, clinician):
    with time_machine.travel(BERLIN_MORNING, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist
        )
    first, second, third = enrolment.sessions.order_by("sequence")[:3]
    with time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC), tick=False):
        services.book_session(
            session=first, start=dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), practitioner=clinician, by=receptionist
        )
        services.book_session(
            session=second,
            start=dt.datetime(2026, 3, 25, 9, 0, tzinfo=dt.UTC),
            practitioner=clinician,
            by=receptionist,
        )
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC), tick=False):
        services.complete_session(session=first, by=clinician, outcomes=[{"measure": "hair_density", "value": 100}])
    with time_machine.travel(dt.datetime(2026, 3, 25, 9, 50, tzinfo=dt.UTC), tick=False):
        done = services.complete_session(session=second, by=clinician, outcomes=[{"measure": "pain_vas", "value": 2}])
    assert done.status == SessionStatus.COMPLETED
    third.refresh_from_db()
    assert (third.target_date, third.window_start, third.window_end) == (
        dt.date(2026, 4, 8),
        dt.date(2026, 4, 8),
        dt.date(2026, 4, 22),
    )
