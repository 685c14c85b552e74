"""SPEC §14: names and other single-line text refuse control, bidi-override
and zero-width characters with a 400 naming the field; notes keep newlines."""

import pytest
from rest_framework.test import APIClient

from core.text import forbidden_character
from patients.models import Patient
from tests.web.conftest import login

BAD = {
    "CR LF": "Anna\r\nBcc: x@example.org",
    "tab": "Anna\tMaria",
    "escape": "Anna\x1b[31m",
    "right-to-left override": "Anna\u202egnp.exe",
    "isolate": "Anna\u2066x\u2069",
    "zero-width space": "An\u200bna",
    "zero-width joiner": "An\u200dna",
    "BOM": "\ufeffAnna",
    "line separator": "Anna\u2028B",
    # Issue 30: invisible format characters and fillers.
    "soft hyphen": "An\u00adna",
    "Hangul filler": "Anna\u3164",
    "tag character": "Anna\U000e0041",
}


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
def test_a_patient_name_with_a_forbidden_character_is_a_400_naming_the_field(api, patient, text):
    response = api.patch(f"/api/v1/patients/{patient.pk}/", {"last_name": text}, format="json")
    assert response.status_code == 400
    assert "last_name" in response.json()
    assert "U+" in response.json()["last_name"][0]
    patient.refresh_from_db()
    assert patient.last_name == "Weber"


@pytest.mark.parametrize("field", ["name", "address", "phone"])
def test_the_clinic_name_address_and_phone_too(api, clinic, field):
    response = api.patch("/api/v1/clinic/", {field: "Charité\r\nSkin"}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    clinic.refresh_from_db()
    assert "\n" not in getattr(clinic, field)


def test_new_patient_record_number_and_protocol_and_step_names(api, hair_protocol):
    answer = api.post(
        "/api/v1/patients/",
        {"record_number": "M\u200b1", "first_name": "A", "last_name": "B", "date_of_birth": "1980-01-01"},
        format="json",
    )
    assert answer.status_code == 400 and "record_number" in answer.json()
    answer = api.post(
        "/api/v1/protocols/",
        {
            "name": "Scar\u202e",
            "indication": "scar",
            "delivery": "topical",
            "steps": [{"name": "Needle\nstep", "kind": "treatment"}],
        },
        format="json",
    )
    assert answer.status_code == 400
    body = answer.json()
    assert "name" in body or "steps" in body


def test_ordinary_names_pass(api, patient):
    for name in ("Weber-Schmidt", "O'Brien", "Müller", "Nguyễn", "محمد", "李小龙", "Zoë Ünal"):
        assert api.patch(f"/api/v1/patients/{patient.pk}/", {"last_name": name}, format="json").status_code == 200


def test_the_patient_form_refuses_them_beside_the_field(client, receptionist, patient):
    login(client, receptionist)
    response = client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "record_number": patient.record_number,
            "first_name": "Hanna\u200b",
            "last_name": "Weber",
            "date_of_birth": "1980-05-17",
        },
    )
    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors
    assert Patient.objects.get(pk=patient.pk).first_name == "Hanna"


def test_notes_keep_their_newlines():
    assert forbidden_character("Line one\nLine two\r\n\tindented", multiline=True) is None
    assert forbidden_character("Line one\nLine two") == "\n"
    assert forbidden_character("a\u202eb", multiline=True) == "\u202e"


def test_a_name_saved_before_the_rules_does_not_break_its_emails(patient, clinic, hair_protocol, receptionist):
    """Rows written before validation existed (a raw update) still make
    sendable messages: the header gets a space where the CR/LF was."""
    import datetime as dt

    from django.utils import timezone

    from messaging.emails import build_email
    from sessions import services
    from sessions.models import Reminder

    Patient.objects.filter(pk=patient.pk).update(last_name="Weber\r\nBcc: spy@example.org")
    type(clinic).objects.filter(pk=clinic.pk).update(name="Charité\r\nSkin")
    start = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(
        patient=Patient.objects.get(pk=patient.pk), protocol=hair_protocol, start_date=start, by=receptionist
    )
    reminder = Reminder.objects.filter(session__enrolment=enrolment).first()
    assert reminder is not None
    message = build_email(reminder).message()  # raised BadHeaderError before
    assert message["Bcc"] is None
    assert "Weber Bcc" in str(message["To"])
    assert "Charité Skin" in str(message["From"]) or "Charit" in str(message["From"])

    # The same read back from the bytes Django's SMTP backend sends.
    import email
    import email.policy

    wired = email.message_from_bytes(
        build_email(reminder).message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )
    assert wired["Bcc"] is None
    assert wired["To"].addresses[0].display_name.endswith("Weber Bcc: spy@example.org")
    assert wired["From"].addresses[0].display_name == "Charité Skin"
    assert str(wired["Subject"]).startswith("Charité Skin: ")


@pytest.mark.parametrize("text", ["Redness\x1b[31m", "Itch\x07", "Pain \u202eevil", "Swelling\u00ad"])
def test_adverse_event_text_refuses_control_and_bidi_characters_but_keeps_newlines(
    clinician, patient, hair_protocol, text
):
    from sessions import services
    from sessions.models import AdverseEvent

    enrolment = services.enrol_patient(
        patient=patient, protocol=hair_protocol, start_date=__import__("datetime").date(2026, 3, 2), by=clinician
    )
    client = APIClient()
    client.force_authenticate(clinician)
    url = f"/api/v1/enrolments/{enrolment.pk}/adverse-events/"
    answer = client.post(url, {"description": text, "grade": 1}, format="json")
    assert answer.status_code == 400 and "description" in answer.json()
    assert not AdverseEvent.objects.exists()
    ok = client.post(url, {"description": "Redness\nand itch,\tmild", "grade": 1}, format="json")
    assert ok.status_code == 201, ok.content
