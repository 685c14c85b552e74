"""SPEC §11's FHIR R4 Bundle of one patient, validated by fhir.resources."""

import datetime as dt
import json

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle

from patients.consents import record_consent
from protocols.models import OutcomeMeasure
from reports.fhir import LOINC, OWN_CODES
from sessions.records.adverse_events import report_adverse_event

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
