"""SPEC §3's worked example, through the services."""

import datetime as dt

import time_machine

from sessions import services
from sessions.models import Deviation, DeviationKind, SessionStatus
from tests.factories import lot_of

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
        done = services.complete_session(
            session=second, by=clinician, outcomes=[{"measure": "pain_vas", "value": 2}], lot=lot_of(second.clinic)
        )
    assert done.status == SessionStatus.COMPLETED
    third.refresh_from_db()
    assert (third.target_date, third.window_start, third.window_end) == (
        dt.date(2026, 4, 8),
        dt.date(2026, 4, 8),
        dt.date(2026, 4, 22),
    )


def test_the_cascade_through_the_services(patient, hair_protocol, receptionist, clinician):
    """Late completion, a no-show, a skip and a booked later session that
    leaves its window and comes back, on the worked example's course."""
    def at(when):
        return time_machine.travel(dt.datetime.fromisoformat(when), tick=False)

    def book(session, start, when="2026-02-20T09:00:00+00:00", **answer):
        with at(when):
            return services.book_session(
                session=session, start=dt.datetime.fromisoformat(start), practitioner=clinician, by=receptionist,
                **answer,
            )

    def state():
        return [
            (s.status, s.target_date.isoformat(), s.out_of_window)
            for s in enrolment.sessions.order_by("sequence")
        ]

    with time_machine.travel(BERLIN_MORNING, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist
        )
    s1, s2, s3, s4, s5 = enrolment.sessions.order_by("sequence")[:5]
    book(s1, "2026-03-02T10:00:00+01:00")
    book(s2, "2026-03-25T10:00:00+01:00")
    with at("2026-03-02T09:30:00+00:00"):
        services.complete_session(session=s1, by=clinician, outcomes=[{"measure": "hair_density", "value": 100}])
    with at("2026-03-25T09:50:00+00:00"):
        services.complete_session(
            session=s2, by=clinician, outcomes=[{"measure": "pain_vas", "value": 2}], lot=lot_of(s2.clinic)
        )
    assert [t for _, t, _ in state()] == [
        "2026-03-02", "2026-03-16", "2026-04-08", "2026-04-22", "2026-05-06", "2026-05-20", "2026-06-03",
    ]

    book(s3, "2026-04-10T10:00:00+02:00", when="2026-03-26T09:00:00+00:00")
    assert state()[3][1] == "2026-04-24"
    with at("2026-04-10T08:30:00+00:00"):
        services.mark_no_show(session=s3, by=receptionist)
    assert state()[2:4] == [("planned", "2026-04-08", False), ("planned", "2026-04-22", False)]
    with at("2026-04-10T09:00:00+00:00"):
        services.skip_session(session=s3, by=clinician, reason="Patient away until May")
    assert state()[2:4] == [("skipped", "2026-04-08", False), ("planned", "2026-04-22", False)]

    book(s5, "2026-05-08T10:00:00+02:00", when="2026-04-10T09:00:00+00:00")
    # #5's booking falls out of its window: kept, as a deviation (issue 24: the move must say so).
    book(s4, "2026-05-04T10:00:00+02:00", when="2026-04-10T09:00:00+00:00", later_bookings="keep")
    assert state()[3:6] == [
        ("booked", "2026-04-22", False),
        ("booked", "2026-05-18", True),  # its 05-08 booking is before its new window
        ("planned", "2026-05-22", False),  # counts from that booking
    ]
    book(s4, "2026-04-23T10:00:00+02:00", when="2026-04-10T09:00:00+00:00")
    assert state()[3:6] == [
        ("booked", "2026-04-22", False),
        ("booked", "2026-05-07", False),  # back inside 05-07..05-21
        ("planned", "2026-05-22", False),
    ]
    s3.refresh_from_db()
    assert s3.missed_count == 1
    assert sorted(Deviation.objects.filter(session=s3).values_list("kind", flat=True)) == [
        DeviationKind.NO_SHOW, DeviationKind.SKIPPED,
    ]
    assert not Deviation.objects.filter(session=s4).exists()
    # Kept when #4 moved: one deviation on #5, saying so (issue 24).
    [kept] = Deviation.objects.filter(session=s5)
    assert kept.kind == DeviationKind.OUT_OF_WINDOW and kept.reason.startswith("Kept when Injection #4 moved")
