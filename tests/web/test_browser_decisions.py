"""SPEC §19 in a real Chromium: a clinician completes a decision visit, the
completion leads to the proposal with the values the rules read, the due
list lists it until it is decided, and accepting it re-plans the course,
which the patient page shows."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from protocols.models import Protocol
from protocols.services import load_library
from sessions import services
from sessions.models import Decision, SessionStatus
from tests.factories import PatientFactory
from tests.web.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_proposal_on_the_completion_page_accepted_in_the_browser(
    live_server, new_page, clinic, receptionist, clinician
):
    load_library(clinic)
    protocol = Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)
    patient = PatientFactory(clinic=clinic, first_name="Jonas", last_name="Brandt")
    tz = clinic.tz
    start = timezone.now().astimezone(tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=start, by=receptionist)
    baseline = enrolment.sessions.order_by("sequence").first()
    at_ten = dt.datetime.combine(start, dt.time(10), tzinfo=tz)
    services.book_session(session=baseline, start=at_ten, practitioner=clinician, by=receptionist)
    with time_machine.travel(at_ten + dt.timedelta(minutes=30), tick=False):
        services.complete_session(
            session=baseline, by=clinician,
            outcomes=[{"measure": "hair_density", "value": 100}, {"measure": "hair_thickness", "value": 50}],
            not_done_reason="Grade not taken",
        )
        for session in enrolment.sessions.filter(step__kind="treatment"):
            services.skip_session(session=session, reason="Not part of this walk", by=clinician)
        end = enrolment.sessions.get(step__name="End-of-course assessment")
        visit = dt.datetime.combine(end.target_date, dt.time(10), tzinfo=tz)
        end = services.book_session(session=end, start=visit, practitioner=clinician, by=receptionist)

    url = live_server.url
    with time_machine.travel(visit + dt.timedelta(minutes=5), tick=True):
        doc = browser_login(new_page(), url, clinician)
        doc.goto(f"{url}/sessions/{end.pk}/complete/")
        doc.get_by_label("Hair density").fill("115")
        doc.get_by_label("Mean hair shaft diameter").fill("52")
        doc.get_by_label("Patient Global Impression of Change").fill("2")  # asked of the patient (SPEC §17)
        doc.get_by_role("button", name="Complete session").click()
        expect(doc.locator(".message.success")).to_contain_text("is completed")
        proposal = doc.locator("#proposal")
        expect(proposal).to_contain_text("switch to the maintenance arm")
        expect(proposal).to_contain_text("hair_density percent_change >= 10")
        expect(proposal.locator("tr", has_text="hair_density")).to_contain_text("15.00")

        # Listed on the due list until decided.
        doc.goto(f"{url}/due/")
        decision = Decision.objects.get(session=end)
        row = doc.locator(f"#proposals tr[data-decision='{decision.pk}']")
        expect(row).to_contain_text("switch_to: maintenance")
        row.get_by_role("link", name="Decide").click()

        doc.get_by_role("button", name="Accept: switch to the maintenance arm").click()
        expect(doc.locator(".message.success")).to_contain_text("re-planned")
        expect(doc.locator("#decided")).to_contain_text("accepted")

        doc.goto(f"{url}/due/")
        expect(doc.locator("#proposals")).to_have_count(0)
        doc.goto(f"{url}/patients/{patient.pk}/")
        arm = list(enrolment.sessions.filter(arm="maintenance").order_by("sequence"))
        assert [s.status for s in arm] == [SessionStatus.PLANNED] * 2
        for session in arm:
            expect(doc.locator(f"tr[data-session='{session.pk}']")).to_contain_text("Maintenance injection")
        expect(doc.locator(f"li[data-decision='{decision.pk}']")).to_contain_text("accepted")
