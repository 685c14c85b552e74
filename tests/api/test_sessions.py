"""Sessions: list filters, slots, book and rebook, cancel, no-show, skip,
complete, reminders (SPEC §4, §6)."""

import datetime as dt

import pytest
import time_machine

from sessions import services
from sessions.models import AdverseEvent, Deviation, OutcomeMeasurement, Reminder, Session
from tests.factories import PatientFactory, UserFactory, complete_over_api, lot_of

from .conftest import NOW, START, at

INJECTION_DAY = dt.date(2026, 3, 16)


def book_url(session):
    return f"/api/v1/sessions/{session.pk}/book/"


# --- Listing ------------------------------------------------------------------------------------


def test_list_and_filters(client_as, receptionist, clinician, frozen, enrolment, baseline, first_injection, clinic,
                          hair_protocol):
    services.book_session(session=first_injection, start=at(dt.date(2026, 3, 25), 10), practitioner=clinician,
                          by=receptionist)
    other = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol,
                                   start_date=dt.date(2026, 4, 1), by=receptionist)
    client = client_as(receptionist)

    def ids(**params):
        answer = client.get("/api/v1/sessions/", params)
        assert answer.status_code == 200, answer.content
        return [s["id"] for s in answer.json()["results"]]

    assert len(ids()) == 14
    # A booked session is on its booked (clinic-local) date, a planned one on its target date.
    assert ids(date_from="2026-03-20", date_to="2026-03-26") == [first_injection.pk]
    assert ids(date_from="2026-03-16", date_to="2026-03-16") == []
    assert ids(date_from="2026-03-02", date_to="2026-03-02") == [baseline.pk]
    assert ids(status="booked") == [first_injection.pk]
    assert ids(practitioner=clinician.pk) == [first_injection.pk]
    assert set(ids(patient=other.patient_id)) == set(other.sessions.values_list("pk", flat=True))
    assert set(ids(enrolment=enrolment.pk)) == set(enrolment.sessions.values_list("pk", flat=True))
    # Days out of range are a 400 naming the filter (issue 30), here as everywhere.
    extreme = client.get("/api/v1/sessions/", {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert extreme.status_code == 400 and {"date_from", "date_to"} <= set(extreme.json())
    assert ids(date_from="1900-01-01", date_to="2199-12-31") == ids()
    row = client.get(f"/api/v1/sessions/{first_injection.pk}/").json()
    assert (row["start"], row["end"], row["practitioner"]) == (
        "2026-03-25T10:00:00+01:00", "2026-03-25T10:45:00+01:00", clinician.pk,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_to": "10000-01-01"}, "date_to"),
        ({"practitioner": "me"}, "practitioner"),
        ({"patient": "1.5"}, "patient"),
        ({"enrolment": str(10**30)}, "enrolment"),
        ({"enrolment": "0"}, "enrolment"),
    ],
)
def test_bad_filters_are_400_naming_the_field(client_as, receptionist, frozen, enrolment, params, field):
    answer = client_as(receptionist).get("/api/v1/sessions/", params)
    assert answer.status_code == 400
    assert field in answer.json()


def test_another_clinics_session_is_404_everywhere(client_as, outsider, frozen, baseline):
    client = client_as(outsider)
    assert client.get(f"/api/v1/sessions/{baseline.pk}/").status_code == 404
    assert client.get(f"/api/v1/sessions/{baseline.pk}/slots/").status_code == 404
    assert client.get(f"/api/v1/sessions/{baseline.pk}/reminders/").status_code == 404
    for action in ("book", "cancel-booking", "no-show", "skip", "complete"):
        assert client.post(f"/api/v1/sessions/{baseline.pk}/{action}/", {}, format="json").status_code == 404
    assert client.get("/api/v1/sessions/", {"patient": baseline.patient_id}).json()["count"] == 0


# --- Slots --------------------------------------------------------------------------------------


def test_slots_avoid_bookings_and_respect_the_window(client_as, receptionist, clinician, frozen, enrolment,
                                                     first_injection, clinic, hair_protocol, room):
    other = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol, start_date=START,
                                   by=receptionist)
    services.book_session(session=other.sessions.get(sequence=2), start=at(INJECTION_DAY, 8), practitioner=clinician,
                          room=room, by=receptionist)
    client = client_as(receptionist)
    answer = client.get(f"/api/v1/sessions/{first_injection.pk}/slots/",
                        {"date_from": "2026-03-16", "date_to": "2026-03-16", "practitioner": clinician.pk})
    assert answer.status_code == 200, answer.content
    starts = [s["start"] for s in answer.json()]
    # 08:00 and the slots overlapping the 45-minute booking are taken; 08:45 is the first free.
    assert starts[0] == "2026-03-16T08:45:00+01:00"
    assert starts[-1] == "2026-03-16T19:15:00+01:00"  # 19:15 + 45 min closes at 20:00
    assert {s["practitioner"] for s in answer.json()} == {clinician.pk}
    everything = client.get(f"/api/v1/sessions/{first_injection.pk}/slots/").json()
    days = {s["start"][:10] for s in everything}
    assert min(days) == "2026-03-16" and max(days) <= "2026-03-30"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-03-20", "date_to": "2026-03-10"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"practitioner": "x"}, "practitioner"),
        ({"practitioner": "999999"}, "practitioner"),
        ({"practitioner": str(10**30)}, "practitioner"),
    ],
)
def test_bad_slot_queries_are_400(client_as, receptionist, frozen, first_injection, params, field):
    answer = client_as(receptionist).get(f"/api/v1/sessions/{first_injection.pk}/slots/", params)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()


def test_a_receptionist_is_no_practitioner_for_slots(client_as, receptionist, frozen, first_injection):
    answer = client_as(receptionist).get(f"/api/v1/sessions/{first_injection.pk}/slots/",
                                         {"practitioner": receptionist.pk})
    assert answer.status_code == 400


# --- Booking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start", ["2026-03-16T10:00:00", "2026-03-16T10:00", "2026-03-16T10:00:00+01:00", "2026-03-16T09:00:00Z"]
)
def test_book_with_or_without_an_offset(client_as, receptionist, clinician, frozen, first_injection, room, start):
    answer = client_as(receptionist).post(
        book_url(first_injection), {"start": start, "practitioner": clinician.pk, "room": room.pk}, format="json"
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["status"], data["start"], data["end"], data["room"]) == (
        "booked", "2026-03-16T10:00:00+01:00", "2026-03-16T10:45:00+01:00", room.pk,
    )
    first_injection.refresh_from_db()
    assert first_injection.start == dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


def test_rebook_moves_the_booking(client_as, receptionist, clinician, frozen, first_injection):
    client = client_as(receptionist)
    client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk}, format="json")
    answer = client.post(book_url(first_injection), {"start": "2026-03-18T15:00", "practitioner": clinician.pk},
                         format="json")
    assert answer.status_code == 200
    assert answer.json()["start"] == "2026-03-18T15:00:00+01:00"
    assert Reminder.objects.filter(session=first_injection, kind="booked", status="void").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "2026-03-29T02:30"}, "start"),  # does not exist in Berlin: clocks go 02:00 → 03:00
        ({"start": "2026-03-16T07:00"}, "start"),  # before opening
        ({"start": "2026-03-16T19:30"}, "start"),  # runs past closing
        ({"start": "2026-03-31T10:00"}, "start"),  # outside the window, no reason
        ({"start": "2026-02-27T10:00"}, "start"),  # in the past
        ({"start": "0001-01-01T00:10"}, "start"),
        ({"start": "9999-12-31T23:59:59-12:00"}, "start"),
        ({"start": "2026-02-30T10:00"}, "start"),
        ({"start": "2026-03-16T25:00"}, "start"),
        ({"start": "2026-03-16"}, "start"),
        ({"start": 1773651600}, "start"),
        ({"start": "2026-03-16T10:00\x00"}, "start"),
        ({"start": None}, "start"),
        ({"practitioner": 999_999}, "practitioner"),
        ({"practitioner": "claire"}, "practitioner"),
        ({"room": 999_999}, "room"),
        ({"override_reason": "x\x00"}, "override_reason"),
        ({"override_reason": ["why"]}, "override_reason"),
    ],
)
def test_bad_bookings_are_400_and_change_nothing(client_as, receptionist, clinician, frozen, first_injection, body,
                                                 field):
    answer = client_as(receptionist).post(
        book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk, **body}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    first_injection.refresh_from_db()
    assert (first_injection.status, first_injection.start) == ("planned", None)


def test_dst_gap_message_says_why(client_as, receptionist, clinician, frozen, first_injection):
    answer = client_as(receptionist).post(
        book_url(first_injection), {"start": "2026-03-29T02:30", "practitioner": clinician.pk}, format="json"
    )
    assert "does not exist in Europe/Berlin" in answer.json()["start"][0]


def test_a_practitioner_must_be_a_clinician_and_ours(client_as, receptionist, clinician, frozen, first_injection,
                                                     outsider):
    client = client_as(receptionist)
    theirs = client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": outsider.pk},
                         format="json")
    assert theirs.json() == {"practitioner": [f"Unknown id {outsider.pk}."]}
    desk = client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": receptionist.pk},
                       format="json")
    assert desk.status_code == 400 and "practitioner" in desk.json()


def test_booking_outside_the_window_needs_a_clinician_and_a_reason(client_as, receptionist, clinician, frozen,
                                                                   first_injection):
    body = {"start": "2026-03-31T10:00", "practitioner": clinician.pk, "override_reason": "patient abroad until then"}
    assert client_as(receptionist).post(book_url(first_injection), body, format="json").status_code == 403
    answer = client_as(clinician).post(book_url(first_injection), body, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["out_of_window"] is True
    assert Deviation.objects.get(session=first_injection).reason == "patient abroad until then"


def test_overlaps_are_409(client_as, receptionist, clinician, frozen, first_injection, clinic, hair_protocol, room):
    client = client_as(receptionist)
    client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk, "room": room.pk},
                format="json")
    other = services.enrol_patient(patient=PatientFactory(clinic=clinic), protocol=hair_protocol, start_date=START,
                                   by=receptionist)
    second = other.sessions.get(sequence=2)
    same_practitioner = client.post(book_url(second), {"start": "2026-03-16T10:30", "practitioner": clinician.pk},
                                    format="json")
    assert same_practitioner.status_code == 409
    assert "practitioner" in same_practitioner.json()
    colleague = UserFactory(clinic=clinic, role="clinician")
    same_room = client.post(book_url(second), {"start": "2026-03-16T10:15", "practitioner": colleague.pk,
                                               "room": room.pk}, format="json")
    assert same_room.status_code == 409
    assert "room" in same_room.json()
    # The same patient cannot be in two places: their baseline overlapping the injection.
    baseline = first_injection.enrolment.sessions.get(sequence=1)
    client.post(book_url(baseline), {"start": "2026-03-02T10:00", "practitioner": clinician.pk}, format="json")
    back_to_back = client.post(book_url(second), {"start": "2026-03-16T10:45", "practitioner": clinician.pk},
                               format="json")
    assert back_to_back.status_code == 200  # half-open: 10:45 is free after 10:00–10:45


def test_a_home_session_is_not_booked(client_as, receptionist, clinician, frozen, clinic, patient):
    from tests.factories import make_protocol, step

    protocol = make_protocol(clinic, steps=[step("Serum at home", "home", interval_days=1, duration_minutes=0)],
                             name="Home serum")
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=START, by=receptionist)
    session = enrolment.sessions.get()
    client = client_as(receptionist)
    assert client.get(f"/api/v1/sessions/{session.pk}/slots/").json() == []
    answer = client.post(book_url(session), {"start": "2026-03-03T10:00", "practitioner": clinician.pk},
                         format="json")
    assert answer.status_code == 409


# --- Cancel, no-show, skip ------------------------------------------------------------------------


def test_cancel_booking(client_as, receptionist, clinician, frozen, first_injection):
    client = client_as(receptionist)
    client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk}, format="json")
    answer = client.post(f"/api/v1/sessions/{first_injection.pk}/cancel-booking/")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["start"], answer.json()["practitioner"]) == ("planned", None, None)
    assert client.post(f"/api/v1/sessions/{first_injection.pk}/cancel-booking/").status_code == 409


def test_no_show_only_from_the_booked_start(client_as, receptionist, clinician, first_injection):
    client = client_as(receptionist)
    with time_machine.travel(NOW, tick=False):
        client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk},
                    format="json")
        early = client.post(f"/api/v1/sessions/{first_injection.pk}/no-show/", {}, format="json")
        assert early.status_code == 409
    with time_machine.travel(at(INJECTION_DAY, 10, 20), tick=False):
        answer = client.post(f"/api/v1/sessions/{first_injection.pk}/no-show/", {"reason": "no answer"}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["missed_count"]) == ("planned", 1)
    assert Deviation.objects.get(session=first_injection).kind == "no_show"


def test_skip_needs_a_clinician_and_a_reason(client_as, receptionist, clinician, frozen, first_injection):
    url = f"/api/v1/sessions/{first_injection.pk}/skip/"
    assert client_as(receptionist).post(url, {"reason": "unwell"}, format="json").status_code == 403
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "a\x00"}, {"reason": 5 * [1]}):
        answer = client_as(clinician).post(url, body, format="json")
        assert answer.status_code == 400, (body, answer.content)
        assert "reason" in answer.json()
    answer = client_as(clinician).post(url, {"reason": "unwell"}, format="json")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["skip_reason"]) == ("skipped", "unwell")
    assert client_as(clinician).post(url, {"reason": "again"}, format="json").status_code == 409


# --- Complete -----------------------------------------------------------------------------------


@pytest.fixture
def booked_injection(client_as, receptionist, clinician, first_injection):
    with time_machine.travel(NOW, tick=False):
        client_as(receptionist).post(book_url(first_injection), {"start": "2026-03-16T10:00",
                                                                 "practitioner": clinician.pk}, format="json")
    with time_machine.travel(at(INJECTION_DAY, 10, 50), tick=False):
        yield first_injection


def test_complete_records_everything(client_as, clinician, booked_injection, lot):
    answer = complete_over_api(client_as(clinician), booked_injection, {
        "outcomes": [{"measure": "pain_vas", "value": 3}],
        "notes": "Tolerated well.",
        "lot": lot.pk,
        "product_source": "umbilical_cord",
        "product_form": "frozen",
        "product_concentration": "10 mg/ml",
        "adverse_events": [{"description": "Pinpoint bleeding", "severity": "mild"}],
    })
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert (data["status"], data["lot"], data["product_lot"], data["product_source"], data["product_form"]) == (
        "completed", lot.pk, "SEC-2026-01", "umbilical_cord", "frozen",
    )
    assert data["completed_at"] == "2026-03-16T10:50:00+01:00"
    assert [(o["measure"], o["value"]) for o in data["outcomes"]] == [("pain_vas", 3)]
    assert data["adverse_events"][0]["related_to_treatment"] == "unknown"
    assert AdverseEvent.objects.get(session=booked_injection).severity == "mild"


def test_reception_cannot_complete(client_as, receptionist, booked_injection):
    answer = complete_over_api(client_as(receptionist), booked_injection, {"outcomes": [{"measure": "pain_vas", "value": 2}]})
    assert answer.status_code == 403


def test_complete_before_the_start_is_409(client_as, clinician, first_injection, receptionist):
    with time_machine.travel(NOW, tick=False):
        client_as(receptionist).post(book_url(first_injection), {"start": "2026-03-16T10:00",
                                                                 "practitioner": clinician.pk}, format="json")
        answer = complete_over_api(client_as(clinician), first_injection, {"outcomes": [{"measure": "pain_vas", "value": 2}]})
    assert answer.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "outcomes"),  # the step records pain_vas
        ({"outcomes": [{"measure": "pain_vas", "value": 11}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": -1}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": "NaN"}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": "Infinity"}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": "2,5"}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": True}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": None}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2.123456}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": 10**30}]}, "outcomes"),
        ({"outcomes": [{"measure": "no_such", "value": 1}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas\x00", "value": 1}]}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}, {"measure": "pain_vas", "value": 3}]}, "outcomes"),
        ({"outcomes": {"pain_vas": 2}}, "outcomes"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}], "product_source": "moon"}, "product_source"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}], "product_lot": "L" * 81}, "product_lot"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}], "notes": "a\x00b"}, "notes"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}], "adverse_events": [{"description": "x"}]},
         "adverse_events"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}],
          "adverse_events": [{"description": "x", "severity": "fatal"}]}, "adverse_events"),
        ({"outcomes": [{"measure": "pain_vas", "value": 2}], "adverse_events": "none"}, "adverse_events"),
    ],
)
def test_bad_completions_are_400_and_change_nothing(client_as, clinician, booked_injection, body, field):
    if isinstance(body, dict) and field != "lot":
        body = {"lot": lot_of(booked_injection.clinic).pk, **body}  # a treatment names its lot (SPEC §12)
    answer = complete_over_api(client_as(clinician), booked_injection, body)
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    booked_injection.refresh_from_db()
    assert booked_injection.status == "booked"
    assert not OutcomeMeasurement.objects.exists() and not AdverseEvent.objects.exists()


def test_huge_float_in_raw_json_is_400(client_as, clinician, booked_injection):
    body = '{"outcomes": [{"measure": "pain_vas", "value": 1e400}]}'
    answer = client_as(clinician).post(f"/api/v1/sessions/{booked_injection.pk}/complete/", body,
                                       content_type="application/json")
    assert answer.status_code == 400
    assert "outcomes" in answer.json()


def test_a_not_done_reason_excuses_missing_measures(client_as, clinician, booked_injection):
    answer = complete_over_api(
        client_as(clinician), booked_injection,
        {"not_done_reason": "patient declined the scale", "lot": lot_of(booked_injection.clinic).pk},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["not_done_reason"] == "patient declined the scale"
    assert Session.objects.get(pk=booked_injection.pk).status == "completed"


# --- Reminders ----------------------------------------------------------------------------------


def test_session_reminders_and_the_reminder_list(client_as, receptionist, clinician, frozen, first_injection, patient):
    client = client_as(receptionist)
    client.post(book_url(first_injection), {"start": "2026-03-16T10:00", "practitioner": clinician.pk}, format="json")
    rows = client.get(f"/api/v1/sessions/{first_injection.pk}/reminders/").json()
    booked = sorted((r["offset_hours"], r["due_at"]) for r in rows if r["kind"] == "booked" and r["status"] == "pending")
    assert booked == [(24, "2026-03-15T10:00:00+01:00"), (72, "2026-03-13T10:00:00+01:00")]
    listed = client.get("/api/v1/reminders/", {"status": "pending", "date_from": "2026-03-13", "date_to": "2026-03-13"})
    assert listed.status_code == 200
    assert [(r["session"], r["offset_hours"]) for r in listed.json()["results"]] == [(first_injection.pk, 72)]
    assert client.get("/api/v1/reminders/", {"status": "lost"}).status_code == 400
    assert client.get("/api/v1/reminders/", {"date_from": "13/03/2026"}).status_code == 400
    failed = Reminder.objects.filter(session=first_injection, offset_hours=24).update(status="failed",
                                                                                     last_error="550 no such user")
    assert failed == 1
    failures = client.get("/api/v1/reminders/", {"status": "failed"}).json()["results"]
    assert [(r["offset_hours"], r["last_error"]) for r in failures] == [(24, "550 no such user")]


def test_a_naive_time_after_the_spring_change_is_still_0900_local(client_as, receptionist, clinician, frozen,
                                                                   first_injection):
    answer = client_as(receptionist).post(book_url(first_injection), {"start": "2026-03-30T09:00",
                                                                      "practitioner": clinician.pk}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["start"] == "2026-03-30T09:00:00+02:00"
    first_injection.refresh_from_db()
    assert first_injection.start == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)


def test_each_clinic_reads_its_own_zone(client_as, frozen, other_clinic, outsider):
    from tests.factories import make_protocol

    theirs = services.enrol_patient(patient=PatientFactory(clinic=other_clinic), protocol=make_protocol(other_clinic),
                                    start_date=START, by=outsider)
    session = theirs.sessions.get(sequence=2)
    answer = client_as(outsider).post(book_url(session), {"start": "2026-03-16T09:00", "practitioner": outsider.pk},
                                      format="json")
    assert answer.status_code == 200, answer.content
    # New York moved to summer time on 8 March 2026.
    assert answer.json()["start"] == "2026-03-16T09:00:00-04:00"
    slots = client_as(outsider).get(f"/api/v1/sessions/{session.pk}/slots/", {"date_from": "2026-03-17",
                                                                               "date_to": "2026-03-17"}).json()
    assert slots[0]["start"] == "2026-03-17T08:00:00-04:00"


def test_no_slots_for_a_session_that_cannot_be_booked(client_as, receptionist, clinician, frozen, first_injection):
    services.skip_session(session=first_injection, reason="travelling", by=clinician)
    assert client_as(receptionist).get(f"/api/v1/sessions/{first_injection.pk}/slots/").json() == []
