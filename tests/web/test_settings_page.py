"""Issue 13: the manager's clinic settings page (/settings/)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clinics.models import Room, User
from tests.factories import RoomFactory
from tests.web.conftest import login

pytestmark = pytest.mark.django_db

URL = "/settings/"


def settings_post(clinic, **changes) -> dict:
    """The settings form as the page would send it, with the clinic's current values."""
    data = {
        "name": clinic.name, "address": clinic.address, "phone": clinic.phone, "timezone": clinic.timezone,
        "slot_minutes": clinic.slot_minutes, "reminder_offsets": ", ".join(map(str, clinic.reminder_offsets_hours)),
    }
    for interval in clinic.opening_hours.all():
        data[f"d{interval.weekday}_0_opens"] = f"{interval.opens:%H:%M}"
        data[f"d{interval.weekday}_0_closes"] = f"{interval.closes:%H:%M}"
    data.update(changes)
    return data


def hours_of(clinic) -> list[tuple]:
    return [(h.weekday, h.opens, h.closes) for h in clinic.opening_hours.order_by("weekday", "opens")]


def test_only_the_manager_sees_the_page(receptionist, clinician, manager):
    for user in (receptionist, clinician):
        page = login(Client(), user)
        assert page.get(URL).status_code == 403
        assert page.post(reverse("settings_room_add"), {"name": "Sneaky"}).status_code == 403
    assert not Room.objects.filter(name="Sneaky").exists()
    body = login(Client(), manager).get(URL).content.decode()
    assert "Opening hours" in body and 'value="Europe/Berlin" selected' in body
    assert reverse("clinic_settings") in login(Client(), manager).get(reverse("agenda")).content.decode()


def test_a_save_changes_hours_details_and_reminders(manager, clinic):
    page = login(Client(), manager)
    data = settings_post(
        clinic, name="Hautzentrum Mitte", phone="+49 30 555", reminder_offsets="24, 48",
        d0_0_opens="08:00", d0_0_closes="12:00", d0_1_opens="13:00", d0_1_closes="18:30",
        d6_0_opens="", d6_0_closes="",
    )
    response = page.post(URL, data)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.name, clinic.phone, clinic.reminder_offsets_hours) == ("Hautzentrum Mitte", "+49 30 555", [48, 24])
    hours = hours_of(clinic)
    assert (0, dt.time(8), dt.time(12)) in hours and (0, dt.time(13), dt.time(18, 30)) in hours
    assert not [h for h in hours if h[0] == 6]
    body = page.get(URL).content.decode()
    assert 'value="18:30"' in body and "The clinic&#x27;s settings were saved." in body


def test_bad_input_is_named_and_changes_nothing(manager, clinic):
    before = hours_of(clinic)
    page = login(Client(), manager)
    response = page.post(URL, settings_post(clinic, d1_0_opens="17:00", d1_0_closes="09:00", reminder_offsets="soon"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Tuesday: opens 17:00 must be before closes 09:00." in body
    assert "Enter whole hours separated by commas" in body
    assert hours_of(clinic) == before
    response = page.post(URL, settings_post(clinic, timezone="Mars/Olympus"))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_a_refused_zone_change_is_shown_beside_the_field(manager, clinic, booked):
    page = login(Client(), manager)
    response = page.post(URL, settings_post(clinic, timezone="America/New_York", name="Renamed"))
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_timezone_error"' in body
    assert "1 booked session(s) would show at other local times in America/New_York" in body
    clinic.refresh_from_db()
    assert clinic.timezone == "Europe/Berlin" and clinic.name != "Renamed"


def test_closures_are_added_and_removed_and_a_booked_day_is_refused(manager, clinic, booked):
    page = login(Client(), manager)
    free_day = booked.target_date + dt.timedelta(days=30)
    assert page.post(reverse("settings_closures"), {"date": free_day.isoformat(), "action": "add"}).status_code == 302
    assert list(clinic.closures.values_list("date", flat=True)) == [free_day]
    booked_day = booked.start.astimezone(clinic.tz).date()
    refused = page.post(reverse("settings_closures"), {"date": booked_day.isoformat(), "action": "add"})
    assert refused.status_code == 400
    # Issue 24: the refusal names the patient and visit, with a link to rebook it.
    assert f"{booked.patient.full_name}, {booked.step.name} #1 at {booked_day:%Y-%m-%d}" in refused.content.decode()
    assert f'href="/sessions/{booked.pk}/book/"' in refused.content.decode()
    assert list(clinic.closures.values_list("date", flat=True)) == [free_day]
    page.post(reverse("settings_closures"), {"date": free_day.isoformat(), "action": "remove"})
    assert not clinic.closures.exists()


def test_rooms_are_added_renamed_and_deactivated(manager, clinic, other_clinic):
    page = login(Client(), manager)
    assert page.post(reverse("settings_room_add"), {"name": "Laser room"}).status_code == 302
    room = Room.objects.get(clinic=clinic, name="Laser room")
    duplicate = page.post(reverse("settings_room_add"), {"name": "laser ROOM"})
    assert duplicate.status_code == 400 and "There is already a room called laser ROOM." in duplicate.content.decode()
    page.post(reverse("settings_room", args=[room.pk]), {"action": "rename", "name": "Room A"})
    page.post(reverse("settings_room", args=[room.pk]), {"action": "deactivate"})
    room.refresh_from_db()
    assert (room.name, room.active) == ("Room A", False)
    theirs = RoomFactory(clinic=other_clinic, name="Theirs")
    assert page.post(reverse("settings_room", args=[theirs.pk]), {"action": "deactivate"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.active


def test_staff_accounts_are_added_with_a_good_password_and_deactivated(manager, clinic, receptionist, outsider):
    page = login(Client(), manager)
    weak = page.post(reverse("settings_staff_add"), {"username": "anna", "role": "clinician", "password": "12345"})
    assert weak.status_code == 400 and "This password is too short" in weak.content.decode()
    assert not User.objects.filter(username="anna").exists()
    added = page.post(reverse("settings_staff_add"), {
        "username": "anna", "first_name": "Anna", "last_name": "Berg", "role": "clinician",
        "password": "violet-harbour-lantern",
    })
    assert added.status_code == 302
    anna = User.objects.get(username="anna")
    assert (anna.clinic, anna.role, anna.is_active) == (clinic, "clinician", True)
    assert Client().login(username="anna", password="violet-harbour-lantern")
    page.post(reverse("settings_staff", args=[receptionist.pk]), {"action": "deactivate"})
    receptionist.refresh_from_db()
    assert not receptionist.is_active
    own = page.post(reverse("settings_staff", args=[manager.pk]), {"action": "deactivate"}, follow=True)
    assert "You cannot deactivate your own account." in own.content.decode()
    manager.refresh_from_db()
    assert manager.is_active
    assert page.post(reverse("settings_staff", args=[outsider.pk]), {"action": "deactivate"}).status_code == 404
