"""GET and PATCH /api/v1/clinic/, practitioners, rooms, measures."""

import datetime as dt

import pytest

from clinics.models import Closure
from sessions.models import Reminder, ReminderStatus
from sessions.services import book_session

from .conftest import at


def test_everyone_reads_their_clinic(client_as, receptionist, clinic):
    Closure.objects.create(clinic=clinic, date=dt.date(2026, 12, 24))
    answer = client_as(receptionist).get("/api/v1/clinic/")
    assert answer.status_code == 200
    data = answer.json()
    assert data["name"] == "Charité Skin"
    assert data["timezone"] == "Europe/Berlin"
    assert data["opening_hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "20:00"}
    assert data["closures"] == ["2026-12-24"]
    assert data["slot_minutes"] == 15
    assert data["reminder_offsets_hours"] == [72, 24]


def test_manager_changes_the_settings(client_as, manager, clinic):
    answer = client_as(manager).patch(
        "/api/v1/clinic/",
        {
            "opening_hours": [
                {"weekday": 0, "opens": "09:00", "closes": "12:30"},
                {"weekday": 0, "opens": "13:30", "closes": "18:00"},
                {"weekday": 4, "opens": "09:00", "closes": "14:00"},
            ],
            "closures": ["2026-12-24", "2026-12-31"],
            "slot_minutes": 20,
            "reminder_offsets_hours": [24, 48],
            "timezone": "America/New_York",
            "sender_email": "front@charite.example",
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert [(h["weekday"], h["opens"], h["closes"]) for h in data["opening_hours"]] == [
        (0, "09:00", "12:30"),
        (0, "13:30", "18:00"),
        (4, "09:00", "14:00"),
    ]
    assert data["closures"] == ["2026-12-24", "2026-12-31"]
    assert data["reminder_offsets_hours"] == [48, 24]
    clinic.refresh_from_db()
    assert (clinic.slot_minutes, clinic.timezone, clinic.sender_email) == (20, "America/New_York", "front@charite.example")
    # Closures not named any more are gone; the list is the whole set.
    again = client_as(manager).patch("/api/v1/clinic/", {"closures": ["2026-12-31"]}, format="json")
    assert again.json()["closures"] == ["2026-12-31"]


@pytest.mark.parametrize("user", ["receptionist", "clinician"])
def test_only_the_manager_patches(client_as, request, user, clinic):
    answer = client_as(request.getfixturevalue(user)).patch("/api/v1/clinic/", {"slot_minutes": 30}, format="json")
    assert answer.status_code == 403
    clinic.refresh_from_db()
    assert clinic.slot_minutes == 15


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "Europe/Ber\x00lin"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"slot_minutes": 10**30}, "slot_minutes"),
        ({"slot_minutes": "fifteen"}, "slot_minutes"),
        ({"reminder_offsets_hours": [24, 24]}, "reminder_offsets_hours"),
        ({"reminder_offsets_hours": [0]}, "reminder_offsets_hours"),
        ({"reminder_offsets_hours": [24 * 30 + 1]}, "reminder_offsets_hours"),
        ({"reminder_offsets_hours": [1.5]}, "reminder_offsets_hours"),
        ({"reminder_offsets_hours": "24"}, "reminder_offsets_hours"),
        ({"opening_hours": [{"weekday": 7, "opens": "09:00", "closes": "17:00"}]}, "opening_hours"),
        ({"opening_hours": [{"weekday": 1, "opens": "17:00", "closes": "09:00"}]}, "opening_hours"),
        ({"opening_hours": [{"weekday": 1, "opens": "25:00", "closes": "26:00"}]}, "opening_hours"),
        (
            {
                "opening_hours": [
                    {"weekday": 1, "opens": "09:00", "closes": "13:00"},
                    {"weekday": 1, "opens": "12:00", "closes": "17:00"},
                ]
            },
            "opening_hours",
        ),
        ({"closures": ["2026-02-30"]}, "closures"),
        ({"closures": ["0001-01-01"]}, "closures"),
        ({"closures": "2026-12-24"}, "closures"),
        ({"sender_email": "not an email"}, "sender_email"),
        ({"name": "x" * 201}, "name"),
        ({"cancel_cutoff_hours": -1}, "cancel_cutoff_hours"),
        ({"cancel_cutoff_hours": 10**30}, "cancel_cutoff_hours"),
        ({"cancel_cutoff_hours": "a day"}, "cancel_cutoff_hours"),
        ({"patients_may_request_booking": "perhaps"}, "patients_may_request_booking"),
    ],
)
def test_bad_settings_are_400_naming_the_field(client_as, manager, clinic, body, field):
    answer = client_as(manager).patch("/api/v1/clinic/", body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    clinic.refresh_from_db()
    assert (clinic.timezone, clinic.slot_minutes, clinic.opening_hours.count()) == ("Europe/Berlin", 15, 7)


def test_new_offsets_replan_pending_reminders(client_as, manager, frozen, enrolment, clinician, first_injection):
    book_session(session=first_injection, start=at(first_injection.target_date, 10), practitioner=clinician, by=manager)
    answer = client_as(manager).patch("/api/v1/clinic/", {"reminder_offsets_hours": [48]}, format="json")
    assert answer.status_code == 200
    live = Reminder.objects.filter(session=first_injection, kind="booked").exclude(status=ReminderStatus.VOID)
    assert sorted(r.offset_hours for r in live) == [48]


def test_practitioners_are_the_clinics_clinicians_and_managers(client_as, receptionist, clinician, manager, outsider):
    answer = client_as(receptionist).get("/api/v1/practitioners/")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert {r["username"] for r in rows} == {"claire", "max"}
    assert set(rows[0]) == {"id", "username", "name", "role"}
    assert client_as(receptionist).get(f"/api/v1/practitioners/{outsider.pk}/").status_code == 404


def test_rooms_are_the_clinics(client_as, receptionist, room, other_clinic):
    from tests.factories import RoomFactory

    theirs = RoomFactory(clinic=other_clinic)
    answer = client_as(receptionist).get("/api/v1/rooms/")
    assert [r["name"] for r in answer.json()["results"]] == ["Room 1"]
    assert client_as(receptionist).get(f"/api/v1/rooms/{theirs.pk}/").status_code == 404


def test_measures_catalogue(client_as, receptionist, hair_protocol):
    answer = client_as(receptionist).get("/api/v1/measures/")
    assert answer.status_code == 200
    rows = {m["code"]: m for m in answer.json()["results"]}
    assert len(rows) == 29
    assert rows["hair_density"]["unit"] == "hairs/cm²"
    assert (rows["poem"]["reported_by"], rows["hair_density"]["reported_by"]) == ("patient", "clinician")
    assert rows["hair_density"]["max_value"] == 600
    assert rows["hair_density"]["higher_is_better"] is True


def test_a_new_zone_or_closure_that_would_move_or_strand_bookings_is_refused(
    client_as, manager, frozen, enrolment, clinician, first_injection
):
    booked = book_session(session=first_injection, start=at(first_injection.target_date, 10), practitioner=clinician,
                          by=manager)
    day = booked.start.astimezone(booked.clinic.tz).date()
    client = client_as(manager)

    answer = client.patch("/api/v1/clinic/", {"timezone": "America/New_York", "slot_minutes": 30}, format="json")
    assert answer.status_code == 409
    assert "rebook or cancel" in answer.json()["timezone"][0]
    answer = client.patch("/api/v1/clinic/", {"closures": [day.isoformat()], "slot_minutes": 30}, format="json")
    assert answer.status_code == 409
    assert day.isoformat() in answer.json()["closures"][0]
    booked.clinic.refresh_from_db()
    assert (booked.clinic.timezone, booked.clinic.slot_minutes, booked.clinic.closures.count()) == ("Europe/Berlin", 15, 0)

    # A closure on another day, and the same zone again, are fine.
    other_day = (day + dt.timedelta(days=1)).isoformat()
    answer = client.patch("/api/v1/clinic/", {"closures": [other_day], "timezone": "Europe/Berlin"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["closures"] == [other_day]


def test_the_manager_sets_the_patients_cancellation_cut_off_and_booking_requests(client_as, manager, clinic):
    """SPEC §13: defaults 24 hours and requests allowed; the manager changes both."""
    data = client_as(manager).get("/api/v1/clinic/").json()
    assert (data["cancel_cutoff_hours"], data["patients_may_request_booking"]) == (24, True)
    answer = client_as(manager).patch(
        "/api/v1/clinic/",
        {"cancel_cutoff_hours": 48, "patients_may_request_booking": False, "phone": "+49 30 1", "address": "Here 1"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    clinic.refresh_from_db()
    assert (clinic.cancel_cutoff_hours, clinic.patients_may_request_booking) == (48, False)
    assert (clinic.phone, clinic.address) == ("+49 30 1", "Here 1")
