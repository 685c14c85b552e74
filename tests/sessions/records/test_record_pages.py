"""The clinical records on the staff pages (SPEC §12): the Complete page
asks for the lot (the protocol's product pre-filled), the patient page
shows consent, serious events and photographs baseline beside latest, the
recall list prints; and, in Chromium, how a clinic's staff see them."""

import datetime as dt
import io
import os

import pytest
import time_machine
from django.test import Client
from PIL import Image

from core.env import media_storage
from patients.consents import record_consent
from sessions.models import SessionStatus
from sessions.records.adverse_events import report_adverse_event
from sessions.records.photos import add_photo
from tests.factories import PASSWORD, lot_of
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, no_horizontal_scroll, unlabelled_fields

SHOTS = os.environ.get("REGIMEN_SHOTS_DIR", "/tmp/regimen-shots-w10")


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def disk(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": media_storage("", media_root=str(tmp_path))}


def photo_bytes(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_complete_page_requires_a_lot_and_prefills_the_protocols_product(
    clinician, booked_injection, clinic, hair_protocol
):
    hair_protocol.product = "Secretome serum, 2 mL per session"
    hair_protocol.save()
    old = lot_of(clinic, "OLD", expiry=dt.date(2026, 3, 1))  # expired before the visit: not offered
    soon = lot_of(clinic, "SOON", expiry=dt.date(2026, 6, 30))
    lot_of(clinic, "LATER", expiry=dt.date(2027, 6, 30))
    client = logged_in(clinician)
    page = client.get(f"/sessions/{booked_injection.pk}/complete/").content.decode()
    assert f'<option value="{soon.pk}" selected>' in page
    assert f"lot {old.lot_number} ·" not in page and "lot LATER ·" in page
    refused = client.post(f"/sessions/{booked_injection.pk}/complete/", {
        "measure_pain_vas": "2", "lot": "", "ae-TOTAL_FORMS": "0", "ae-INITIAL_FORMS": "0",
    })
    assert refused.status_code == 200
    assert "must name the product lot" in refused.content.decode()
    booked_injection.refresh_from_db()
    assert booked_injection.status == SessionStatus.BOOKED
    done = client.post(f"/sessions/{booked_injection.pk}/complete/", {
        "measure_pain_vas": "2", "lot": str(soon.pk), "ae-TOTAL_FORMS": "1", "ae-INITIAL_FORMS": "0",
        "ae-0-description": "Headache", "ae-0-grade": "2", "ae-0-related_to_treatment": "unknown",
    })
    assert done.status_code == 302
    booked_injection.refresh_from_db()
    assert (booked_injection.status, booked_injection.lot_id) == (SessionStatus.COMPLETED, soon.pk)
    assert booked_injection.adverse_events.get().severity == "moderate"


@pytest.fixture
def records(clinician, receptionist, booked_injection, baseline, patient, disk, lot):
    """Photography consent, a vertex photograph at the baseline and one at the
    first injection, a serious event between visits, and a completed injection."""
    record_consent(patient=patient, kind="photography", given=True, by=receptionist)
    record_consent(patient=patient, kind="registry", given=False, by=receptionist)
    from sessions import services

    services.book_session(
        session=baseline, start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), practitioner=clinician,
        by=receptionist, now=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC),
    )
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), tick=False):
        add_photo(session=baseline, view="vertex", data=photo_bytes((190, 150, 130)), by=clinician)
    add_photo(session=booked_injection, view="vertex", data=photo_bytes((170, 130, 110)), by=clinician)
    report_adverse_event(
        enrolment=booked_injection.enrolment,
        data={"description": "Facial swelling, admitted overnight", "grade": 3, "serious": True,
              "onset_date": dt.date(2026, 3, 10)},
        by=clinician,
    )
    services.complete_session(
        session=booked_injection, by=clinician, outcomes=[{"measure": "pain_vas", "value": 2}], lot=lot
    )
    return patient


def test_the_patient_page_shows_consent_serious_events_and_photos_side_by_side(clinician, records):
    page = logged_in(clinician).get(f"/patients/{records.pk}/").content.decode()
    assert "Serious adverse event" in page and "Facial swelling" in page
    assert "Photography" in page and "Registry (de-identified export)" in page and "withdrawn" in page
    assert page.count("/api/v1/photos/") == 4  # two thumbnails, each linked to its image
    assert "Vertex, baseline, 02 Mar 2026" in page and "Vertex, latest, 16 Mar 2026" in page


def test_the_recall_page_lists_the_patient(receptionist, records, lot):
    page = logged_in(receptionist).get(f"/lots/{lot.pk}/recall/").content.decode()
    assert records.record_number in page and records.email in page
    assert f"/api/v1/lots/{lot.pk}/recall.csv" in page


def test_another_clinics_recall_page_is_not_found(outsider, lot):
    assert logged_in(outsider).get(f"/lots/{lot.pk}/recall/").status_code == 404


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.django_db(transaction=True)
def test_the_pages_in_a_browser(live_server, browser, clinician, records, lot, booked_injection):
    """Looked at as the clinic's staff would: no console error, every field
    labelled, nothing scrolls sideways; screenshots for the record."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.makedirs(SHOTS, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(clinician.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    for name, path in [
        ("patient-records", f"/patients/{records.pk}/"),
        ("lot-recall", f"/lots/{lot.pk}/recall/"),
        ("lots", "/lots/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)
        assert no_horizontal_scroll(page), name
        assert unlabelled_fields(page) == [], name
    page.goto(f"{live_server.url}/patients/{records.pk}/")
    page.wait_for_function("[...document.querySelectorAll('.photo-pair img')].every(i => i.complete)")
    widths = page.evaluate("[...document.querySelectorAll('.photo-pair img')].map(i => i.naturalWidth)")
    assert widths == [320, 320]  # both thumbnails load for the clinic's staff
    context.close()
    assert errors == []
