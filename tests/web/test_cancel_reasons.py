"""Issue 13: cancelling and rebooking ask for a reason, which is kept and counted."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sessions import services
from sessions.models import BookingChange, SessionStatus
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(receptionist):
    client = APIClient()
    client.force_authenticate(receptionist)
    return client


def test_api_cancel_keeps_the_reason(api, booked):
    response = api.post(f"/api/v1/sessions/{booked.pk}/cancel-booking/", {"reason": "late", "note": "Flu"},
                        format="json")
    assert response.status_code == 200 and response.json()["status"] == "planned"
    change = BookingChange.objects.get()
    assert (change.kind, change.reason, change.note, change.previous_start) == ("cancelled", "late", "Flu", booked.start)


def test_api_cancel_with_a_reason_not_offered_is_a_400_and_changes_nothing(api, booked):
    response = api.post(f"/api/v1/sessions/{booked.pk}/cancel-booking/", {"reason": "bored"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED and not BookingChange.objects.exists()


def test_api_cancel_without_a_body_counts_as_other(api, booked):
    assert api.post(f"/api/v1/sessions/{booked.pk}/cancel-booking/").status_code == 200
    assert BookingChange.objects.get().reason == "other"


def test_api_rebook_keeps_why_the_old_time_moved(api, booked, clinician):
    new_start = (booked.start + dt.timedelta(hours=2)).isoformat()
    response = api.post(f"/api/v1/sessions/{booked.pk}/book/",
                        {"start": new_start, "practitioner": clinician.pk, "change_reason": "clinic"}, format="json")
    assert response.status_code == 200
    change = BookingChange.objects.get()
    assert (change.kind, change.reason, change.previous_start) == ("rebooked", "clinic", booked.start)


def test_the_page_asks_for_a_reason_before_cancelling(receptionist, booked):
    page = login(Client(), receptionist)
    manage = page.get(reverse("session_book", args=[booked.pk])).content.decode()
    assert "Cancel booking…" in manage and "Late cancellation" in manage
    refused = page.post(reverse("session_cancel", args=[booked.pk]), follow=True)
    assert any("Choose why the booking is cancelled." in str(m) for m in refused.context["messages"])
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
    page.post(reverse("session_cancel", args=[booked.pk]), {"cancel-reason": "patient"})
    booked.refresh_from_db()
    assert booked.status == SessionStatus.PLANNED
    assert BookingChange.objects.get().reason == "patient"
    due = page.get(reverse("due")).content.decode()
    assert '<tr data-reason="patient"><td>Patient cancelled</td><td>1</td><td>0</td></tr>' in due


def test_the_page_offers_rebooking_slots_once_it_is_said_why(receptionist, booked):
    page = login(Client(), receptionist)
    url = reverse("session_book", args=[booked.pk])
    assert page.get(url).context["slot_groups"] == []
    chosen = page.get(url, {"change_reason": "patient"})
    slot = chosen.context["slot_groups"][0]["rows"][0]["slots"][-1]
    missing = page.post(url, {"form": "slot", "start": slot.start.isoformat(), "practitioner": slot.practitioner_id},
                        follow=True)
    assert any("Choose why the booked time moves" in str(m) for m in missing.context["messages"])
    page.post(url, {"form": "slot", "start": slot.start.isoformat(), "practitioner": slot.practitioner_id,
                    "change_reason": "patient"})
    booked.refresh_from_db()
    assert booked.start == slot.start
    assert BookingChange.objects.get().kind == "rebooked"


def test_services_cancel_without_reason_is_other(booked, receptionist):
    services.cancel_booking(session=booked, by=receptionist)
    assert BookingChange.objects.get().reason == "other"
