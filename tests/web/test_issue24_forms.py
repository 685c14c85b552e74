"""Issue 24: the page forms for what only the API did — consent, photo
upload, adding a lot, the patient's sex — and the Complete and Correct
pages (read-only totals, full adverse events, the lot's received date,
the current value)."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from audit.models import AuditEvent
from patients.consents import record_consent
from patients.models import Consent, Patient
from protocols.models import Lot
from sessions import services
from sessions.models import AdverseEvent, OutcomeMeasurement, SessionPhoto
from tests.factories import lot_of, make_protocol, step
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def jpeg() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 150, 120)).save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = "scalp.jpg"
    return buffer


@pytest.fixture
def booked_visit(clinic, patient, receptionist, clinician):
    """A one-visit hair baseline (density, Norwood, Ludwig) booked tomorrow at 10:00."""
    protocol = make_protocol(clinic, name="Hair check",
                             steps=[step("Baseline assessment", "assessment",
                                         measures=["hair_density", "norwood", "ludwig"])])
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow, by=receptionist)
    session = enrolment.sessions.get()
    start = dt.datetime.combine(session.target_date, dt.time(10), tzinfo=clinic.tz)
    return services.book_session(session=session, start=start, practitioner=clinician, by=receptionist)


# --- Consent -------------------------------------------------------------------------------------


def test_reception_records_and_withdraws_consent_on_the_patient_page(receptionist, patient):
    desk = login(Client(), receptionist)
    url = reverse("patient_consent", args=[patient.pk])
    answer = desk.post(url, {"kind": "photography", "given": "yes", "on": "", "note": "Signed form"})
    assert answer.status_code == 302
    desk.post(url, {"kind": "treatment", "given": "no", "note": ""})
    rows = list(Consent.objects.filter(patient=patient).order_by("id"))
    assert [(c.kind, c.given, c.recorded_by) for c in rows] == [
        ("photography", True, receptionist), ("treatment", False, receptionist)
    ]
    assert AuditEvent.objects.filter(action="create", object_type="patients.consent", patient_ref=patient.pk).count() == 2
    page = desk.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert "Signed form" in page and receptionist.display_name in page


@pytest.mark.parametrize(
    ("data", "field"),
    [({"kind": "tattoo", "given": "yes"}, "kind"), ({"kind": "registry"}, "given"),
     ({"kind": "registry", "given": "yes", "on": "2999-01-01"}, "on")],
)
def test_a_bad_consent_is_400_and_records_nothing(receptionist, patient, data, field):
    answer = login(Client(), receptionist).post(reverse("patient_consent", args=[patient.pk]), data)
    assert answer.status_code == 400
    assert f'id="consent_{field}' in answer.content.decode() or "future" in answer.content.decode()
    assert not Consent.objects.exists()


# --- Photographs ---------------------------------------------------------------------------------


def test_a_clinician_uploads_a_photo_only_with_consent(clinician, receptionist, patient, booked_visit, settings,
                                                       tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    doc = login(Client(), clinician)
    url = reverse("patient_photo", args=[patient.pk])
    refused = doc.post(url, {"session": booked_visit.pk, "view": "vertex", "image": jpeg()})
    assert refused.status_code == 400 and "photography consent" in refused.content.decode()
    assert not SessionPhoto.objects.exists()
    record_consent(patient=patient, kind="photography", given=True, by=receptionist)
    bad = doc.post(url, {"session": booked_visit.pk, "view": "vertex",
                         "image": io.BytesIO(b"not an image at all")})
    assert bad.status_code == 400 and not SessionPhoto.objects.exists()
    assert doc.post(url, {"session": booked_visit.pk, "view": "vertex", "image": jpeg()}).status_code == 302
    photo = SessionPhoto.objects.get()
    assert (photo.session, photo.view, photo.taken_by) == (booked_visit, "vertex", clinician)
    assert login(Client(), receptionist).post(url, {"session": booked_visit.pk, "view": "vertex",
                                                    "image": jpeg()}).status_code == 403


# --- Lots ----------------------------------------------------------------------------------------


def test_the_manager_adds_a_lot_on_the_lots_page(manager, receptionist, clinic):
    product = lot_of(clinic).product
    page = login(Client(), manager)
    assert "Add a lot" in page.get(reverse("lot_list")).content.decode()
    answer = page.post(reverse("lot_add"), {"product": product.pk, "lot_number": "SEC-2027-02",
                                            "expiry_date": "2027-12-31", "received_on": "2026-12-01"})
    assert answer.status_code == 302
    assert Lot.objects.get(lot_number="SEC-2027-02").received_on == dt.date(2026, 12, 1)
    again = page.post(reverse("lot_add"), {"product": product.pk, "lot_number": "SEC-2027-02", "expiry_date": "2027-12-31"})
    assert again.status_code == 400 and "already has a lot" in again.content.decode()
    late = page.post(reverse("lot_add"), {"product": product.pk, "lot_number": "X", "expiry_date": "2027-01-01",
                                          "received_on": "2027-02-01"})
    assert late.status_code == 400 and "after its expiry" in late.content.decode()
    assert "Add a lot" not in login(Client(), receptionist).get(reverse("lot_list")).content.decode()
    assert login(Client(), receptionist).post(reverse("lot_add"), {}).status_code == 403


# --- The patient's sex ---------------------------------------------------------------------------


def test_the_patient_forms_have_sex_and_the_baseline_asks_for_one_hair_grade(receptionist, clinician, patient,
                                                                             booked_visit):
    desk = login(Client(), receptionist)
    assert 'name="sex"' in desk.get(reverse("patient_create")).content.decode()
    answer = desk.post(reverse("patient_edit", args=[patient.pk]), {
        "record_number": patient.record_number, "first_name": "Hanna", "last_name": "Weber",
        "date_of_birth": "1980-05-17", "email": patient.email, "sex": "female", "reminder_consent": "on",
    })
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Patient.objects.get(pk=patient.pk).sex == "female"
    with time_machine.travel(booked_visit.start + dt.timedelta(minutes=5), tick=False):
        page = login(Client(), clinician).get(reverse("session_complete", args=[booked_visit.pk])).content.decode()
    assert 'name="measure_ludwig"' in page and 'name="measure_norwood"' not in page


# --- Complete and Correct ------------------------------------------------------------------------

AE_EMPTY = {"ae-TOTAL_FORMS": "2", "ae-INITIAL_FORMS": "0", "ae-MIN_NUM_FORMS": "0", "ae-MAX_NUM_FORMS": "20"}


def test_the_complete_page_records_an_adverse_events_onset_outcome_and_action(clinician, patient, booked_visit):
    Patient.objects.filter(pk=patient.pk).update(sex="female")
    doc = login(Client(), clinician)
    with time_machine.travel(booked_visit.start + dt.timedelta(minutes=5), tick=False):
        onset = booked_visit.start.astimezone(booked_visit.clinic.tz).date()
        answer = doc.post(reverse("session_complete", args=[booked_visit.pk]), {
            **AE_EMPTY, "measure_hair_density": "120", "measure_ludwig": "2",
            "ae-0-description": "Erythema at the injection sites", "ae-0-grade": "1",
            "ae-0-related_to_treatment": "yes", "ae-0-onset_date": onset.isoformat(),
            "ae-0-outcome": "recovering", "ae-0-action_taken": "medication",
        })
    assert answer.status_code == 302, re.findall(r"(?:field-error|form-errors|message error)[^<]*<?[^<]*", answer.content.decode())
    event = AdverseEvent.objects.get()
    assert (event.onset_date, event.outcome, event.action_taken) == (onset, "recovering", "medication")


def test_a_scored_total_is_read_only_and_worked_out_from_the_items(clinic, patient, receptionist, clinician):
    from tests.web.test_scored_items import SCORAD_POST, post

    protocol = make_protocol(clinic, name="AD", indication="atopic_dermatitis", delivery="topical",
                             steps=[step("Assessment", "assessment", duration_minutes=30, measures=["scorad", "easi", "dlqi"])])
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    session = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow, by=receptionist).sessions.get()
    session = services.book_session(session=session, start=dt.datetime.combine(tomorrow, dt.time(10), tzinfo=clinic.tz),
                                    practitioner=clinician, by=receptionist)
    doc = login(Client(), clinician)
    with time_machine.travel(session.start + dt.timedelta(minutes=5), tick=False):
        page = doc.get(reverse("session_complete", args=[session.pk])).content.decode()
    assert 'name="measure_scorad"' in page
    tag = page[page.index('name="measure_scorad"') - 300: page.index('name="measure_scorad"') + 300]
    assert "disabled" in tag and "readonly" in tag
    # A typed total is ignored; with an item missing the page comes back showing the items' errors.
    answer = post(doc, session, **{**SCORAD_POST, "items_scorad__pruritus": "", "measure_scorad": "99"})
    assert answer.status_code == 200 and 'value="99"' not in answer.content.decode()
    answer = post(doc, session, **SCORAD_POST, measure_scorad="99")
    assert answer.status_code == 302
    assert OutcomeMeasurement.objects.get(session=session, measure__code="scorad").value == 51.5


@pytest.fixture
def client_as_api():
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_a_lot_received_after_the_visit_is_refused(client_as_api, clinic, clinician, booked_visit):
    late = lot_of(clinic, number="LATE-1")
    Lot.objects.filter(pk=late.pk).update(received_on=booked_visit.start.date() + dt.timedelta(days=10))
    with time_machine.travel(booked_visit.start + dt.timedelta(minutes=5), tick=False):
        page = login(Client(), clinician).get(reverse("session_complete", args=[booked_visit.pk])).content.decode()
        answer = client_as_api(clinician).post(
            f"/api/v1/sessions/{booked_visit.pk}/complete/",
            {"outcomes": [{"measure": "hair_density", "value": 120}], "not_done_reason": "partial", "lot": late.pk},
            format="json",
        )
    assert "LATE-1" not in page
    assert answer.status_code == 400 and "received on" in answer.json()["lot"][0]


def test_the_correct_page_shows_the_current_value_with_its_unit(clinician, patient, booked_visit):
    Patient.objects.filter(pk=patient.pk).update(sex="female")
    with time_machine.travel(booked_visit.start + dt.timedelta(minutes=5), tick=False):
        services.complete_session(session=booked_visit, by=clinician,
                                  outcomes=[{"measure": "hair_density", "value": 120}, {"measure": "ludwig", "value": 2}])
    measurement = OutcomeMeasurement.objects.get(session=booked_visit, measure__code="hair_density")
    page = login(Client(), clinician).get(reverse("outcome_correct", args=[measurement.pk])).content.decode()
    assert "Current value" in page
    assert f'<strong>120</strong> <span class="unit">{measurement.measure.unit}</span>' in page
    assert 'value="120' in page  # the form starts from it
