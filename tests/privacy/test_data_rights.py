"""SPEC §14: a patient's export gives everything held; erasure removes what
identifies them, keeps the de-identified clinical record, voids future
reminders and is itself audited."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from patients.models import Patient
from sessions import services
from sessions.models import OutcomeMeasurement, Reminder, ReminderStatus, Session
from tests.api.conftest import NOW, START, at


@pytest.fixture
def course(patient, hair_protocol, receptionist, clinician):
    """Hanna Weber: baseline done with a value (later corrected), the first injection booked."""
    with time_machine.travel(NOW, tick=False):
        enrolment = services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=START, by=receptionist)
        baseline, first = enrolment.sessions.order_by("sequence")[:2]
        services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)
    with time_machine.travel(at(START, 11), tick=False):
        services.complete_session(
            session=baseline, outcomes=[{"measure": "hair_density", "value": 100}], notes="Hanna brought her sister.",
            by=clinician,
        )
        outcome = OutcomeMeasurement.objects.get(session=baseline)
        services.correct_outcome(measurement=outcome, value=Decimal("104"), reason="Mistyped.", by=clinician)
        services.book_session(session=first, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician,
                              by=receptionist)
    return enrolment


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_export_holds_everything_and_is_audited(manager, patient, course):
    with time_machine.travel(at(START, 12), tick=False):
        answer = api(manager).get(f"/api/v1/patients/{patient.pk}/export/")
    assert answer.status_code == 200
    data = answer.json()
    assert data["patient"]["first_name"] == "Hanna" and data["patient"]["email"] == patient.email
    assert data["patient_history"]
    [enrolment] = data["enrolments"]
    assert enrolment["protocol"]["name"] == "Hair regeneration"
    assert len(enrolment["sessions"]) == 7
    baseline = enrolment["sessions"][0]
    assert baseline["notes"] == "Hanna brought her sister."
    [outcome] = baseline["outcomes"]
    assert outcome["measure"] == "hair_density" and Decimal(str(outcome["value"])) == 104
    assert [Decimal(str(v["value"])) for v in outcome["history"]] == [100, 104]
    assert enrolment["sessions"][1]["reminders"]
    assert "fhir" not in data  # no FHIR builder exists yet: no made-up bundle
    assert AuditEvent.objects.filter(action=Action.EXPORT, patient_ref=patient.pk, user=manager).exists()


def test_export_includes_the_fhir_bundle_when_a_builder_is_configured(manager, patient, settings):
    settings.PATIENT_EXPORT_FHIR_BUILDER = "tests.privacy.test_data_rights.tiny_builder"
    data = api(manager).get(f"/api/v1/patients/{patient.pk}/export/").json()
    assert data["fhir"] == {"resourceType": "Bundle", "type": "collection", "entry": [{"id": patient.pk}]}


def tiny_builder(patient):
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"id": patient.pk}]}


def test_only_the_clinics_manager_exports_or_erases(receptionist, clinician, outsider, patient):
    for user in (receptionist, clinician):
        assert api(user).get(f"/api/v1/patients/{patient.pk}/export/").status_code == 403
        assert api(user).post(f"/api/v1/patients/{patient.pk}/erase/", {"confirm": patient.record_number},
                              format="json").status_code == 403
    assert api(outsider).get(f"/api/v1/patients/{patient.pk}/export/").status_code == 404
    assert api(outsider).post(f"/api/v1/patients/{patient.pk}/erase/", {"confirm": patient.record_number},
                              format="json").status_code == 404
    assert APIClient().get(f"/api/v1/patients/{patient.pk}/export/").status_code == 401


def test_erasure_needs_the_record_number_as_confirmation(manager, patient):
    client = api(manager)
    assert client.post(f"/api/v1/patients/{patient.pk}/erase/", {}, format="json").json().keys() == {"confirm"}
    wrong = client.post(f"/api/v1/patients/{patient.pk}/erase/", {"confirm": "yes"}, format="json")
    assert wrong.status_code == 400 and "confirm" in wrong.json()
    assert Patient.objects.get(pk=patient.pk).first_name == "Hanna"


def test_erasure_removes_identity_keeps_clinical_values_and_voids_reminders(manager, patient, course):
    record_number = patient.record_number
    pending = Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING).count()
    assert pending > 0
    with time_machine.travel(at(START, 12), tick=False):
        answer = api(manager).post(f"/api/v1/patients/{patient.pk}/erase/", {"confirm": record_number}, format="json")
    assert answer.status_code == 200
    assert answer.json()["reminders_voided"] == pending
    erased = Patient.objects.get(pk=patient.pk)
    assert erased.erased_at is not None
    assert (erased.first_name, erased.email, erased.phone) == ("Erased", "", "")
    assert erased.record_number == f"ERASED-{patient.pk}"
    assert erased.date_of_birth == dt.date(1980, 1, 1)
    assert not erased.reminder_consent
    # No earlier version keeps the name either.
    assert not Patient.history.filter(id=patient.pk, first_name="Hanna").exists()
    assert not Patient.history.filter(id=patient.pk, record_number=record_number).exists()
    assert not Session.history.filter(patient_id=patient.pk).exclude(notes="").exists()
    # The clinical record stays, de-identified.
    assert OutcomeMeasurement.objects.get(session__patient=patient).value == Decimal("104")
    assert Session.objects.filter(patient=patient).count() == 7
    assert not Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING).exists()
    assert AuditEvent.objects.filter(action=Action.ERASE, patient_ref=patient.pk, user=manager).exists()
    # And once is enough.
    again = api(manager).post(f"/api/v1/patients/{patient.pk}/erase/", {"confirm": erased.record_number},
                              format="json")
    assert again.status_code == 409


def test_options_on_the_new_endpoints_is_not_a_500(manager, patient):
    client = api(manager)
    for path in (f"/api/v1/patients/{patient.pk}/erase/", f"/api/v1/patients/{patient.pk}/export/",
                 "/api/v1/auth/logout/", "/api/v1/audit/", "/api/v1/audit/csv/"):
        assert client.options(path).status_code == 200, path


def text_columns_holding(values: list[str]) -> list[str]:
    """Every table and text column (of the whole database, history tables
    and the audit log included) in which one of `values` occurs: a dump
    searched for them."""
    from django.db import connection

    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('character varying', 'text', 'jsonb', 'json')"
        )
        for table, column in cursor.fetchall():
            for value in values:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',
                    [f"%{value}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}: {value}")
    return found


def test_erasure_leaves_no_identifying_free_text_anywhere(manager, clinician, receptionist, patient, hair_protocol):
    """Issue 30: after erasure a dump held the name and phone in the
    enrolment's area (and its history), a cancellation note and a consent
    note; the export showed the area."""
    from patients.consents import record_consent
    from sessions.records.adverse_events import report_adverse_event

    patient.phone = "+49 30 5556677"
    patient.email = "hanna.weber@example.org"
    patient.save()
    with time_machine.travel(NOW, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=hair_protocol, start_date=START, by=receptionist, area="scalp of Weber"
        )
        enrolment.area = "vertex scalp of Hanna Weber"
        enrolment.save()
        baseline, first = enrolment.sessions.order_by("sequence")[:2]
        services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)
        services.book_session(session=first, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician,
                              by=receptionist)
        services.cancel_booking(session=first, by=receptionist, note="Weber called from +49 30 5556677")
        record_consent(patient=patient, kind="photography", given=True, note="Hanna Weber signed", by=receptionist)
        report_adverse_event(
            enrolment=enrolment, data={"description": "Hanna Weber reports redness", "grade": 1}, by=clinician
        )
    with time_machine.travel(at(START, 11), tick=False):
        services.complete_session(
            session=baseline, outcomes=[{"measure": "hair_density", "value": 100}], notes="Weber, sister came",
            by=clinician,
        )
        outcome = OutcomeMeasurement.objects.get(session=baseline)
        services.correct_outcome(
            measurement=outcome, value=Decimal("104"), reason="Weber's chart was misread", by=clinician
        )
    identifying = ["Weber", "Hanna", "5556677", "hanna.weber@example.org", patient.record_number]
    assert text_columns_holding(identifying), "the test data is there before"
    with time_machine.travel(at(START, 12), tick=False):
        answer = api(manager).post(
            f"/api/v1/patients/{patient.pk}/erase/", {"confirm": patient.record_number}, format="json"
        )
        assert answer.status_code == 200
        export = api(manager).get(f"/api/v1/patients/{patient.pk}/export/").content.decode()
    assert not [value for value in identifying if value.lower() in export.lower()]
    assert text_columns_holding(identifying) == []
