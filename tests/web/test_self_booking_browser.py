"""A patient books their own visit (SPEC §18) in a real Chromium at a phone's
width (375 px): from the "time to book" email's link to a booked time with
"add to calendar", then staff see "booked by the patient" on the agenda.
Also looked at 800 px wide.

`make screenshots` (REGIMEN_SCREENSHOTS) keeps the PNGs in docs/screenshots."""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging import emails
from sessions import services
from sessions.models import Reminder, ReminderKind, SessionStatus
from tests.factories import PatientFactory, make_protocol, step
from tests.web.conftest import browser_login, no_horizontal_scroll
from tests.web.test_patient_page_browser import _shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_books_a_time_in_the_window_from_the_email_on_a_phone(
    live_server, new_page, tmp_path, clinic, patient, receptionist, clinician, manager, settings
):
    settings.SITE_URL = live_server.url
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.patients_may_book = True
    clinic.save()
    protocol = make_protocol(
        clinic, steps=[step("Scalp injection", repeat=1, window_after_days=20, duration_minutes=30)], name="Hair"
    )
    today = timezone.now().astimezone(clinic.tz).date()
    enrolment = services.enrol_patient(
        patient=patient, protocol=protocol, start_date=today + dt.timedelta(days=3), by=receptionist
    )
    session = enrolment.sessions.get()
    first_day = today + dt.timedelta(days=3)
    # The practitioner listed first is busy at 10:00 that day (another
    # patient): 10:00 is offered with the colleague, named.
    first, second = sorted((clinician, manager), key=lambda u: (u.display_name.lower(), u.pk))
    other = services.enrol_patient(
        patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=first_day, by=receptionist
    )
    services.book_session(
        session=other.sessions.get(),
        start=dt.datetime.combine(first_day, dt.time(10), tzinfo=clinic.tz),
        practitioner=first,
        by=receptionist,
    )
    email = emails.build_email(Reminder.objects.get(session=session, kind=ReminderKind.WINDOW_OPEN))
    path = urlparse(re.search(r"https?://\S+/p/\S+/book/", email.body).group(0)).path
    out = _shots_dir(tmp_path)

    wide = new_page(width=800, height=900)
    wide.goto(f"{live_server.url}{path}")
    expect(wide.get_by_role("heading", name="Choose a time for your visit")).to_be_visible()
    assert no_horizontal_scroll(wide)
    wide.screenshot(path=str(out / "self-booking-800px.png"), full_page=False)

    phone = new_page(width=375, height=740)
    phone.goto(f"{live_server.url}{path}")
    expect(phone.get_by_role("heading", name="Choose a time for your visit")).to_be_visible()
    expect(phone.get_by_text("Scalp injection (Hair)")).to_be_visible()
    expect(phone.get_by_role("link", name="Agenda")).to_have_count(0)  # no staff navigation
    expect(phone.locator("details.slot-day").first.locator("summary")).to_have_text(
        f"{first_day:%A} {first_day.day} {first_day:%B %Y}"
    )
    # Each time once: with the first practitioner, else the colleague, named;
    # the days after the first are folded.
    expect(phone.locator("details.slot-day[open]")).to_have_count(1)
    expect(phone.locator("details.slot-day").first.locator(".slot-who")).to_have_count(2)
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(out / "self-booking-375px.png"), full_page=False)

    group = phone.locator("details.slot-day").first.locator("form.slot-group").filter(has_text=second.display_name)
    group.get_by_role("button", name="10:00").click()
    expect(phone.get_by_role("heading", name="You are booked")).to_be_visible()
    expect(phone.get_by_role("status")).to_contain_text("your visit is booked")
    expect(phone.get_by_text(f"{first_day:%A} {first_day.day} {first_day:%B %Y}, 10:00")).to_be_visible()
    expect(phone.get_by_role("link", name="Add to calendar")).to_be_visible()
    expect(phone.get_by_role("heading", name="Choose another time")).to_be_visible()
    assert no_horizontal_scroll(phone)
    phone.screenshot(path=str(out / "self-booking-booked-375px.png"), full_page=False)

    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED and session.booked_by_patient
    assert session.practitioner == second
    assert session.start == dt.datetime.combine(first_day, dt.time(10), tzinfo=clinic.tz)

    desk = browser_login(new_page(), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/agenda/?date={first_day.isoformat()}")
    expect(desk.get_by_text("booked by the patient", exact=True).first).to_be_visible()
    desk.screenshot(path=str(out / "agenda-booked-by-patient.png"), full_page=False)
