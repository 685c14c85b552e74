"""A move that pushes a later booking out of its re-computed window
(issue 24): a 409 naming each such booking unless the request says
whether to release or keep them."""

import datetime as dt

import pytest

from sessions import services
from sessions.models import BookingChange, Deviation, Reminder, Session

from .conftest import at


def book_url(session):
    return f"/api/v1/sessions/{session.pk}/book/"


@pytest.fixture
def two_booked(frozen, enrolment, clinician, receptionist):
    """Injection #2 on Mon 16 March, #3 on Mon 30 March (its window 30 March – 13 April)."""
    second, third = enrolment.sessions.get(sequence=2), enrolment.sessions.get(sequence=3)
    services.book_session(session=second, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=receptionist)
    services.book_session(session=third, start=at(dt.date(2026, 3, 30), 10), practitioner=clinician, by=receptionist)
    return second, third


def move(client, session, clinician, **extra):
    body = {"start": "2026-03-25T10:00", "practitioner": clinician.pk, "change_reason": "clinic", **extra}
    return client.post(book_url(session), body, format="json")


def test_a_move_that_pushes_a_later_booking_out_is_409_naming_it(client_as, receptionist, clinician, two_booked):
    second, third = two_booked
    answer = move(client_as(receptionist), second, clinician)
    assert answer.status_code == 409, answer.content
    data = answer.json()
    assert "later_bookings" in data
    assert "Injection #3 on 2026-03-30" in data["later_bookings"][0]
    assert data["later_sessions"] == [
        {"id": third.pk, "step": "Injection", "sequence": 3, "start": "2026-03-30T10:00:00+02:00",
         "date": "2026-03-30", "window_start": "2026-04-08", "window_end": "2026-04-22"}
    ]
    # Nothing moved.
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.start == at(dt.date(2026, 3, 16), 10)
    assert (third.window_start, third.out_of_window) == (dt.date(2026, 3, 30), False)


def test_release_returns_them_to_planned_and_tells_the_patient(client_as, receptionist, clinician, two_booked):
    second, third = two_booked
    Reminder.objects.filter(session=third, kind="confirmation").update(status="sent")
    answer = move(client_as(receptionist), second, clinician, later_bookings="release")
    assert answer.status_code == 200, answer.content
    third.refresh_from_db()
    assert (third.status, third.start, third.window_start) == ("planned", None, dt.date(2026, 4, 8))
    assert Reminder.objects.filter(session=third, kind="cancelled", status="pending").exists()
    change = BookingChange.objects.get(session=third)
    assert change.kind == "cancelled" and "Injection #2 moved to 2026-03-25" in change.note


def test_keep_keeps_them_as_deviations(client_as, receptionist, clinician, two_booked):
    second, third = two_booked
    answer = move(client_as(receptionist), second, clinician, later_bookings="keep")
    assert answer.status_code == 200, answer.content
    third.refresh_from_db()
    assert (third.status, third.out_of_window) == ("booked", True)
    deviation = Deviation.objects.get(session=third)
    assert deviation.kind == "out_of_window" and "Kept when Injection #2 moved" in deviation.reason


def test_a_move_that_keeps_them_inside_needs_no_answer(client_as, receptionist, clinician, two_booked):
    second, third = two_booked
    answer = client_as(receptionist).post(
        book_url(second), {"start": "2026-03-16T15:00", "practitioner": clinician.pk, "change_reason": "clinic"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert not Deviation.objects.filter(session=third).exists()


def test_a_bad_answer_is_400(client_as, receptionist, clinician, two_booked):
    second, _ = two_booked
    answer = move(client_as(receptionist), second, clinician, later_bookings="drop")
    assert answer.status_code == 400 and "later_bookings" in answer.json()
    assert Session.objects.get(pk=second.pk).start == at(dt.date(2026, 3, 16), 10)
