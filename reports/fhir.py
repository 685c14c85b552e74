"""One patient as a FHIR R4 `Bundle` of type `collection` (SPEC §11).

Entries: the `Patient`; per protocol version the patient is enrolled on a
`PlanDefinition` (canonical URL + version); per enrolment a `CarePlan` that
instantiates it; an `Appointment` per booked or completed session; an
`Observation` per recorded value; an `AdverseEvent` per event; a `Consent`
per consent statement. Every entry's `fullUrl` is a `urn:uuid:` made from the
resource's type and id (uuid5), and every reference points at one of them, so
references resolve inside the bundle and stay the same between requests.

Codes: LOINC where a code exists for the measure as we record it (`LOINC`
below, listed in docs/design.md); otherwise the product's own code system
`OWN_CODES` with the measure's code.
"""

import uuid

from django.db.models import Prefetch

from patients.models import Consent, ConsentKind, EnrolmentStatus, Patient
from sessions.models import AdverseEvent, OutcomeMeasurement, Session, SessionStatus

OWN_CODES = "https://regimen.example/fhir/CodeSystem/outcome-measure"
PLAN_DEFINITIONS = "https://regimen.example/fhir/PlanDefinition"
RECORD_NUMBERS = "https://regimen.example/fhir/NamingSystem/record-number"
LOINC_SYSTEM = "http://loinc.org"
# Measure code → (LOINC code, display). Only codes that describe the measure as
# recorded: procedure pain on a 0–10 visual analogue scale.
LOINC = {"pain_vas": ("38214-3", "Pain severity [Score] Visual analog score")}

_NAMESPACE = uuid.UUID("6f1c2a36-0b7e-4d6a-9d59-1d0c5b7e2f41")

_APPOINTMENT_STATUS = {SessionStatus.BOOKED: "booked", SessionStatus.COMPLETED: "fulfilled"}
_CAREPLAN_STATUS = {
    EnrolmentStatus.ACTIVE: "active",
    EnrolmentStatus.COMPLETED: "completed",
    EnrolmentStatus.WITHDRAWN: "revoked",
}
_AE_SERIOUS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
_AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_CONSENT_CATEGORY = "https://regimen.example/fhir/CodeSystem/consent-kind"


def urn(resource_type: str, pk) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{resource_type}/{pk}')}"


def ref(resource_type: str, pk) -> dict:
    return {"reference": urn(resource_type, pk)}


def _entry(resource: dict, pk) -> dict:
    resource = {key: item for key, item in resource.items() if item not in (None, [], "")}
    return {"fullUrl": urn(resource["resourceType"], pk), "resource": resource}


def fhir_patient(clinic, pk: int) -> Patient:
    """The patient with everything the bundle needs, in a fixed number of queries."""
    sessions = (
        Session.objects.filter(status__in=[SessionStatus.BOOKED, SessionStatus.COMPLETED])
        .select_related("step")
        .order_by("sequence")
    )
    return (
        Patient.objects.filter(clinic=clinic)
        .prefetch_related(
            "enrolments__protocol__steps",
            Prefetch("enrolments__sessions", queryset=sessions, to_attr="visits"),
            Prefetch(
                "sessions__outcomes",
                queryset=OutcomeMeasurement.objects.filter(session__status=SessionStatus.COMPLETED).select_related(
                    "measure", "session"
                ),
            ),
            Prefetch("enrolments__adverse_events", queryset=AdverseEvent.objects.order_by("pk")),
            Prefetch("consents", queryset=Consent.objects.order_by("recorded_at", "pk")),
        )
        .get(pk=pk)
    )


def patient_bundle(patient: Patient) -> dict:
    """The Bundle as plain JSON-ready data."""
    entries = [_entry(_patient(patient), patient.pk)]
    plans = {}
    for enrolment in patient.enrolments.all():
        plans.setdefault(enrolment.protocol.pk, enrolment.protocol)
    for protocol in plans.values():
        entries.append(_entry(_plan_definition(protocol), protocol.pk))
    for enrolment in patient.enrolments.all():
        entries.append(_entry(_care_plan(enrolment), enrolment.pk))
        for session in enrolment.visits:
            entries.append(_entry(_appointment(session, patient), session.pk))
        for event in enrolment.adverse_events.all():
            entries.append(_entry(_adverse_event(event, patient), event.pk))
    for session in patient.sessions.all():
        for value in session.outcomes.all():
            entries.append(_entry(_observation(value, patient), value.pk))
    for consent in patient.consents.all():
        entries.append(_entry(_consent(consent, patient), consent.pk))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _patient(patient: Patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": RECORD_NUMBERS, "value": patient.record_number}],
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "gender": patient.sex or "unknown",
        "birthDate": patient.date_of_birth.isoformat(),
    }
    telecom = []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if telecom:
        resource["telecom"] = telecom
    return resource


def _canonical(protocol) -> str:
    return f"{PLAN_DEFINITIONS}/{protocol.lineage}"


def _plan_definition(protocol) -> dict:
    return {
        "resourceType": "PlanDefinition",
        "id": str(protocol.pk),
        "url": _canonical(protocol),
        "version": str(protocol.version),
        "title": protocol.name,
        "status": "active" if protocol.is_current and protocol.active else "retired",
        "action": [
            {"title": step.name, "description": f"{step.kind}, {step.repeat} ×"} for step in protocol.steps.all()
        ],
    }


def _care_plan(enrolment) -> dict:
    return {
        "resourceType": "CarePlan",
        "id": str(enrolment.pk),
        "status": _CAREPLAN_STATUS[enrolment.status],
        "intent": "plan",
        "instantiatesCanonical": [f"{_canonical(enrolment.protocol)}|{enrolment.protocol.version}"],
        "title": enrolment.protocol.name,
        "subject": ref("Patient", enrolment.patient_id),
        "period": {"start": enrolment.start_date.isoformat()},
    }


def _appointment(session, patient) -> dict:
    start = session.start or session.completed_at
    end = session.end or session.completed_at
    return {
        "resourceType": "Appointment",
        "id": str(session.pk),
        "status": _APPOINTMENT_STATUS[session.status],
        "description": f"#{session.sequence} {session.step.name}",
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "supportingInformation": [ref("CarePlan", session.enrolment_id)],
        "participant": [{"actor": ref("Patient", patient.pk), "status": "accepted"}],
    }


def _observation(value, patient) -> dict:
    measure = value.measure
    coding = [{"system": OWN_CODES, "code": measure.code, "display": measure.name}]
    if measure.code in LOINC:
        code, display = LOINC[measure.code]
        coding.insert(0, {"system": LOINC_SYSTEM, "code": code, "display": display})
    return {
        "resourceType": "Observation",
        "id": str(value.pk),
        "status": "final",
        "code": {"coding": coding, "text": measure.name},
        "subject": ref("Patient", patient.pk),
        "basedOn": [ref("CarePlan", value.session.enrolment_id)],
        "effectiveDateTime": value.observed_on.isoformat(),
        "valueQuantity": {"value": float(value.value), "unit": measure.unit or measure.code},
    }


def _adverse_event(event, patient) -> dict:
    severity = {"mild": "mild", "moderate": "moderate", "severe": "severe"}.get(event.severity)
    resource = {
        "resourceType": "AdverseEvent",
        "id": str(event.pk),
        "actuality": "actual",
        "subject": ref("Patient", patient.pk),
        "event": {"text": event.description},
        "seriousness": {
            "coding": [
                {"system": _AE_SERIOUS, "code": "serious" if event.serious else "non-serious"},
            ]
        },
    }
    if event.onset_date:
        resource["date"] = event.onset_date.isoformat()
    if severity:
        resource["severity"] = {"coding": [{"system": _AE_SEVERITY, "code": severity}]}
    if event.grade:
        resource["extension"] = [
            {"url": "https://regimen.example/fhir/StructureDefinition/ctcae-grade", "valueInteger": event.grade}
        ]
    return resource


def _consent(consent, patient) -> dict:
    return {
        "resourceType": "Consent",
        "id": str(consent.pk),
        "status": "active" if consent.given else "inactive",
        "scope": {
            "coding": [
                {
                    "system": _CONSENT_SCOPE,
                    "code": "research" if consent.kind == ConsentKind.REGISTRY else "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": _CONSENT_CATEGORY, "code": consent.kind}]}],
        "patient": ref("Patient", patient.pk),
        "dateTime": consent.recorded_at.isoformat(),
        "policyRule": {"text": "given" if consent.given else "withdrawn"},
    }
