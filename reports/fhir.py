"""One patient as a FHIR R4 `Bundle` of type `collection` (SPEC §11).

Entries: the `Patient`; per protocol version the patient is enrolled on a
`PlanDefinition` (canonical URL + version); per enrolment a `CarePlan` that
instantiates it; an `Appointment` per booked or completed session; an
`Observation` per recorded value (`corrected`, with each correction's reason
in a note, once corrected); an `AdverseEvent` per event, with its R4 outcome
and the lot under suspicion as `suspectEntity` (a `Medication` with its
batch); a `Consent` per consent statement, `active` only while it is the
patient's latest of its kind and gives consent, dated by the day it was given
or withdrawn. Every entry's `fullUrl` is a `urn:uuid:` made from the
resource's type and id (uuid5), and every reference points at one of them, so
references resolve inside the bundle and stay the same between requests.

Codes: LOINC where a code exists for the measure as we record it (`LOINC`
below, listed in docs/design.md); otherwise the product's own code system
`OWN_CODES` with the measure's code.
"""

import uuid

from django.db.models import Prefetch

from patients.models import Consent, ConsentKind, EnrolmentStatus, Patient
from sessions.models import (
    AdverseEvent,
    AdverseEventOutcome,
    OutcomeMeasurement,
    Session,
    SessionStatus,
    ValueSource,
    severity_of_grade,
)
from sessions.questionnaires import QUESTIONNAIRE_REASONS

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
_AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
# Our outcomes as R4's AdverseEvent.outcome codes (hl7.org/fhir/R4/codesystem-adverse-event-outcome.html).
_AE_OUTCOME_CODES = {
    AdverseEventOutcome.RECOVERED: ("resolved", "Resolved"),
    AdverseEventOutcome.RECOVERING: ("recovering", "Recovering"),
    AdverseEventOutcome.NOT_RECOVERED: ("ongoing", "Ongoing"),
    AdverseEventOutcome.RECOVERED_WITH_SEQUELAE: ("resolvedWithSequelae", "Resolved with Sequelae"),
    AdverseEventOutcome.FATAL: ("fatal", "Fatal"),
    AdverseEventOutcome.UNKNOWN: ("unknown", "Unknown"),
}
_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
# HL7's consentscope: treatment, research, patient-privacy (and adr).
_CONSENT_SCOPES = {ConsentKind.TREATMENT: "treatment", ConsentKind.REGISTRY: "research"}
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
        .select_related("step", "lot__product")
        .order_by("sequence")
    )
    patient = (
        Patient.objects.filter(clinic=clinic)
        .select_related("clinic")
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
    # The reasons of every correction of the patient's values, oldest first (one query).
    patient.corrections = {}
    # The patient's own answers and changes in the questionnaire are not corrections (SPEC §17).
    corrections = (
        OutcomeMeasurement.history.filter(session__patient_id=patient.pk, history_type="~")
        .exclude(history_change_reason__in=QUESTIONNAIRE_REASONS)
        .order_by("history_date", "history_id")
    )
    for version in corrections.only("id", "history_date", "history_change_reason"):
        patient.corrections.setdefault(version.id, []).append(version)
    return patient


def patient_bundle(patient: Patient) -> dict:
    """The Bundle as plain JSON-ready data."""
    entries = [_entry(_patient(patient), patient.pk)]
    plans = {}
    for enrolment in patient.enrolments.all():
        plans.setdefault(enrolment.protocol.pk, enrolment.protocol)
    for protocol in plans.values():
        entries.append(_entry(_plan_definition(protocol), protocol.pk))
    lots = {}
    for enrolment in patient.enrolments.all():
        entries.append(_entry(_care_plan(enrolment), enrolment.pk))
        for session in enrolment.visits:
            entries.append(_entry(_appointment(session, patient), session.pk))
        for event in enrolment.adverse_events.all():
            lot = suspect_lot(event, enrolment.visits, tz=patient.clinic.tz)
            if lot is not None:
                lots.setdefault(lot.pk, lot)
            entries.append(_entry(_adverse_event(event, patient, lot), event.pk))
    for lot in lots.values():
        entries.append(_entry(_medication(lot), lot.pk))
    for session in patient.sessions.all():
        for value in session.outcomes.all():
            entries.append(_entry(_observation(value, patient, patient.corrections.get(value.pk, [])), value.pk))
    consents = list(patient.consents.all())
    # The statement in force per kind is the latest (patients.consents); an earlier one no longer is.
    latest = {consent.kind: consent.pk for consent in consents}
    for consent in consents:
        entries.append(_entry(_consent(consent, patient, in_force=latest[consent.kind] == consent.pk), consent.pk))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def suspect_lot(event, visits, *, tz):
    """The lot an adverse event is suspected of: the one given at its visit;
    for an event between visits (or at a visit without a lot), the last lot
    the course gave on or before the onset. None when no lot was given yet."""
    if event.session_id is not None:
        lot = next((s.lot for s in visits if s.pk == event.session_id and s.lot_id), None)
        if lot is not None:
            return lot
    given = None
    for session in visits:  # in sequence order
        moment = session.start or session.completed_at
        if session.status != SessionStatus.COMPLETED or session.lot_id is None or moment is None:
            continue
        if event.onset_date is None or moment.astimezone(tz).date() <= event.onset_date:
            given = session.lot
    return given


def _patient(patient: Patient) -> dict:
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "identifier": [{"system": RECORD_NUMBERS, "value": patient.record_number}],
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "gender": patient.sex or "unknown",
        "birthDate": patient.date_of_birth.isoformat(),
        # The language the clinic writes to the patient in (SPEC §20), as a BCP 47 tag.
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]}, "preferred": True}
        ],
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


def _observation(value, patient, corrections) -> dict:
    """A value; once corrected its status is `corrected` and each correction's
    reason, with its date, is a note (FHIR R4 observation-status)."""
    measure = value.measure
    coding = [{"system": OWN_CODES, "code": measure.code, "display": measure.name}]
    if measure.code in LOINC:
        code, display = LOINC[measure.code]
        coding.insert(0, {"system": LOINC_SYSTEM, "code": code, "display": display})
    notes = [
        {"time": version.history_date.isoformat(), "text": f"Corrected: {version.history_change_reason or 'no reason'}"}
        for version in corrections
    ]
    return {
        "resourceType": "Observation",
        "id": str(value.pk),
        "status": "corrected" if corrections else "final",
        "note": notes,
        "code": {"coding": coding, "text": measure.name},
        "subject": ref("Patient", patient.pk),
        "basedOn": [ref("CarePlan", value.session.enrolment_id)],
        "effectiveDateTime": value.observed_on.isoformat(),
        # SPEC §17: answered by the patient in the questionnaire, or by staff.
        **({"performer": [ref("Patient", patient.pk)]} if value.source == ValueSource.PATIENT else {}),
        "valueQuantity": {"value": float(value.value), "unit": measure.unit or measure.code},
    }


def _medication(lot) -> dict:
    """A lot as the Medication an adverse event's `suspectEntity` names."""
    return {
        "resourceType": "Medication",
        "id": str(lot.pk),
        "code": {"text": lot.product.name},
        "batch": {"lotNumber": lot.lot_number, "expirationDate": lot.expiry_date.isoformat()},
    }


def _adverse_event(event, patient, lot) -> dict:
    # The CTCAE grade decides the severity (1 mild, 2 moderate, 3-5 severe); a row
    # flagged for review may still disagree, and the grade is what was graded.
    severity = severity_of_grade(event.grade) if event.grade else event.severity or None
    outcome_code, outcome_display = _AE_OUTCOME_CODES[event.outcome]
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
        resource["severity"] = {"coding": [{"system": _AE_SEVERITY, "code": str(severity)}]}
    resource["outcome"] = {"coding": [{"system": _AE_OUTCOME, "code": outcome_code, "display": outcome_display}]}
    if lot is not None:
        resource["suspectEntity"] = [{"instance": ref("Medication", lot.pk)}]
    if event.grade:
        resource["extension"] = [
            {"url": "https://regimen.example/fhir/StructureDefinition/ctcae-grade", "valueInteger": event.grade}
        ]
    return resource


def _consent(consent, patient, *, in_force: bool) -> dict:
    """One statement: `active` while it is the latest of its kind and gives
    consent; a withdrawal, and any statement a later one replaced, `inactive`.
    `dateTime` is the day it was given or withdrawn, not when it was typed."""
    return {
        "resourceType": "Consent",
        "id": str(consent.pk),
        "status": "active" if consent.given and in_force else "inactive",
        "scope": {
            "coding": [{"system": _CONSENT_SCOPE, "code": _CONSENT_SCOPES.get(consent.kind, "patient-privacy")}]
        },
        "category": [{"coding": [{"system": _CONSENT_CATEGORY, "code": consent.kind}]}],
        "patient": ref("Patient", patient.pk),
        "dateTime": consent.on.isoformat(),
        "policyRule": {"text": "given" if consent.given else "withdrawn"},
    }
