"""The sessions list's date filters on a day's edges (SPEC §6): a booked
session is on the clinic-local date of its start, however near midnight."""

import datetime as dt

from sessions.models import Session, SessionStatus


def test_a_booking_just_after_local_midnight_is_on_that_local_day(client_as, receptionist, clinician, frozen,
                                                                  first_injection):
    # 00:30 in Berlin on 25 March is 23:30 UTC on the 24th (written directly:
    # the clinic's hours would refuse it, the filter must not care).
    start = dt.datetime(2026, 3, 24, 23, 30, tzinfo=dt.UTC)
    Session.objects.filter(pk=first_injection.pk).update(
        status=SessionStatus.BOOKED, start=start, end=start + dt.timedelta(minutes=45), practitioner=clinician
    )
    client = client_as(receptionist)

    def ids(day):
        answer = client.get("/api/v1/sessions/", {"date_from": day, "date_to": day})
        assert answer.status_code == 200, answer.content
        return [s["id"] for s in answer.json()["results"]]

    assert first_injection.pk in ids("2026-03-25")
    assert first_injection.pk not in ids("2026-03-24")
    # Its target date no longer counts once it is booked.
    assert first_injection.pk not in ids(str(first_injection.target_date))
