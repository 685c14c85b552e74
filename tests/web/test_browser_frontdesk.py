"""Issue 13's workflows in a real Chromium: awaiting results, an unbookable
start date, a duplicate enrolment, search, a cancel with its reason (by
keyboard only), withdraw, and the calendar subscription."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from clinics.models import OpeningHours
from patients.models import EnrolmentStatus
from sessions.models import BookingChange, CalendarFeed, SessionStatus
from tests.factories import PatientFactory, make_protocol, step
from tests.web.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visit_awaiting_results_is_found_and_completed(live_server, new_page, clinician, booked):
    with time_machine.travel(booked.start + dt.timedelta(days=17), tick=True):
        doc = browser_login(new_page(), live_server.url, clinician)
        expect(doc.get_by_role("link", name="Due list 1 awaiting results")).to_be_visible()
        doc.get_by_role("link", name="Due list 1 awaiting results").click()
        row = doc.locator(f"#awaiting tr[data-session='{booked.pk}']")
        expect(row).to_contain_text("Baseline assessment #1")
        row.get_by_role("link", name="Complete").click()
        doc.get_by_label("Hair density").fill("120")
        doc.get_by_role("button", name="Complete session").click()
        expect(doc.locator(".message.success")).to_contain_text("is completed")
    booked.refresh_from_db()
    assert booked.status == SessionStatus.COMPLETED


def test_a_sunday_start_is_marked_and_the_next_date_taken(live_server, new_page, clinic, receptionist, patient):
    OpeningHours.objects.filter(clinic=clinic, weekday=6).delete()
    make_protocol(clinic, steps=[step("Baseline assessment", "assessment", measures=["hair_density"])],
                  name="One visit")
    today = timezone.now().astimezone(clinic.tz).date()
    sunday = today + dt.timedelta(days=(6 - today.weekday()) % 7 or 7)
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/patients/{patient.pk}/enrol/")
    desk.get_by_label("Protocol").select_option(label="One visit (v1)")
    desk.get_by_label("Start date").fill(sunday.isoformat())
    desk.get_by_role("button", name="Preview schedule").click()
    expect(desk.locator("#unbookable")).to_contain_text("could never be booked")
    expect(desk.get_by_role("button", name="Enrol patient")).to_have_count(0)
    monday = sunday + dt.timedelta(days=1)
    desk.get_by_role("button", name=f"Start on {monday:%a %d %b %Y} instead").click()
    desk.get_by_role("button", name="Enrol patient").click()
    expect(desk.locator(".message.success")).to_contain_text("is enrolled")
    assert patient.enrolments.get().start_date == monday


def test_search_finds_accents_and_last_first(live_server, new_page, clinic, receptionist):
    PatientFactory(clinic=clinic, first_name="Petra", last_name="Hartmann", phone="+49 30 55501101")
    PatientFactory(clinic=clinic, first_name="Jürgen", last_name="Müller")
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.get_by_role("link", name="Patients").click()
    for text, name in [("muller", "Müller, Jürgen"), ("Hartmann, Petra", "Hartmann, Petra"),
                       ("030 5550 1101", "Hartmann, Petra")]:
        desk.get_by_label("Search patients").fill(text)
        desk.get_by_role("button", name="Search").click()
        expect(desk.locator("main tbody tr")).to_have_count(1)
        expect(desk.get_by_role("link", name=name)).to_be_visible()


def test_cancel_with_a_reason_by_keyboard_only(live_server, new_page, receptionist, booked):
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/sessions/{booked.pk}/book/")
    summary = desk.locator("summary", has_text="Cancel booking…")
    summary.focus()
    desk.keyboard.press("Enter")
    expect(desk.get_by_label("Late cancellation")).to_be_visible()
    desk.keyboard.press("Tab")  # the first reason
    desk.keyboard.press("ArrowDown")  # the second: late cancellation
    expect(desk.get_by_label("Late cancellation")).to_be_checked()
    desk.keyboard.press("Tab")  # the note
    desk.keyboard.type("Called at 8:00")
    desk.keyboard.press("Tab")
    expect(desk.locator(":focus")).to_contain_text("Yes, cancel the booking")
    desk.keyboard.press("Enter")
    expect(desk.locator(".message.success")).to_contain_text("was cancelled")
    change = BookingChange.objects.get()
    assert (change.reason, change.note) == ("late", "Called at 8:00")


def test_a_clinician_withdraws_and_subscribes(live_server, new_page, clinician, enrolment):
    doc = browser_login(new_page(), live_server.url, clinician)
    doc.goto(f"{live_server.url}/patients/{enrolment.patient_id}/")
    doc.locator("summary", has_text="Withdraw from this protocol…").click()
    doc.get_by_label("Why is the patient withdrawn?").fill("Moved away")
    doc.get_by_role("button", name="Yes, withdraw").click()
    expect(doc.locator(".message.success")).to_contain_text("is withdrawn")
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.WITHDRAWN
    doc.get_by_role("link", name="My calendar").click()
    doc.get_by_role("button", name="Make my calendar address").click()
    token = CalendarFeed.objects.get(user=clinician).token
    expect(doc.get_by_label("Your secret calendar address")).to_have_value(
        # Built from SITE_URL, the public address, not the request's host (issue 30).
        f"{settings.SITE_URL}/calendar/feed/{token}.ics"
    )
