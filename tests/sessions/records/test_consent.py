"""Consent per patient and kind (SPEC §12): given or withdrawn with its date
and who recorded it; email reminders follow the email_reminders consent;
the history cannot be rewritten, not even from the admin."""

import pytest

from patients.models import Consent, Patient
from sessions.models import Reminder, ReminderStatus
from sessions.patients.changes import change_consent


def consents_url(patient):
    return f"/api/v1/patients/{patient.pk}/consents/"


def test_consent_is_recorded_with_its_date_and_who_recorded_it(client_as, receptionist, patient, frozen):
    answer = client_as(receptionist).post(
        consents_url(patient), {"kind": "photography", "given": True, "on": "2026-02-27"}, format="json"
    )
    assert answer.status_code == 201, answer.content
    current = answer.json()["current"]
    assert (current["photography"]["given"], current["photography"]["on"]) == (True, "2026-02-27")
    assert current["photography"]["recorded_by"] == receptionist.pk
    assert current["registry"] is None
    client_as(receptionist).post(consents_url(patient), {"kind": "photography", "given": False}, format="json")
    history = client_as(receptionist).get(consents_url(patient)).json()["history"]
    assert [(c["kind"], c["given"], c["on"]) for c in history if c["kind"] == "photography"] == [
        ("photography", True, "2026-02-27"),
        ("photography", False, "2026-03-01"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "marketing", "given": True}, "kind"),
        ({"kind": "registry", "given": True, "on": "2026-03-02"}, "on"),  # tomorrow
        ({"kind": "registry", "given": True, "on": "1970-01-01"}, "on"),  # before birth
        ({"kind": "registry"}, "given"),
    ],
)
def test_bad_consent_is_refused_naming_the_field(client_as, receptionist, patient, frozen, body, field):
    before = Consent.objects.count()
    answer = client_as(receptionist).post(consents_url(patient), body, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert Consent.objects.count() == before


def test_withdrawing_email_consent_voids_pending_reminders(client_as, receptionist, clinician, booked_injection, patient):
    assert Reminder.objects.filter(session=booked_injection, status=ReminderStatus.PENDING).exists()
    answer = client_as(receptionist).post(
        consents_url(patient), {"kind": "email_reminders", "given": False}, format="json"
    )
    assert answer.status_code == 201, answer.content
    patient.refresh_from_db()
    assert patient.reminder_consent is False
    assert not Reminder.objects.filter(session=booked_injection, status=ReminderStatus.PENDING).exists()
    assert client_as(receptionist).get(f"/api/v1/patients/{patient.pk}/").json()["reminder_consent"] is False


def test_the_patient_can_withdraw_email_consent_alone(booked_injection, patient):
    """The way an unsubscribe link withdraws: no member of staff (`by=None`)."""
    consent = change_consent(patient=patient, kind="email_reminders", given=False, by=None)
    assert consent.recorded_by is None
    assert Patient.objects.get(pk=patient.pk).reminder_consent is False
    assert not Reminder.objects.filter(session=booked_injection, status=ReminderStatus.PENDING).exists()


def test_editing_reminder_consent_on_the_patient_is_a_consent_statement(client_as, receptionist, patient, frozen):
    client_as(receptionist).patch(f"/api/v1/patients/{patient.pk}/", {"reminder_consent": False}, format="json")
    history = client_as(receptionist).get(consents_url(patient)).json()["history"]
    assert [(c["kind"], c["given"]) for c in history] == [("email_reminders", False)]


def test_another_clinic_cannot_see_or_add_consent(client_as, outsider, patient):
    assert client_as(outsider).get(consents_url(patient)).status_code == 404
    assert client_as(outsider).post(
        consents_url(patient), {"kind": "registry", "given": True}, format="json"
    ).status_code == 404


def test_the_admin_cannot_revert_a_patients_history(client, patient, receptionist, frozen):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(admin)
    client_as_rec = patient.history.order_by("history_id").first()
    answer = client.post(
        f"/admin/patients/patient/{patient.pk}/history/{client_as_rec.history_id}/",
        {"first_name": "Reverted", "_continue": "1"},
    )
    assert answer.status_code == 403
    assert Patient.objects.get(pk=patient.pk).first_name == "Hanna"
