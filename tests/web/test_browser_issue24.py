"""Issue 24's page forms in a real Chromium: the question before a move
that pushes later bookings out of their windows, and the forms that only
the API had."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions import services
from sessions.models import Deviation, SessionPhoto, SessionStatus
from tests.web.conftest import browser_login, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def at_ten(day: dt.date, tz) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=tz)


def test_the_booking_page_asks_before_a_move_pushes_a_later_booking_out(
    live_server, new_page, enrolment, clinician, receptionist
):
    tz = enrolment.patient.clinic.tz
    second, third = enrolment.sessions.get(sequence=2), enrolment.sessions.get(sequence=3)
    services.book_session(session=second, start=at_ten(second.target_date, tz), practitioner=clinician,
                          by=receptionist)
    third.refresh_from_db()
    services.book_session(session=third, start=at_ten(third.target_date, tz), practitioner=clinician,
                          by=receptionist)
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/sessions/{second.pk}/book/")
    new_day = second.target_date + dt.timedelta(days=3)
    desk.locator("#id_time-date").fill(new_day.isoformat())
    desk.locator("#id_time-time").fill("11:00")
    desk.locator("#id_time-practitioner").select_option(label=clinician.display_name)
    desk.locator("#id_time-change_reason").select_option("clinic")
    desk.get_by_role("button", name="Book this time").click()
    expect(desk.locator(".later-bookings")).to_contain_text(f"Injection #{third.sequence}")
    for width in (800, 390):
        desk.set_viewport_size({"width": width, "height": 800})
        desk.screenshot(path=f"/tmp/i24-later-{width}.png", full_page=True)
        assert no_horizontal_scroll(desk)
    second.refresh_from_db()
    assert second.start == at_ten(second.target_date, tz)  # nothing moved yet
    desk.get_by_role("button", name="Move and keep them").click()
    expect(desk.locator(".message.success")).to_contain_text("Booked Injection #2")
    third.refresh_from_db()
    assert third.status == SessionStatus.BOOKED and third.out_of_window
    assert Deviation.objects.filter(session=third, kind="out_of_window").exists()


def test_the_settings_page_sets_a_holiday_region_and_an_absence(live_server, new_page, manager, clinician):
    page = browser_login(new_page(), live_server.url, manager)
    page.goto(f"{live_server.url}/settings/")
    page.get_by_label("Public holidays of").fill("DE-BE")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".message.success")).to_contain_text("saved")
    expect(page.locator(".closure-list").first).to_contain_text("public holiday")
    page.locator("#absence_practitioner").select_option(label=clinician.display_name)
    today = timezone.localdate()
    page.locator("#absence_first_day").fill((today + dt.timedelta(days=40)).isoformat())
    page.locator("#absence_last_day").fill((today + dt.timedelta(days=44)).isoformat())
    page.locator("#absence_reason").fill("Congress")
    page.get_by_role("button", name="Add absence").click()
    expect(page.locator(".message.success")).to_contain_text(f"{clinician.display_name} is away")
    for width in (800, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/i24-settings-{width}.png", full_page=True)
        # The page never scrolls sideways (the opening-hours grid may, in its own scroller, on a phone).
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def _fits(page, name: str) -> None:
    for width in (800, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/i24-{name}-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"), (
            name, width, page.evaluate(
                """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right >
                   document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)"""
            ))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_consent_and_a_photograph_on_the_patient_page(live_server, new_page, clinician, booked, tmp_path, settings):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = str(tmp_path)
    patient = booked.patient
    page = browser_login(new_page(), live_server.url, clinician)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_text("Record or withdraw consent…").click()
    page.locator("#consent_kind").select_option("photography")
    page.get_by_label("Given").check()
    page.locator("#consent_note").fill("Signed at the desk")
    page.get_by_role("button", name="Record the statement").click()
    expect(page.locator(".message.success")).to_contain_text("Photography consent given")
    page.get_by_text("Add a photograph…").click()
    page.locator("#photo_session").select_option(str(booked.pk))
    page.locator("#photo_view").select_option("vertex")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 150, 120)).save(buffer, "JPEG")
    page.locator("#photo_image").set_input_files(
        files=[{"name": "vertex.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".message.success")).to_contain_text("photograph was added")
    page.get_by_text("Record or withdraw consent…").click()
    page.get_by_text("Add a photograph…").click()
    _fits(page, "patient")
    assert SessionPhoto.objects.filter(patient=patient, view="vertex").count() == 1


def test_the_manager_adds_a_lot_on_the_lots_page(live_server, new_page, manager, clinic):
    from tests.factories import lot_of

    product = lot_of(clinic).product
    page = browser_login(new_page(), live_server.url, manager)
    page.goto(f"{live_server.url}/lots/")
    page.locator("#lot_product").select_option(str(product.pk))
    page.locator("#lot_lot_number").fill("SEC-2027-09")
    page.locator("#lot_received_on").fill("2026-11-30")
    page.locator("#lot_expiry_date").fill("2027-11-30")
    page.get_by_role("button", name="Add lot").click()
    expect(page.locator(".message.success")).to_contain_text("Lot SEC-2027-09")
    expect(page.locator("main table")).to_contain_text("SEC-2027-09")
    _fits(page, "lots")


def test_the_complete_page_shows_full_adverse_events_and_fits(live_server, new_page, clinician, booked):
    import time_machine

    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=True):
        page = browser_login(new_page(), live_server.url, clinician)
        page.goto(f"{live_server.url}/sessions/{booked.pk}/complete/")
        expect(page.locator("#id_ae-0-onset_date")).to_be_visible()
        expect(page.locator("#id_ae-0-outcome")).to_be_visible()
        expect(page.locator("#id_ae-0-action_taken")).to_be_visible()
        _fits(page, "complete")


def test_the_manager_reads_the_audit_log_in_words(live_server, new_page, manager, receptionist, patient):
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/patients/{patient.pk}/")
    page = browser_login(new_page(), live_server.url, manager)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("Staff member").select_option(label=receptionist.display_name)
    page.get_by_label("Patient name").fill("weber")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit")).to_contain_text(f"Read {patient.full_name}'s record")
    _fits(page, "audit")


def test_my_day_opens_at_the_first_visit(live_server, new_page, enrolment, clinician, receptionist):
    first = enrolment.sessions.get(sequence=1)
    tz = first.clinic.tz
    start = dt.datetime.combine(first.target_date, dt.time(16, 45), tzinfo=tz)
    services.book_session(session=first, start=start, practitioner=clinician, by=receptionist)
    page = browser_login(new_page(width=800, height=600), live_server.url, clinician)
    page.goto(f"{live_server.url}/agenda/?view=grid&mine=1&date={first.target_date.isoformat()}")
    cell = page.locator("td.booked").first
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert page.evaluate("window.scrollY") > 0
    assert 0 <= box["y"] < 600, box
