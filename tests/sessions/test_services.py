"""The session workflows of SPEC §3 and §4, through the services, on PostgreSQL.

The course is SPEC §3's worked example in a Berlin clinic (CET until
2026-03-29): session 1 is the baseline on 03-02, session 2 the first
injection, window 03-16..03-30, 45 minutes."""

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from clinics.models import Closure, Role
from core.exceptions import Conflict
from patients.models import EnrolmentStatus
from protocols.services import update_protocol
from sessions import services
from sessions.models import (
    AdverseEvent,
    Deviation,
    DeviationKind,
    OutcomeMeasurement,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
)
from tests.factories import (
    HAIR_STEPS,
    PatientFactory,
    RoomFactory,
    UserFactory,
    complete_visit,
    lot_of,
    make_protocol,
    step,
)
from tests.sessions.conftest import BEFORE_ALL, clock, enrol, sessions_of, utc

MONDAY_TEN = utc(2026, 3, 16, 9, 0)  # 10:00 CET, on session 2's target date
BEFORE_ALL_UTC = dt.datetime.fromisoformat(BEFORE_ALL)  # when `book` books by default


def book(session, start, by, practitioner=None, when=BEFORE_ALL, **extra):
    with clock(when):
        return services.book_session(
            session=session, start=start, practitioner=practitioner or by, by=by, **extra
        )


def snapshot(session):
    row = Session.objects.get(pk=session.pk)
    return (
        row.status, row.start, row.end, row.practitioner_id, row.room_id, row.out_of_window,
        row.missed_count, row.target_date,
        sorted(Reminder.objects.filter(session=session).values_list("kind", "status", "due_at")),
        Deviation.objects.filter(session=session).count(),
    )


def pending(session, kind=None):
    rows = Reminder.objects.filter(session=session, status=ReminderStatus.PENDING)
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("kind", "due_at"))


@pytest.fixture
def course(hair_course):
    return sessions_of(hair_course)


@pytest.fixture
def booked(course, clinician):
    """Session 2, booked on its target date at 10:00 local."""
    return book(course[1], MONDAY_TEN, clinician)


# --- book, rebook, cancel --------------------------------------------------------------------------


def test_book_a_planned_session(course, receptionist, clinician):
    room = RoomFactory(clinic=receptionist.clinic)
    assert pending(course[1]) == [(ReminderKind.WINDOW_OPEN, utc(2026, 3, 16, 7, 0))]  # 08:00 CET
    session = book(course[1], utc(2026, 3, 20, 9, 0), receptionist, practitioner=clinician, room=room)
    assert session.status == SessionStatus.BOOKED
    assert (session.start, session.end) == (utc(2026, 3, 20, 9, 0), utc(2026, 3, 20, 9, 45))
    assert (session.practitioner, session.room, session.out_of_window) == (clinician, room, False)
    assert not Deviation.objects.filter(session=session).exists()
    # The 72- and 24-hour reminders replace "time to book"; the patient is
    # sent a confirmation at once (SPEC §13).
    assert pending(session) == [
        (ReminderKind.BOOKED, utc(2026, 3, 17, 9, 0)),
        (ReminderKind.BOOKED, utc(2026, 3, 19, 9, 0)),
        (ReminderKind.CONFIRMATION, BEFORE_ALL_UTC),
    ]
    # Four days after the target: the next treatment counts from the booking,
    # and its "time to book" email moves with its window.
    assert Session.objects.get(pk=course[2].pk).target_date == dt.date(2026, 4, 3)
    assert pending(course[2]) == [(ReminderKind.WINDOW_OPEN, utc(2026, 4, 3, 6, 0))]  # 08:00 CEST


def test_rebooking_into_its_own_old_slot_is_not_an_overlap(booked, clinician):
    session = book(booked, utc(2026, 3, 16, 9, 15), clinician)
    assert (session.start, session.end) == (utc(2026, 3, 16, 9, 15), utc(2026, 3, 16, 10, 0))


def test_rebook_moves_the_booking_its_reminders_and_the_cascade(booked, receptionist, clinician):
    old_reminders = set(Reminder.objects.filter(session=booked).values_list("pk", flat=True))
    session = book(booked, utc(2026, 3, 18, 13, 0), receptionist, practitioner=clinician)
    assert (session.status, session.start) == (SessionStatus.BOOKED, utc(2026, 3, 18, 13, 0))
    assert set(
        Reminder.objects.filter(pk__in=old_reminders).values_list("status", flat=True)
    ) == {ReminderStatus.VOID}
    # The first confirmation never went out: the new time is confirmed instead.
    assert pending(session) == [
        (ReminderKind.BOOKED, utc(2026, 3, 15, 13, 0)),
        (ReminderKind.BOOKED, utc(2026, 3, 17, 13, 0)),
        (ReminderKind.CONFIRMATION, BEFORE_ALL_UTC),
    ]
    assert Session.objects.get(enrolment=booked.enrolment, sequence=3).target_date == dt.date(2026, 4, 1)


def test_cancel_a_booking(course, receptionist, clinician):
    session = book(course[1], utc(2026, 3, 20, 9, 0), clinician)
    with clock(BEFORE_ALL):
        session = services.cancel_booking(session=session, by=receptionist)
    assert session.status == SessionStatus.PLANNED
    assert (session.start, session.end, session.practitioner, session.room) == (None, None, None, None)
    assert pending(session) == [(ReminderKind.WINDOW_OPEN, utc(2026, 3, 16, 7, 0))]
    assert not Reminder.objects.filter(session=session, kind=ReminderKind.BOOKED, status=ReminderStatus.PENDING)
    assert Session.objects.get(pk=course[2].pk).target_date == dt.date(2026, 3, 30)


def _skip(session, by, at=BEFORE_ALL, reason="Patient unwell"):
    with clock(at):
        return services.skip_session(session=session, by=by, reason=reason)


@pytest.fixture
def completed(booked, clinician):
    return complete_visit(booked, clinician, "2026-03-16T09:50:00+00:00", outcomes=[{"measure": "pain_vas", "value": 3}])


@pytest.fixture
def skipped(course, clinician):
    return _skip(course[1], clinician)


OPERATIONS = {
    "book": lambda s, u: services.book_session(session=s, start=MONDAY_TEN, practitioner=u, by=u),
    "cancel": lambda s, u: services.cancel_booking(session=s, by=u),
    "no_show": lambda s, u: services.mark_no_show(session=s, by=u),
    "skip": lambda s, u: services.skip_session(session=s, by=u, reason="why not"),
    "complete": lambda s, u: services.complete_session(session=s, by=u, not_done_reason="n/a", lot=lot_of(s.clinic)),
}


@pytest.mark.parametrize(
    ("state", "operation"),
    [
        ("completed", "book"), ("completed", "cancel"), ("completed", "no_show"), ("completed", "skip"),
        ("completed", "complete"),
        ("skipped", "book"), ("skipped", "cancel"), ("skipped", "no_show"), ("skipped", "skip"),
        ("skipped", "complete"),
        ("course", "cancel"), ("course", "no_show"), ("course", "complete"),  # planned
    ],
)
def test_wrong_state_is_a_conflict_and_changes_nothing(request, state, operation, clinician):
    target = request.getfixturevalue(state)
    session = target[1] if state == "course" else target
    before = snapshot(session)
    with clock("2026-03-20T12:00:00+00:00"), pytest.raises(Conflict):
        OPERATIONS[operation](session, clinician)
    assert snapshot(session) == before


# --- no-show ---------------------------------------------------------------------------------------


def test_no_show_only_from_the_booked_start_on(booked, receptionist):
    with clock("2026-03-16T08:59:59+00:00"), pytest.raises(Conflict):
        services.mark_no_show(session=booked, by=receptionist)
    assert Session.objects.get(pk=booked.pk).status == SessionStatus.BOOKED


def test_no_show_returns_to_planned_and_voids_reminders(course, receptionist, clinician):
    session = book(course[1], utc(2026, 3, 20, 9, 0), clinician)
    assert Session.objects.get(pk=course[2].pk).target_date == dt.date(2026, 4, 3)
    booked_rows = list(Reminder.objects.filter(session=session, kind=ReminderKind.BOOKED).values_list("pk", flat=True))
    with clock("2026-03-20T09:30:00+00:00"):
        session = services.mark_no_show(session=session, by=receptionist, reason="Did not come")
    assert session.status == SessionStatus.PLANNED
    assert (session.start, session.practitioner, session.missed_count) == (None, None, 1)
    deviation = Deviation.objects.get(session=session)
    assert (deviation.kind, deviation.reason, deviation.by) == (DeviationKind.NO_SHOW, "Did not come", receptionist)
    assert set(Reminder.objects.filter(pk__in=booked_rows).values_list("status", flat=True)) == {ReminderStatus.VOID}
    assert pending(session) == [(ReminderKind.MISSED, utc(2026, 3, 20, 9, 30))]
    # Planned again, so the next one counts from its target (03-16) again.
    assert Session.objects.get(pk=course[2].pk).target_date == dt.date(2026, 3, 30)
    # Booked again: the "we missed you" email is no longer owed; the count stays.
    session = book(session, utc(2026, 3, 24, 9, 0), receptionist, practitioner=clinician, when="2026-03-20T10:00:00+00:00")
    assert session.missed_count == 1
    assert not pending(session, ReminderKind.MISSED)


# --- skip ------------------------------------------------------------------------------------------


def test_skip_needs_a_reason_and_a_clinician(course, receptionist, clinician):
    before = snapshot(course[1])
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            _skip(course[1], clinician, reason=reason)
        assert list(error.value.message_dict) == ["reason"]
    with pytest.raises(PermissionDenied):
        _skip(course[1], receptionist)
    assert snapshot(course[1]) == before


def test_skip_a_booked_session(course, clinician):
    session = book(course[1], utc(2026, 3, 20, 9, 0), clinician)
    session = _skip(session, clinician, reason="Travelling")
    assert session.status == SessionStatus.SKIPPED
    assert (session.start, session.practitioner, session.skip_reason) == (None, None, "Travelling")
    deviation = Deviation.objects.get(session=session)
    assert (deviation.kind, deviation.reason, deviation.by) == (DeviationKind.SKIPPED, "Travelling", clinician)
    assert not pending(session)
    # A skipped session passes its target (03-16), not its old booking, on.
    assert Session.objects.get(pk=course[2].pk).target_date == dt.date(2026, 3, 30)


# --- complete --------------------------------------------------------------------------------------


def test_completion_needs_a_clinician_and_a_booking_that_has_begun(course, booked, receptionist, clinician):
    with pytest.raises(PermissionDenied):
        complete_visit(booked, receptionist, "2026-03-16T10:00:00+00:00", outcomes=[{"measure": "pain_vas", "value": 3}])
    with pytest.raises(Conflict):
        complete_visit(booked, clinician, "2026-03-16T08:59:59+00:00", outcomes=[{"measure": "pain_vas", "value": 3}])
    with pytest.raises(Conflict):  # planned, not a home session: book it first
        complete_visit(course[2], clinician, "2026-03-31T10:00:00+00:00", not_done_reason="n/a")
    assert Session.objects.get(pk=booked.pk).status == SessionStatus.BOOKED
    done = complete_visit(booked, clinician, "2026-03-16T09:00:00+00:00", outcomes=[{"measure": "pain_vas", "value": 3}])
    assert (done.status, done.completed_at, done.completed_by) == (
        SessionStatus.COMPLETED, utc(2026, 3, 16, 9, 0), clinician,
    )
    assert not pending(done)


def test_late_completion_moves_the_next_session(course, clinician):
    session = book(course[1], utc(2026, 3, 25, 9, 0), clinician)
    # Completed a day after its booking: the completion date counts.
    complete_visit(session, clinician, "2026-03-26T09:00:00+00:00", outcomes=[{"measure": "pain_vas", "value": 2}])
    third = Session.objects.get(pk=course[2].pk)
    assert (third.target_date, third.window_start, third.window_end) == (
        dt.date(2026, 4, 9), dt.date(2026, 4, 9), dt.date(2026, 4, 23),
    )


def test_completion_stores_outcomes_adverse_events_and_product(booked, clinician):
    done = complete_visit(
        booked, clinician, "2026-03-16T09:45:00+00:00",
        outcomes=[{"measure": "pain_vas", "value": "4"}, {"measure": "hair_density", "value": 120.25}],
        notes="Tolerated well",
        lot=lot_of(booked.clinic, "LOT-2026-042"),
        product_form="lyophilised",
        product_concentration="2 mg/ml",
        adverse_events=[
            {"description": "Erythema at injection site", "severity": "mild", "related_to_treatment": "yes"},
            {"description": "Headache", "severity": "moderate"},
        ],
    )
    done = Session.objects.get(pk=done.pk)
    assert (done.notes, done.product_lot, done.product_source, done.product_form, done.product_concentration) == (
        "Tolerated well", "LOT-2026-042", "umbilical_cord", "lyophilised", "2 mg/ml",
    )
    assert sorted(OutcomeMeasurement.objects.filter(session=done).values_list("measure__code", "value")) == [
        ("hair_density", Decimal("120.25")), ("pain_vas", Decimal("4")),
    ]
    assert set(OutcomeMeasurement.objects.filter(session=done).values_list("recorded_by", flat=True)) == {clinician.pk}
    events = sorted(AdverseEvent.objects.filter(session=done).values_list("description", "severity", "related_to_treatment", "reported_by"))
    assert events == [
        ("Erythema at injection site", "mild", "yes", clinician.pk),
        ("Headache", "moderate", "unknown", clinician.pk),
    ]


@pytest.mark.parametrize(
    "outcomes",
    [
        [{"measure": "pain_vas", "value": 11}],  # above 0-10
        [{"measure": "pain_vas", "value": -1}],
        [{"measure": "pain_vas", "value": 2.5}],  # an integer measure
        [{"measure": "pain_vas", "value": "3.0001"}],
        [{"measure": "pain_vas", "value": math.nan}],
        [{"measure": "pain_vas", "value": math.inf}],
        [{"measure": "pain_vas", "value": -math.inf}],
        [{"measure": "pain_vas", "value": "NaN"}],
        [{"measure": "pain_vas", "value": "sNaN"}],
        [{"measure": "pain_vas", "value": "Infinity"}],
        [{"measure": "pain_vas", "value": "seven"}],
        [{"measure": "pain_vas", "value": ""}],
        [{"measure": "pain_vas", "value": None}],
        [{"measure": "pain_vas", "value": True}],
        [{"measure": "pain_vas", "value": "1e999999"}],
        [{"measure": "pain_vas"}],
        [{"measure": "pain_vass", "value": 3}],  # unknown code
        [{"measure": "pain_vas", "value": 3}, {"measure": "pain_vas", "value": 4}],  # twice
        [{"measure": "pain_vas", "value": 3}, {"measure": "hair_density", "value": "100.00001"}],
        [],  # the step records pain_vas
        [{"measure": "hair_density", "value": 100}],
    ],
)
def test_bad_outcomes_are_refused_and_change_nothing(booked, clinician, outcomes):
    before = snapshot(booked)
    with pytest.raises(ValidationError) as error:
        complete_visit(booked, clinician, "2026-03-16T10:00:00+00:00", outcomes=outcomes)
    assert list(error.value.message_dict) == ["outcomes"]
    assert snapshot(booked) == before
    assert not OutcomeMeasurement.objects.exists()


def test_measures_may_be_left_out_with_a_not_done_reason(booked, clinician):
    done = complete_visit(booked, clinician, "2026-03-16T10:00:00+00:00", not_done_reason="Patient declined the VAS")
    assert (done.status, done.not_done_reason) == (SessionStatus.COMPLETED, "Patient declined the VAS")
    assert not OutcomeMeasurement.objects.filter(session=done).exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"adverse_events": [{"description": "Bruise", "severity": "catastrophic"}]}, "adverse_events"),
        ({"adverse_events": [{"description": " ", "severity": "mild"}]}, "adverse_events"),
        ({"adverse_events": [{"description": "Bruise", "severity": "mild", "related_to_treatment": "maybe"}]}, "adverse_events"),
        ({"product_source": "placenta"}, "product_source"),
        ({"product_form": "powder"}, "product_form"),
    ],
)
def test_bad_adverse_events_and_products_are_refused(booked, clinician, extra, field):
    before = snapshot(booked)
    with pytest.raises(ValidationError) as error:
        complete_visit(booked, clinician, "2026-03-16T10:00:00+00:00", outcomes=[{"measure": "pain_vas", "value": 3}], **extra)
    assert list(error.value.message_dict) == [field]
    assert snapshot(booked) == before
    assert not AdverseEvent.objects.exists()


# --- window and override_reason --------------------------------------------------------------------

OUTSIDE = utc(2026, 3, 31, 9, 0)  # the window ends on 03-30


def test_reception_cannot_book_outside_the_window(course, receptionist, clinician):
    before = snapshot(course[1])
    with pytest.raises(ValidationError) as error:
        book(course[1], OUTSIDE, receptionist, practitioner=clinician)
    assert list(error.value.message_dict) == ["start"]
    with pytest.raises(PermissionDenied):
        book(course[1], OUTSIDE, receptionist, practitioner=clinician, override_reason="Patient on holiday")
    assert snapshot(course[1]) == before


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.MANAGER])
def test_clinician_or_manager_books_outside_with_a_reason(course, clinician, role):
    staff = UserFactory(clinic=clinician.clinic, role=role)
    with pytest.raises(ValidationError) as error:
        book(course[1], OUTSIDE, staff, override_reason="   ")
    assert list(error.value.message_dict) == ["start"]
    session = book(course[1], OUTSIDE, staff, override_reason="Patient on holiday")
    assert (session.status, session.out_of_window) == (SessionStatus.BOOKED, True)
    deviation = Deviation.objects.get(session=session)
    assert (deviation.kind, deviation.reason, deviation.by) == (DeviationKind.OUT_OF_WINDOW, "Patient on holiday", staff)
    # Before the window opens is outside too.
    early = book(course[1], utc(2026, 3, 13, 9, 0), staff, override_reason="Earlier suits")
    assert early.out_of_window is True
    assert Deviation.objects.filter(session=session).count() == 2


def test_window_edges_are_inside(course, clinician):
    # First and last day of the window, in local time: 03-16 08:00 CET and 03-30 19:15 CEST.
    assert book(course[1], utc(2026, 3, 16, 7, 0), clinician).out_of_window is False
    assert book(course[1], utc(2026, 3, 30, 17, 15), clinician).out_of_window is False
    # 23:30 UTC on 03-15 is 00:30 on 03-16 in Berlin, but the clinic is shut then.
    with pytest.raises(ValidationError):
        book(course[1], utc(2026, 3, 15, 23, 30), clinician)


# --- opening hours, closures, the past ------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        utc(2026, 3, 16, 6, 45),  # 07:45 local, before opening
        utc(2026, 3, 16, 18, 30),  # 19:30 local, ends 20:15
        utc(2026, 3, 16, 19, 0),  # 20:00 local, at closing
    ],
)
def test_outside_opening_hours_is_refused(course, clinician, start):
    before = snapshot(course[1])
    with pytest.raises(ValidationError) as error:
        book(course[1], start, clinician)
    assert list(error.value.message_dict) == ["start"]
    assert snapshot(course[1]) == before


def test_opening_hours_edges_are_bookable(course, clinician):
    assert book(course[1], utc(2026, 3, 16, 7, 0), clinician).start == utc(2026, 3, 16, 7, 0)  # 08:00
    assert book(course[1], utc(2026, 3, 16, 18, 15), clinician).end == utc(2026, 3, 16, 19, 0)  # ends 20:00


def test_closed_weekday_and_lunch_break(course, clinician):
    clinic = clinician.clinic
    clinic.opening_hours.filter(weekday=0).delete()  # 2026-03-16 is a Monday
    with pytest.raises(ValidationError):
        book(course[1], MONDAY_TEN, clinician)
    clinic.opening_hours.filter(weekday=1).delete()
    clinic.opening_hours.create(weekday=1, opens=dt.time(8), closes=dt.time(12))
    clinic.opening_hours.create(weekday=1, opens=dt.time(13), closes=dt.time(18))
    with pytest.raises(ValidationError):  # 11:30-12:15 runs into lunch
        book(course[1], utc(2026, 3, 17, 10, 30), clinician)
    assert book(course[1], utc(2026, 3, 17, 12, 0), clinician).status == SessionStatus.BOOKED  # 13:00


def test_closure_date_is_refused(course, clinician):
    Closure.objects.create(clinic=clinician.clinic, date=dt.date(2026, 3, 16), reason="Staff training")
    with pytest.raises(ValidationError) as error:
        book(course[1], MONDAY_TEN, clinician)
    assert "2026-03-16" in error.value.message_dict["start"][0]
    assert book(course[1], utc(2026, 3, 17, 9, 0), clinician).status == SessionStatus.BOOKED


def test_the_past_is_refused(course, clinician):
    with pytest.raises(ValidationError) as error:
        book(course[1], MONDAY_TEN, clinician, when="2026-03-16T09:00:01+00:00")
    assert list(error.value.message_dict) == ["start"]
    assert book(course[1], MONDAY_TEN, clinician, when="2026-03-16T09:00:00+00:00").start == MONDAY_TEN


@pytest.mark.parametrize(
    "start",
    [
        dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ],
)
def test_starts_at_the_ends_of_time_are_refused_on_start(course, clinician, start):
    with pytest.raises(ValidationError) as error:
        book(course[1], start, clinician)
    assert list(error.value.message_dict) == ["start"]


def test_a_naive_start_is_refused(course, clinician):
    with pytest.raises(ValidationError) as error:
        book(course[1], dt.datetime(2026, 3, 16, 10, 0), clinician)
    assert list(error.value.message_dict) == ["start"]


def test_practitioner_and_room_must_be_of_this_clinic(course, receptionist, clinician, outsider):
    with pytest.raises(ValidationError) as error:
        book(course[1], MONDAY_TEN, receptionist)  # reception does not treat
    assert list(error.value.message_dict) == ["practitioner"]
    with pytest.raises(ValidationError) as error:
        book(course[1], MONDAY_TEN, receptionist, practitioner=outsider)
    assert list(error.value.message_dict) == ["practitioner"]
    for room in (RoomFactory(clinic=outsider.clinic), RoomFactory(clinic=clinician.clinic, active=False)):
        with pytest.raises(ValidationError) as error:
            book(course[1], MONDAY_TEN, clinician, room=room)
        assert list(error.value.message_dict) == ["room"]
    with pytest.raises(ValidationError):  # another clinic's staff cannot reach our session
        book(course[1], MONDAY_TEN, outsider)
    assert Session.objects.get(pk=course[1].pk).status == SessionStatus.PLANNED


# --- overlaps ---------------------------------------------------------------------------------------


@pytest.fixture
def second_course(clinic, hair_protocol, receptionist):
    """Another patient on the same course and dates."""
    return sessions_of(enrol(PatientFactory(clinic=clinic), hair_protocol, "2026-03-02", receptionist))


def test_practitioner_overlap_is_a_conflict_on_practitioner(booked, second_course, clinician):
    before = snapshot(second_course[1])
    with pytest.raises(Conflict) as error:
        book(second_course[1], utc(2026, 3, 16, 9, 30), clinician)
    assert error.value.field == "practitioner"
    assert snapshot(second_course[1]) == before
    # Back to back is fine: [09:00, 09:45) and [09:45, 10:30).
    assert book(second_course[1], utc(2026, 3, 16, 9, 45), clinician).status == SessionStatus.BOOKED


def test_room_overlap_is_a_conflict_on_room(course, second_course, clinician, manager):
    room = RoomFactory(clinic=clinician.clinic)
    book(course[1], MONDAY_TEN, clinician, room=room)
    with pytest.raises(Conflict) as error:
        book(second_course[1], utc(2026, 3, 16, 8, 30), manager, room=room)  # 09:30-10:15 local
    assert error.value.field == "room"
    assert book(second_course[1], utc(2026, 3, 16, 8, 30), manager).room is None


def test_patient_overlap_is_a_conflict_on_start(booked, patient, clinic, receptionist, manager):
    other_protocol = make_protocol(clinic, name="Scalp check", steps=[step("Check", interval_days=14, window_after_days=7)])
    other = sessions_of(enrol(patient, other_protocol, "2026-03-02", receptionist))[0]
    with pytest.raises(Conflict) as error:
        book(other, utc(2026, 3, 16, 9, 15), manager)
    assert error.value.field == "start"


def test_a_completed_session_still_holds_its_slot(completed, second_course, clinician):
    with pytest.raises(Conflict):
        book(second_course[1], MONDAY_TEN, clinician)


def test_a_freed_slot_can_be_taken(booked, second_course, clinician, receptionist):
    with clock(BEFORE_ALL):
        services.cancel_booking(session=booked, by=receptionist)
    assert book(second_course[1], MONDAY_TEN, clinician).start == MONDAY_TEN


# --- home sessions ---------------------------------------------------------------------------------


@pytest.fixture
def home_course(clinic, patient, receptionist):
    protocol = make_protocol(
        clinic,
        name="Serum at home",
        steps=[step("Baseline", "assessment"), step("Home serum", "home", repeat=2, interval_days=7, duration_minutes=0)],
    )
    return sessions_of(enrol(patient, protocol, "2026-03-02", receptionist))


def test_home_sessions_are_never_booked(home_course, clinician):
    with pytest.raises(Conflict):
        book(home_course[1], utc(2026, 3, 9, 9, 0), clinician)
    assert Session.objects.get(pk=home_course[1].pk).status == SessionStatus.PLANNED


def test_home_session_completes_from_its_local_target_date(home_course, clinician):
    home = home_course[1]
    assert home.target_date == dt.date(2026, 3, 9)
    assert pending(home) == [(ReminderKind.HOME, utc(2026, 3, 9, 7, 0))]  # 08:00 CET
    with pytest.raises(Conflict):  # 23:30 on 03-08 in Berlin
        complete_visit(home, clinician, "2026-03-08T22:30:00+00:00")
    done = complete_visit(home, clinician, "2026-03-08T23:30:00+00:00")  # 00:30 on 03-09 in Berlin
    assert (done.status, done.start, done.practitioner, done.room) == (SessionStatus.COMPLETED, None, None, None)
    assert not pending(home)
    # Completed on its target date: the next one stays a week later.
    assert Session.objects.get(pk=home_course[2].pk).target_date == dt.date(2026, 3, 16)


# --- withdraw ----------------------------------------------------------------------------------------


def test_withdraw_cancels_open_sessions_and_voids_reminders(completed, course, second_course, clinician, receptionist):
    third = book(course[2], utc(2026, 3, 30, 8, 0), clinician)
    enrolment = completed.enrolment
    with pytest.raises(PermissionDenied), clock(BEFORE_ALL):
        services.withdraw_enrolment(enrolment=enrolment, by=receptionist)
    with clock("2026-03-20T12:00:00+00:00"):
        services.withdraw_enrolment(enrolment=enrolment, by=clinician, reason="Moved away")
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.withdrawn_reason, enrolment.withdrawn_at) == (
        EnrolmentStatus.WITHDRAWN, "Moved away", utc(2026, 3, 20, 12, 0),
    )
    statuses = [s.status for s in sessions_of(enrolment)]
    # The baseline was never done, so it is cancelled too; the completed one stays.
    assert statuses == [SessionStatus.CANCELLED, SessionStatus.COMPLETED] + [SessionStatus.CANCELLED] * 5
    assert not Reminder.objects.filter(session__enrolment=enrolment, status=ReminderStatus.PENDING).exists()
    assert Reminder.objects.filter(session=third, status=ReminderStatus.VOID, kind=ReminderKind.BOOKED).count() == 2
    # Its slot is free again.
    assert book(second_course[2], utc(2026, 3, 30, 8, 0), clinician, when="2026-03-20T12:00:00+00:00").status == (
        SessionStatus.BOOKED
    )
    with clock("2026-03-20T12:00:00+00:00"), pytest.raises(Conflict):
        services.withdraw_enrolment(enrolment=enrolment, by=clinician)
    with pytest.raises(Conflict):
        book(Session.objects.get(pk=course[3].pk), utc(2026, 4, 20, 8, 0), clinician, when="2026-03-20T12:00:00+00:00")


# --- outcome corrections keep their history ---------------------------------------------------------


def test_correcting_an_outcome_keeps_the_history(completed, clinician, manager, receptionist):
    measurement = OutcomeMeasurement.objects.get(session=completed)
    with pytest.raises(PermissionDenied):
        services.correct_outcome(measurement=measurement, value=5, reason="Mistyped.", by=receptionist)
    with pytest.raises(ValidationError) as error:
        services.correct_outcome(measurement=measurement, value=12, reason="Mistyped.", by=manager)
    assert list(error.value.message_dict) == ["value"]
    with clock("2026-03-17T08:00:00+00:00"):
        services.correct_outcome(measurement=measurement, value=5, reason="Mistyped.", by=manager)
    measurement.refresh_from_db()
    assert (measurement.value, measurement.recorded_by) == (Decimal("5"), manager)
    history = list(measurement.history.order_by("history_date"))
    assert [(h.value, h.history_user, h.history_type) for h in history] == [
        (Decimal("3"), clinician, "+"),
        (Decimal("5"), manager, "~"),
    ]
    assert OutcomeMeasurement.objects.filter(session=completed).count() == 1


# --- protocol versions --------------------------------------------------------------------------------


def test_editing_a_protocol_with_enrolments_makes_version_two(hair_course, hair_protocol, manager, patient, receptionist):
    new_steps = [*HAIR_STEPS[:1], {**HAIR_STEPS[1], "repeat": 4, "interval_days": 21}]
    successor = update_protocol(protocol=hair_protocol, data={"name": "Hair regeneration"}, steps=new_steps, by=manager)
    hair_protocol.refresh_from_db()
    hair_course.refresh_from_db()
    assert successor.pk != hair_protocol.pk
    assert (successor.version, successor.is_current, successor.lineage) == (2, True, hair_protocol.lineage)
    assert (hair_protocol.version, hair_protocol.is_current) == (1, False)
    assert hair_course.protocol_id == hair_protocol.pk
    assert [s.step.protocol_id for s in sessions_of(hair_course)] == [hair_protocol.pk] * 7
    assert [s.step.interval_days for s in sessions_of(hair_course)][1:] == [14] * 6
    with pytest.raises(ValidationError) as error:
        enrol(patient, hair_protocol, "2026-03-09", receptionist)
    assert list(error.value.message_dict) == ["protocol"]
    fresh = enrol(PatientFactory(clinic=patient.clinic), successor, "2026-03-02", receptionist)
    assert [s.target_date.isoformat() for s in sessions_of(fresh)][:3] == ["2026-03-02", "2026-03-23", "2026-04-13"]


def test_a_new_version_without_new_steps_copies_the_steps(hair_course, hair_protocol, manager, clinician):
    with pytest.raises(PermissionDenied):
        update_protocol(protocol=hair_protocol, data={"name": "Mine"}, steps=None, by=clinician)
    successor = update_protocol(protocol=hair_protocol, data={"name": "Hair regeneration II"}, steps=None, by=manager)
    fields = ("position", "name", "kind", "repeat", "interval_days", "window_after_days", "duration_minutes")
    assert list(successor.steps.values_list(*fields)) == list(hair_protocol.steps.values_list(*fields))
    assert [list(s.measures.values_list("code", flat=True)) for s in successor.steps.all()] == [
        ["hair_density"], ["pain_vas"],
    ]
    assert (successor.name, successor.version) == ("Hair regeneration II", 2)
    hair_protocol.refresh_from_db()
    assert hair_protocol.name == "Hair regeneration"
    with pytest.raises(Conflict):  # the old version is history
        update_protocol(protocol=hair_protocol, data={"name": "Again"}, steps=None, by=manager)


def test_an_edit_that_changes_nothing_or_only_retires_makes_no_new_version(hair_course, hair_protocol, manager):
    same = update_protocol(
        protocol=hair_protocol, data={"name": hair_protocol.name, "indication": "hair"}, steps=HAIR_STEPS, by=manager
    )
    assert (same.pk, same.version, same.is_current) == (hair_protocol.pk, 1, True)
    retired = update_protocol(protocol=hair_protocol, data={"active": False}, steps=None, by=manager)
    assert (retired.pk, retired.version, retired.active) == (hair_protocol.pk, 1, False)
    assert list(retired.steps.values_list("repeat", flat=True)) == [1, 6]
    # Content and the flag together: a new version, which carries the flag.
    successor = update_protocol(protocol=retired, data={"active": True, "description": "v2"}, steps=None, by=manager)
    assert (successor.version, successor.active, successor.description) == (2, True, "v2")


def test_editing_a_protocol_without_enrolments_is_in_place(hair_protocol, manager):
    edited = update_protocol(
        protocol=hair_protocol, data={"description": "Every three weeks"},
        steps=[{**HAIR_STEPS[1], "interval_days": 21}], by=manager,
    )
    assert (edited.pk, edited.version, edited.is_current) == (hair_protocol.pk, 1, True)
    assert edited.description == "Every three weeks"
    assert list(edited.steps.values_list("interval_days", flat=True)) == [21]


# --- the enrolment completes when nothing is left open --------------------------------------------------


def test_enrolment_completes_when_nothing_is_left_open(clinic, patient, receptionist, clinician):
    protocol = make_protocol(
        clinic, name="Two visits",
        steps=[step("Visit", repeat=3, interval_days=7, window_after_days=7, duration_minutes=30)],
    )
    enrolment = enrol(patient, protocol, "2026-03-02", receptionist)
    first, second, third = sessions_of(enrolment)
    first = book(first, utc(2026, 3, 9, 9, 0), clinician)
    complete_visit(first, clinician, "2026-03-09T09:30:00+00:00")
    _skip(second, clinician, at="2026-03-10T09:00:00+00:00")
    third = book(third, utc(2026, 3, 23, 9, 0), clinician, when="2026-03-10T09:00:00+00:00")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE  # one is still booked
    complete_visit(third, clinician, "2026-03-23T09:30:00+00:00")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED


def test_enrolment_completes_when_its_last_open_session_is_skipped(clinic, patient, receptionist, clinician):
    protocol = make_protocol(clinic, name="One visit", steps=[step("Visit", interval_days=7, window_after_days=7)])
    enrolment = enrol(patient, protocol, "2026-03-02", receptionist)
    _skip(sessions_of(enrolment)[0], clinician)
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert not Reminder.objects.filter(session__enrolment=enrolment, status=ReminderStatus.PENDING).exists()
