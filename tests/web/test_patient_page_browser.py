"""The patient's page behind an email's link, in a real Chromium at a phone's
width (375 px): read the visit, say "I'll come", then cancel (asked twice). The link is
read out of the confirmation email the outbox sent. (A spent link's page is
a 404, which the console watch would count as an error: the HTTP tests in
tests/messaging/test_patient_links.py cover it.)

`make screenshots` (REGIMEN_SCREENSHOTS) keeps the PNGs in docs/screenshots."""

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from messaging import outbox
from sessions import services
from sessions.models import PatientCancellation, SessionStatus
from tests.factories import make_protocol, step
from tests.web.conftest import browser_login, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shots_dir(tmp_path) -> Path:
    target = os.environ.get("REGIMEN_SCREENSHOTS")
    path = Path(target) if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_a_patient_confirms_then_cancels_on_a_phone(
    live_server, new_page, tmp_path, clinic, patient, receptionist, clinician, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()
    protocol = make_protocol(
        clinic, steps=[step("Scalp injection", repeat=1, window_after_days=30, duration_minutes=30)], name="Hair"
    )
    tz = clinic.tz
    today = timezone.now().astimezone(tz).date()
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=today, by=receptionist)
    start = dt.datetime.combine(today + dt.timedelta(days=5), dt.time(10, 0), tzinfo=tz)
    session = services.book_session(
        session=enrolment.sessions.get(), start=start, practitioner=clinician, by=receptionist
    )
    outbox.scan()
    [confirmation] = mail.outbox
    path = urlparse(re.search(r"https?://\S+/p/\S+/", confirmation.body).group(0)).path
    out = _shots_dir(tmp_path)

    phone = new_page(width=375, height=740)
    phone.goto(f"{live_server.url}{path}")
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    expect(phone.get_by_text(clinic.name).first).to_be_visible()
    expect(phone.get_by_text("Scalp injection (Hair)")).to_be_visible()
    expect(phone.get_by_text(f"{start:%A} {start.day} {start:%B %Y}, 10:00")).to_be_visible()
    expect(phone.get_by_role("link", name="Agenda")).to_have_count(0)  # no staff navigation
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(out / "patient-link-375px.png"), full_page=True)

    phone.get_by_role("button", name="I'll come").click()
    expect(phone.get_by_role("status")).to_contain_text("we have noted that you will come")
    expect(phone.get_by_role("button", name="I'll come")).to_have_count(0)
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(out / "patient-link-confirmed-375px.png"), full_page=True)

    phone.get_by_role("button", name="Cancel").click()
    expect(phone.get_by_text("Cancel this appointment?")).to_be_visible()
    phone.screenshot(path=str(out / "patient-link-cancel-ask-375px.png"), full_page=True)
    phone.get_by_role("button", name="No, keep it").click()
    expect(phone.get_by_role("button", name="I'll come")).to_have_count(0)  # back to the page, still confirmed
    phone.get_by_role("button", name="Cancel").click()
    phone.get_by_role("button", name="Yes, cancel it").click()
    expect(phone.get_by_role("heading", name="Your appointment is cancelled")).to_be_visible()
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(out / "patient-link-cancelled-375px.png"), full_page=True)
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    assert PatientCancellation.objects.filter(session=session).exists()

    # Staff see it on the agenda of that day.
    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/agenda/?date={start.date().isoformat()}")
    expect(desk.get_by_text("cancelled by patient", exact=True)).to_be_visible()
    expect(desk.get_by_role("link", name=patient.full_name)).to_be_visible()
    desk.screenshot(path=str(out / "agenda-patient-cancelled.png"), full_page=True)
