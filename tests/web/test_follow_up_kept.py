"""The patient page of a patient withdrawn from treatment who keeps the
follow-up visits: it says so, and offers to book the follow-up only."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from tests.factories import make_protocol, step
from tests.web.conftest import browser_login

STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density"]),
    step("Injection", repeat=2, interval_days=14, window_after_days=14, duration_minutes=45, measures=["pain_vas"]),
    step("Follow-up at 6 months", "assessment", interval_days=182, anchor="treatment", window_before_days=14,
         window_after_days=14, measures=["hair_density"], follow_up=True),
]


@pytest.mark.django_db
def test_the_page_offers_the_kept_follow_up_only(client, clinic, patient, receptionist, clinician):
    protocol = make_protocol(clinic, steps=STEPS, name="Hair with follow-up")
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow, by=receptionist)
    services.withdraw_enrolment(enrolment=enrolment, by=clinician, keep_follow_up=True)
    sessions = {s.step.name: s for s in enrolment.sessions.select_related("step")}

    client.force_login(receptionist)
    page = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()

    assert "Withdrawn from treatment, follow-up visits kept" in page
    assert reverse("session_book", args=[sessions["Follow-up at 6 months"].pk]) in page
    assert reverse("session_book", args=[sessions["Injection"].pk]) not in page
    assert reverse("session_book", args=[sessions["Baseline assessment"].pk]) not in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_kept_follow_up_is_booked_from_the_patient_page(
    live_server, new_page, tmp_path, clinic, patient, receptionist, clinician
):
    protocol = make_protocol(clinic, steps=STEPS, name="Hair with follow-up")
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow, by=receptionist)
    services.withdraw_enrolment(enrolment=enrolment, by=clinician, keep_follow_up=True)

    page = browser_login(new_page(width=1280, height=1000), live_server.url, receptionist)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.screenshot(path=str(tmp_path / "patient-follow-up-kept.png"), full_page=True)
    assert "follow-up visits kept" in page.inner_text("body")
    page.get_by_role("link", name="Book", exact=True).first.click()
    assert "Follow-up at 6 months" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "book-follow-up.png"), full_page=True)
