"""SPEC §11's FHIR R4 Bundle of one patient, validated by fhir.resources."""

import datetime as dt
import json

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle

from patients.consents import record_consent
from protocols.models import OutcomeMeasure
from reports.fhir import LOINC, OWN_CODES
from sessions import services
from sessions.models import AdverseEvent, OutcomeMeasurement
from sessions.records.adverse_events import report_adverse_event
from tests.factories import PatientFactory, make_protocol, step

from .conftest import at

ASKED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def fhir(client, patient_id):
    with time_machine.travel(ASKED, tick=False):
        return client.get(f"/api/v1/patients/{patient_id}/fhir/")


def references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


@pytest.fixture
def course(make_course, receptionist, clinician):
    enrolment = make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 130, "itch_nrs": 3})
    with time_machine.travel(at(dt.date(2026, 4, 2), 9), tick=False):
        record_consent(patient=enrolment.patient, kind="registry", given=True, by=receptionist)
        report_adverse_event(
            enrolment=enrolment, by=clinician,
            data={"description": "Scalp redness", "grade": 1, "related_to_treatment": "yes"},
        )
    return enrolment


def test_the_bundle_is_valid_fhir_r4_and_its_references_resolve_inside_it(client_as, manager, course):
    answer = fhir(client_as(manager), course.patient_id)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    bundle = Bundle.model_validate_json(json.dumps(body))  # raises on anything invalid
    assert bundle.type == "collection"

    kinds = [entry["resource"]["resourceType"] for entry in body["entry"]]
    assert kinds.count("Patient") == 1 and kinds.count("PlanDefinition") == 1 and kinds.count("CarePlan") == 1
    assert kinds.count("Appointment") == 2 and kinds.count("Observation") == 4
    assert kinds.count("AdverseEvent") == 1 and kinds.count("Consent") >= 1

    full_urls = {entry["fullUrl"] for entry in body["entry"]}
    assert len(full_urls) == len(body["entry"])
    refs = list(references(body))
    assert refs and set(refs) <= full_urls

    resources = {entry["resource"]["resourceType"]: entry["resource"] for entry in body["entry"]}
    [spoken] = resources["Patient"]["communication"]
    assert spoken["language"]["coding"][0] == {"system": "urn:ietf:bcp:47", "code": "en"} and spoken["preferred"]
    plan, care_plan = resources["PlanDefinition"], resources["CarePlan"]
    assert care_plan["instantiatesCanonical"] == [f"{plan['url']}|{plan['version']}"]
    assert care_plan["status"] == "completed"
    observations = [e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "Observation"]
    density = [o for o in observations if o["code"]["coding"][0]["code"] == "hair_density"]
    assert {o["valueQuantity"]["value"] for o in density} == {100, 130}
    assert all(o["code"]["coding"][0]["system"] == OWN_CODES for o in density)  # no LOINC code for density
    assert {o["effectiveDateTime"] for o in density} == {"2026-03-02", "2026-03-30"}
    # The same bundle, with the same ids, on the next request.
    assert fhir(client_as(manager), course.patient_id).json() == body


def test_a_measure_with_a_loinc_code_carries_it(client_as, manager, course_protocol, make_course):
    step = course_protocol.steps.get(position=1)
    step.measures.add(OutcomeMeasure.objects.get(code="pain_vas"))
    enrolment = make_course({"hair_density": 100, "itch_nrs": 8, "pain_vas": 3})
    body = fhir(client_as(manager), enrolment.patient_id).json()
    Bundle.model_validate_json(json.dumps(body))
    [pain] = [
        e["resource"] for e in body["entry"]
        if e["resource"]["resourceType"] == "Observation" and e["resource"]["code"]["text"] == "Procedure pain"
    ]
    assert pain["code"]["coding"][0] == {
        "system": "http://loinc.org", "code": LOINC["pain_vas"][0], "display": LOINC["pain_vas"][1],
    }


def test_only_a_manager_of_the_clinic_reads_a_bundle(client_as, receptionist, clinician, outsider, course):
    assert fhir(client_as(receptionist), course.patient_id).status_code == 403
    assert fhir(client_as(clinician), course.patient_id).status_code == 403
    assert fhir(client_as(None), course.patient_id).status_code == 401
    assert fhir(client_as(outsider), course.patient_id).status_code == 404


# --- Issue 25: what FHIR R4 says of corrections, consents and adverse events ------------------------


def bundle_of(client, patient_id) -> dict:
    answer = fhir(client, patient_id)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    Bundle.model_validate_json(json.dumps(body))  # still valid R4 (R4B models)
    refs = set(references(body))
    assert refs <= {entry["fullUrl"] for entry in body["entry"]}
    return body


def resources(body, kind) -> list[dict]:
    return [entry["resource"] for entry in body["entry"] if entry["resource"]["resourceType"] == kind]


def test_a_corrected_value_is_status_corrected_with_its_reason_in_a_note(client_as, manager, clinician, course):
    value = OutcomeMeasurement.objects.get(session__enrolment=course, measure__code="itch_nrs", value=3)
    with time_machine.travel(at(dt.date(2026, 4, 3), 9), tick=False):
        answer = client_as(clinician).patch(
            f"/api/v1/outcomes/{value.pk}/", {"value": 4, "reason": "Transcription error"}, format="json"
        )
    assert answer.status_code == 200, answer.content
    observations = {o["id"]: o for o in resources(bundle_of(client_as(manager), course.patient_id), "Observation")}
    corrected = observations[str(value.pk)]
    assert corrected["status"] == "corrected"
    assert corrected["valueQuantity"]["value"] == 4
    assert [note["text"] for note in corrected["note"]] == ["Corrected: Transcription error"]
    others = [o for pk, o in observations.items() if pk != str(value.pk)]
    assert {o["status"] for o in others} == {"final"} and not any("note" in o for o in others)


def test_a_withdrawn_consent_leaves_no_active_consent_and_each_is_dated_by_its_statement(
    client_as, manager, receptionist, course
):
    patient = course.patient
    with time_machine.travel(at(dt.date(2026, 4, 10), 9), tick=False):
        record_consent(patient=patient, kind="photography", given=True, on=dt.date(2026, 4, 8), by=receptionist)
        record_consent(patient=patient, kind="treatment", given=True, on=dt.date(2026, 3, 2), by=receptionist)
    with time_machine.travel(at(dt.date(2026, 5, 20), 9), tick=False):
        record_consent(patient=patient, kind="photography", given=False, on=dt.date(2026, 5, 18), by=receptionist)
    consents = resources(bundle_of(client_as(manager), patient.pk), "Consent")
    by_kind = {}
    for consent in consents:
        by_kind.setdefault(consent["category"][0]["coding"][0]["code"], []).append(consent)

    photography = by_kind["photography"]
    assert [(c["status"], c["dateTime"], c["policyRule"]["text"]) for c in photography] == [
        ("inactive", "2026-04-08", "given"),  # replaced by the withdrawal
        ("inactive", "2026-05-18", "withdrawn"),
    ]
    [treatment] = by_kind["treatment"]
    assert (treatment["status"], treatment["dateTime"]) == ("active", "2026-03-02")
    assert treatment["scope"]["coding"] == [
        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}
    ]
    [registry] = by_kind["registry"]
    assert (registry["status"], registry["scope"]["coding"][0]["code"]) == ("active", "research")
    assert registry["dateTime"] == "2026-04-02"  # given on the day it was recorded (the clinic's date)
    assert photography[0]["scope"]["coding"][0]["code"] == "patient-privacy"


TREATED_STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density"]),
    step("Injection", "treatment", interval_days=14, window_after_days=14, duration_minutes=45, measures=["pain_vas"]),
]


@pytest.fixture
def treated(clinic, receptionist, clinician, lot):
    """A baseline on 2 March, an injection with the lot on 16 March with a mild
    event at the visit, and a death reported between visits on 20 March."""
    protocol = make_protocol(clinic, steps=TREATED_STEPS, name="Injections")
    with time_machine.travel(at(dt.date(2026, 3, 1), 8), tick=False):
        enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=dt.date(2026, 3, 2), by=receptionist
        )
        first, injection = enrolment.sessions.order_by("sequence")
        services.book_session(session=first, start=at(dt.date(2026, 3, 2), 9), practitioner=clinician, by=receptionist)
        services.book_session(
            session=injection, start=at(dt.date(2026, 3, 16), 9), practitioner=clinician, by=receptionist
        )
    with time_machine.travel(at(dt.date(2026, 3, 2), 10), tick=False):
        services.complete_session(session=first, by=clinician, outcomes=[{"measure": "hair_density", "value": 100}])
    with time_machine.travel(at(dt.date(2026, 3, 16), 10), tick=False):
        services.complete_session(
            session=injection, by=clinician, lot=lot, outcomes=[{"measure": "pain_vas", "value": 2}],
            adverse_events=[{"description": "Pinpoint bleeding", "grade": 1, "related_to_treatment": "yes"}],
        )
    with time_machine.travel(at(dt.date(2026, 3, 21), 10), tick=False):
        report_adverse_event(
            enrolment=enrolment, by=clinician,
            data={"description": "Anaphylaxis", "grade": 5, "onset_date": dt.date(2026, 3, 20)},
        )
    return enrolment


def test_an_adverse_event_has_its_r4_outcome_and_the_lot_as_suspect_entity(client_as, manager, treated, lot):
    body = bundle_of(client_as(manager), treated.patient_id)
    events = {e["event"]["text"]: e for e in resources(body, "AdverseEvent")}
    [medication] = resources(body, "Medication")
    assert medication["batch"] == {"lotNumber": lot.lot_number, "expirationDate": lot.expiry_date.isoformat()}
    assert medication["code"]["text"] == lot.product.name
    medication_url = next(e["fullUrl"] for e in body["entry"] if e["resource"] == medication)

    outcome_system = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
    death = events["Anaphylaxis"]
    assert death["outcome"]["coding"] == [{"system": outcome_system, "code": "fatal", "display": "Fatal"}]
    assert death["severity"]["coding"][0]["code"] == "severe"
    assert death["suspectEntity"] == [{"instance": {"reference": medication_url}}]  # the last lot before onset
    bleeding = events["Pinpoint bleeding"]
    assert bleeding["outcome"]["coding"][0]["code"] == "unknown"
    assert bleeding["suspectEntity"] == [{"instance": {"reference": medication_url}}]  # the visit's lot


def test_an_event_before_any_lot_has_no_suspect_entity(client_as, manager, course):
    [event] = resources(bundle_of(client_as(manager), course.patient_id), "AdverseEvent")
    assert "suspectEntity" not in event
    assert not resources(bundle_of(client_as(manager), course.patient_id), "Medication")


def test_the_severity_is_the_ctcae_grades_even_on_an_event_flagged_for_review(client_as, manager, clinician, course):
    AdverseEvent.objects.create(
        enrolment=course, description="Recorded long ago", grade=1, severity="severe", reported_by=clinician,
        reported_at=ASKED, onset_date=dt.date(2026, 4, 1), review_reason="Severity severe beside grade 1.",
    )
    events = resources(bundle_of(client_as(manager), course.patient_id), "AdverseEvent")
    old = next(e for e in events if e["event"]["text"] == "Recorded long ago")
    assert old["severity"]["coding"][0]["code"] == "mild"
    assert old["extension"][0]["valueInteger"] == 1
