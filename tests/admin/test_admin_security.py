"""Issue 14's admin findings: history pages reveal nothing about another
clinic's rows (404 like a missing one), never revert, and a duplicate record
number is a form error, not a 500."""

from django.urls import reverse

from patients.models import Patient
from sessions.models import OutcomeMeasurement


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_another_clinics_history_is_404_like_a_missing_one(client, admin_manager, other_history, clinic_history):
    client.force_login(admin_manager)
    theirs = OutcomeMeasurement.objects.get(session__enrolment=other_history)
    missing = OutcomeMeasurement.objects.order_by("-pk").first().pk + 1000
    assert client.get(url(OutcomeMeasurement, "history", theirs.pk)).status_code == 404
    assert client.get(url(OutcomeMeasurement, "history", missing)).status_code == 404
    assert client.get(url(OutcomeMeasurement, "history", "not-a-number")).status_code == 404
    version = theirs.history.first().history_id
    assert client.get(url(OutcomeMeasurement, "simple_history", theirs.pk, version)).status_code == 404
    ours = OutcomeMeasurement.objects.get(session__enrolment=clinic_history)
    assert client.get(url(OutcomeMeasurement, "history", ours.pk)).status_code == 200


def test_history_never_offers_a_revert(admin_client, clinic_history):
    patient = clinic_history.patient
    patient.reminder_consent = False
    patient.save()
    version = patient.history.order_by("history_date").first()
    page = admin_client.get(url(Patient, "simple_history", patient.pk, version.history_id))
    assert page.status_code == 200
    assert "Revert" not in page.content.decode()
    answer = admin_client.post(url(Patient, "simple_history", patient.pk, version.history_id), {})
    patient.refresh_from_db()
    assert answer.status_code in (200, 403) and patient.reminder_consent is False


def test_a_duplicate_record_number_is_a_form_error(client, admin_manager, clinic):
    from tests.factories import PatientFactory

    first = PatientFactory(clinic=clinic, record_number="MRN-1")
    second = PatientFactory(clinic=clinic, record_number="MRN-2")
    client.force_login(admin_manager)
    response = client.post(url(Patient, "change", second.pk), {
        "record_number": first.record_number, "first_name": second.first_name, "last_name": second.last_name,
        "date_of_birth": "1980-05-17", "phone": "", "skin_type": "3",
    })
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Patient.objects.get(pk=second.pk).record_number == "MRN-2"
