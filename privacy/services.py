"""Export and erasure of one patient's data (SPEC §14)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from clinics.models import Role, User
from core.exceptions import Conflict
from patients.models import Consent, Enrolment, Patient
from sessions.models import (
    AdverseEvent,
    BookingChange,
    Decision,
    Deviation,
    OutcomeMeasurement,
    Questionnaire,
    Reminder,
    ReminderStatus,
    Session,
)

HISTORY_META = ("history_id", "history_date", "history_type", "history_user_id", "history_change_reason")


def _row(obj, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every stored column of a row, by attribute name (foreign keys as ids)."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in exclude}


def _history(queryset) -> list[dict]:
    return [_row(version) for version in queryset.order_by("history_date", "history_id")]


def fhir_bundle(patient: Patient) -> dict | None:
    """The hook for SPEC §11's FHIR bundle: PATIENT_EXPORT_FHIR_BUILDER names
    a function patient -> Bundle dict. No builder exists yet, so by default
    the export has no `fhir` key (never a made-up bundle)."""
    path = settings.PATIENT_EXPORT_FHIR_BUILDER
    return import_string(path)(patient) if path else None


def _require_manager(by: User, patient: Patient) -> None:
    if not by.has_role(Role.MANAGER) or by.clinic_id != patient.clinic_id:
        raise PermissionDenied(_("Only the clinic's manager may do this."))


def export_patient(*, patient: Patient, by: User, now: dt.datetime | None = None) -> dict:
    """Everything held on a patient, as JSON-ready values: the record and its
    history, every enrolment with its sessions, outcomes (with every
    corrected version), adverse events, deviations and reminders, and the
    audit entries about them (who looked and changed what)."""
    _require_manager(by, patient)
    now = now or timezone.now()
    sessions = list(
        Session.objects.filter(patient=patient).select_related("step").order_by("enrolment_id", "sequence")
    )
    session_ids = [s.pk for s in sessions]
    outcomes = list(OutcomeMeasurement.objects.filter(session_id__in=session_ids).select_related("measure"))
    history_of = {}
    for version in OutcomeMeasurement.history.filter(session_id__in=session_ids).order_by("history_date", "history_id"):
        history_of.setdefault(version.id, []).append(_row(version))

    def by_session(rows):
        grouped: dict[int, list] = {}
        for row in rows:
            grouped.setdefault(row["session_id"], []).append(row)
        return grouped

    outcome_rows = by_session(
        {**_row(o), "measure": o.measure.code, "history": history_of.get(o.pk, [])} for o in outcomes
    )
    events = by_session(_row(e) for e in AdverseEvent.objects.filter(session_id__in=session_ids))
    deviations = by_session(_row(d) for d in Deviation.objects.filter(session_id__in=session_ids))
    reminders = by_session(_row(r) for r in Reminder.objects.filter(session_id__in=session_ids))
    decisions = by_session(_row(d) for d in Decision.objects.filter(session_id__in=session_ids))
    # The questionnaire before each visit (SPEC §17): saved answers and when it was opened and sent.
    questionnaires = {q.session_id: _row(q) for q in Questionnaire.objects.filter(session_id__in=session_ids)}

    enrolments = []
    for enrolment in Enrolment.objects.filter(patient=patient).select_related("protocol").order_by("start_date", "pk"):
        enrolments.append(
            {
                **_row(enrolment),
                "protocol": {"id": enrolment.protocol_id, "name": enrolment.protocol.name,
                             "version": enrolment.protocol.version},
                "history": _history(Enrolment.history.filter(id=enrolment.pk)),
                "sessions": [
                    {
                        **_row(s),
                        "step_name": s.step.name,
                        "kind": s.step.kind,
                        "outcomes": outcome_rows.get(s.pk, []),
                        "adverse_events": events.get(s.pk, []),
                        "deviations": deviations.get(s.pk, []),
                        "reminders": reminders.get(s.pk, []),
                        "decisions": decisions.get(s.pk, []),
                        "questionnaire": questionnaires.get(s.pk),
                    }
                    for s in sessions
                    if s.enrolment_id == enrolment.pk
                ],
            }
        )
    audit = AuditEvent.objects.filter(clinic_id=patient.clinic_id, patient_ref=patient.pk).order_by("at", "id")
    data = {
        "exported_at": now,
        "clinic": {"id": patient.clinic_id, "name": patient.clinic.name},
        "patient": _row(patient),
        "patient_history": _history(Patient.history.filter(id=patient.pk)),
        "enrolments": enrolments,
        "audit": [
            {"at": e.at, "username": e.username, "action": e.action, "object_type": e.object_type,
             "object_id": e.object_id, "summary": e.summary}
            for e in audit
        ],
    }
    bundle = fhir_bundle(patient)
    if bundle is not None:
        data["fhir"] = bundle
    return data


ERASED_FIRST_NAME = "Erased"


ERASED_TEXT = "(erased with the patient's identifying data)"


def _erase_free_text(patient: Patient) -> None:
    """Every free-text field that can name the patient (or others), in the rows
    and in every historical version of them (issue 30: an enrolment's area
    read "scalp of <name>", a cancellation note and a consent note kept the
    name and phone). A history row's change reason (an outcome's correction
    reason, say) goes too."""
    session_ids = list(Session.objects.filter(patient=patient).values_list("pk", flat=True))
    enrolment_ids = list(Enrolment.objects.filter(patient=patient).values_list("pk", flat=True))
    free_text = {"notes": "", "not_done_reason": "", "skip_reason": ""}
    Session.objects.filter(pk__in=session_ids).update(**free_text)
    Session.history.filter(id__in=session_ids).update(**free_text, history_change_reason=None)
    Deviation.objects.filter(session_id__in=session_ids).update(reason="")
    BookingChange.objects.filter(session_id__in=session_ids).update(note="")
    Reminder.objects.filter(session_id__in=session_ids).update(last_error="")
    Enrolment.objects.filter(pk__in=enrolment_ids).update(withdrawn_reason="", area="")
    Enrolment.history.filter(id__in=enrolment_ids).update(withdrawn_reason="", area="", history_change_reason=None)
    Consent.objects.filter(patient=patient).update(note="")
    Patient.history.filter(id=patient.pk).update(history_change_reason=None)
    events = AdverseEvent.objects.filter(Q(enrolment_id__in=enrolment_ids) | Q(session_id__in=session_ids))
    event_ids = list(events.values_list("pk", flat=True))
    # The event stays (a safety record: grade, dates, relation to treatment); its words go.
    AdverseEvent.objects.filter(pk__in=event_ids).update(description=ERASED_TEXT, review_reason="")
    AdverseEvent.history.filter(id__in=event_ids).update(
        description=ERASED_TEXT, review_reason="", history_change_reason=None
    )
    outcome_ids = OutcomeMeasurement.objects.filter(session_id__in=session_ids).values_list("pk", flat=True)
    OutcomeMeasurement.history.filter(id__in=list(outcome_ids)).update(history_change_reason=None)


@transaction.atomic
def erase_patient(*, patient: Patient, by: User, confirm: str, now: dt.datetime | None = None) -> dict:
    """Remove what identifies a patient and keep the de-identified clinical
    record (SPEC §14).

    Removed, in the record and in every historical version of it: names,
    record number, email, phone, the day and month of birth (the year stays,
    so ages at treatment stay right to the year), and every free text that
    may name them or others (session notes and reasons, deviation,
    withdrawal and correction reasons, treatment areas, booking-change and
    consent notes, adverse-event descriptions, delivery errors: see
    _erase_free_text). Kept: skin type, enrolments, sessions and their
    dates, outcome values and items, adverse events without their words (a
    safety record), product lots. Pending reminders are voided, so
    nothing is sent to them again. The caller writes the audit entry."""
    _require_manager(by, patient)
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.erased_at is not None:
        raise Conflict(_("This patient's identifying data was already erased."))
    if confirm != patient.record_number:
        raise ValidationError({"confirm": [_("Send the patient's record number as `confirm` to erase their data.")]})
    voided = Reminder.objects.filter(
        session__patient=patient, status__in=(ReminderStatus.PENDING,)
    ).update(status=ReminderStatus.VOID)
    identifying = {
        "record_number": f"ERASED-{patient.pk}",
        "first_name": ERASED_FIRST_NAME,
        "last_name": f"patient {patient.pk}",
        "date_of_birth": dt.date(patient.date_of_birth.year, 1, 1),
        "email": "",
        "phone": "",
    }
    for field, value in identifying.items():
        setattr(patient, field, value)
    patient.reminder_consent = False
    patient.reminder_consent_changed_at = now
    patient.erased_at = now
    patient._history_user = by
    patient.save()
    # The history tables held every earlier version: they are scrubbed too.
    Patient.history.filter(id=patient.pk).update(**identifying)
    _erase_free_text(patient)
    return {"patient": patient.pk, "erased_at": now, "reminders_voided": voided}
