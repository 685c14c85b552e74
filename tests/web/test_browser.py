"""The staff pages in a real Chromium: the day of a receptionist and a
clinician, from login to the outcome chart. Data is made relative to the real
now; the clinician's part travels to just after the booked start (the live
server thread shares this process's patched clock)."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from protocols.models import Protocol
from protocols.services import load_library
from sessions import services
from sessions.models import Session, SessionStatus
from tests.factories import PatientFactory, lot_of
from tests.web.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HAIR = "Hair regeneration, androgenetic alopecia"


@pytest.fixture
def library(clinic):
    load_library(clinic)
    return Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)


def test_receptionist_enrols_books_and_clinician_records_outcomes(
    live_server, new_page, clinic, receptionist, clinician, patient, library
):
    url = live_server.url
    tz = clinic.tz
    tomorrow = timezone.now().astimezone(tz).date() + dt.timedelta(days=1)
    # Another patient whose baseline competes for the same first slot.
    rival = PatientFactory(clinic=clinic, first_name="Otto", last_name="Brandt")
    rival_enrolment = services.enrol_patient(patient=rival, protocol=library, start_date=tomorrow, by=receptionist)
    rival_first = rival_enrolment.sessions.get(sequence=1)

    desk = browser_login(new_page(), url, receptionist)
    desk.keyboard.press("Tab")
    expect(desk.locator(":focus")).to_have_text("Skip to content")

    # Find the patient.
    desk.get_by_role("link", name="Patients").click()
    desk.get_by_label("Search patients").fill("weber")
    desk.get_by_role("button", name="Search").click()
    desk.get_by_role("link", name="Weber, Hanna").click()
    expect(desk.get_by_role("heading", name="Hanna Weber")).to_be_visible()

    # Enrol, with the preview of the generated dates first.
    desk.get_by_role("link", name="Enrol in a protocol").click()
    expect(desk.get_by_role("button", name="Enrol patient")).to_have_count(0)
    desk.get_by_label("Protocol").select_option(label=f"{HAIR} (v1)")
    desk.get_by_label("Start date").fill(tomorrow.isoformat())
    desk.get_by_label("Treating clinician").select_option(label=clinician.display_name)
    desk.get_by_label("Treatment area").fill("vertex scalp")
    desk.get_by_role("button", name="Preview schedule").click()
    preview = desk.locator("#preview table:not(.path) tbody tr")
    expect(preview).to_have_count(10)  # the main path: baseline, 6 injections, end of course, 6 and 12 months
    # The third edition's maintenance arm is previewed apart (SPEC §19).
    expect(desk.locator("#preview table.path tbody tr")).to_have_count(2)
    expect(preview.first).to_contain_text("Baseline assessment")
    expect(preview.first).to_contain_text(f"{tomorrow:%d %b %Y}")
    assert not patient.enrolments.exists()
    desk.get_by_role("button", name="Enrol patient").click()
    expect(desk.locator(".message.success")).to_contain_text("is enrolled in")
    first = Session.objects.get(enrolment__patient=patient, sequence=1)

    # The rival's booking page is opened now, so it still offers the same slot later.
    stale = new_page()
    stale.context.add_cookies(desk.context.cookies())
    stale.goto(f"{url}/sessions/{rival_first.pk}/book/")
    expect(stale.locator("button.slot").first).to_have_text("08:00")

    # Book the first offered slot.
    desk.locator(f"tr[data-session='{first.pk}']").get_by_role("link", name="Book").click()
    slot = desk.locator("button.slot").first
    expect(slot).to_have_text("08:00")
    slot.click()
    expect(desk.locator(".message.success")).to_contain_text(
        f"Booked Baseline assessment #1 ({HAIR}) for Hanna Weber on {tomorrow:%a %d %b %Y} at 08:00 with {clinician.display_name}"
    )
    first.refresh_from_db()
    assert first.status == SessionStatus.BOOKED
    assert first.start == dt.datetime.combine(tomorrow, dt.time(8), tzinfo=tz)
    # Reception sees no Complete button, on the patient page or the session page.
    expect(desk.get_by_role("link", name="Complete")).to_have_count(0)
    desk.goto(f"{url}/sessions/{first.pk}/book/")
    expect(desk.locator("summary", has_text="Cancel booking…")).to_be_visible()
    expect(desk.get_by_role("link", name="Complete")).to_have_count(0)

    # It is on tomorrow's agenda, and leads back to the patient.
    # Nothing is booked today, so the agenda opens on the next booked day.
    desk.get_by_role("link", name="Agenda").click()
    expect(desk.locator(".message")).to_contain_text("next day with bookings")
    expect(desk.locator("h1")).to_contain_text(f"{tomorrow:%A %d %B %Y}")
    card = desk.locator(f"a.appt[data-session='{first.pk}']")
    expect(card).to_contain_text("08:00–08:30")
    expect(card).to_contain_text("Hanna Weber")
    expect(card).to_contain_text("Baseline assessment")
    card.click()
    expect(desk.get_by_role("heading", name="Hanna Weber")).to_be_visible()

    # The stale page's slot is gone: a clear conflict message, nothing booked.
    stale.locator("button.slot").first.click()
    expect(stale.locator(".message.error")).to_contain_text(
        f"Not booked: {clinician.display_name} is already booked at this time."
    )
    rival_first.refresh_from_db()
    assert rival_first.status == SessionStatus.PLANNED

    # The clinician completes the visit once it has begun.
    lot = lot_of(patient.clinic, "SC-2611-04")  # the lot the clinic holds, to pick on the Complete page
    with time_machine.travel(first.start + dt.timedelta(minutes=5), tick=True):
        doc = browser_login(new_page(), url, clinician)
        doc.goto(f"{url}/patients/{patient.pk}/")
        doc.locator(f"tr[data-session='{first.pk}']").get_by_role("link", name="Complete").click()
        density = doc.get_by_label("Hair density")
        expect(density).to_have_attribute("max", "600")
        density.fill("700")
        doc.get_by_label("Mean hair shaft diameter").fill("48")
        doc.get_by_role("button", name="Complete session").click()
        expect(doc.locator("#id_measure_hair_density_error")).to_contain_text(
            "Too high: enter a number between 0 and 600 hairs/cm²"
        )
        doc.get_by_label("Hair density").fill("120")
        doc.get_by_label("Product lot").select_option(value=str(lot.pk))
        doc.get_by_role("button", name="Complete session").click()
        expect(doc.locator(".message.success")).to_contain_text("is completed")
        chart = doc.locator("figure[data-measure='hair_density']")
        expect(chart.locator("circle.point")).to_have_count(1)
        expect(chart).to_contain_text("one value so far")

        # A later assessment with a higher density: the chart shows the change.
        later = Session.objects.get(enrolment__patient=patient, sequence=8)
        start = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(10), tzinfo=tz)
        later = services.book_session(
            session=later, start=start, practitioner=clinician, override_reason="Early review", by=clinician
        )
        services.complete_session(
            session=later,
            by=clinician,
            # PGIC: the patient's impression, asked at the end of the course (fourth edition, SPEC §17).
            outcomes=[{"measure": "hair_density", "value": 150}, {"measure": "hair_thickness", "value": 52},
                      {"measure": "pgic", "value": 2}],
            now=start + dt.timedelta(minutes=30),
        )
        doc.reload()
        expect(chart.locator("circle.point")).to_have_count(2)
        expect(chart.locator(".change")).to_have_text("+25.0 %")
        expect(chart.locator("line.baseline")).to_have_count(1)
        expect(chart.locator("svg")).to_contain_text("hairs/cm²")
        expect(doc.locator("figure[data-measure='hair_thickness'] .change")).to_have_text(re.compile(r"\+8\.3 %"))
