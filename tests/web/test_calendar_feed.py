"""Issue 13: a practitioner's secret, revocable iCalendar feed of their
bookings, and the patient's .ics linked from the patient page."""

import icalendar
import pytest
from django.test import Client
from django.urls import reverse

from sessions.models import CalendarFeed
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def test_a_clinician_makes_uses_and_revokes_the_feed(clinician, booked):
    page = login(Client(), clinician)
    assert page.get(reverse("my_calendar")).context["subscription"] is None
    page.post(reverse("my_calendar_change"), {"action": "create"})
    token = CalendarFeed.objects.get(user=clinician).token
    assert len(token) >= 40
    shown = page.get(reverse("my_calendar")).content.decode()
    assert f"/calendar/feed/{token}.ics" in shown

    anonymous = Client()
    answer = anonymous.get(reverse("calendar_feed", args=[token]))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(answer.content).walk("VEVENT")
    assert len(events) == 1
    summary = str(events[0]["summary"])
    patient = booked.patient
    assert summary == f"{patient.first_name} {patient.last_name[0]}. – Baseline assessment #1 (Hair regeneration)"
    assert events[0].decoded("dtstart") == booked.start

    page.post(reverse("my_calendar_change"), {"action": "renew"})
    assert anonymous.get(reverse("calendar_feed", args=[token])).status_code == 404
    page.post(reverse("my_calendar_change"), {"action": "revoke"})
    assert not CalendarFeed.objects.exists()


def test_the_feed_holds_only_the_users_own_bookings(clinician, manager, booked):
    page = login(Client(), manager)
    page.post(reverse("my_calendar_change"), {"action": "create"})
    token = CalendarFeed.objects.get(user=manager).token
    answer = Client().get(reverse("calendar_feed", args=[token]))
    assert icalendar.Calendar.from_ical(answer.content).walk("VEVENT") == []
    assert Client().get(reverse("calendar_feed", args=["guess" * 9])).status_code == 404


def test_reception_has_no_feed_page(receptionist):
    assert login(Client(), receptionist).get(reverse("my_calendar")).status_code == 403


def test_the_patient_page_links_the_patients_ics(receptionist, booked):
    page = login(Client(), receptionist)
    html = page.get(reverse("patient_detail", args=[booked.patient_id])).content.decode()
    link = reverse("api-patient-calendar", args=[booked.patient_id])
    assert f'href="{link}"' in html
    answer = page.get(link)
    assert answer.status_code == 200
    assert len(icalendar.Calendar.from_ical(answer.content).walk("VEVENT")) == 1
