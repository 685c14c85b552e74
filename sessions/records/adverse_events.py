"""Adverse events (SPEC §12): reported at a visit (with the completion) or
between visits, and updated later; every version is kept in the event's
history (who, when, what it said before)."""

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinics.models import Role, User
from core.services import now as now_or
from core.services import require_role, workflow
from core.text import check_text
from patients.models import Enrolment
from sessions.models import (
    FATAL_GRADE,
    GRADE_OF_SEVERITY,
    RESOLVED_OUTCOMES,
    ActionTaken,
    AdverseEvent,
    AdverseEventOutcome,
    Relatedness,
    Session,
    Severity,
    severity_of_grade,
)

EVENT_FIELDS = (
    "description",
    "severity",
    "grade",
    "serious",
    "onset_date",
    "resolved_date",
    "outcome",
    "action_taken",
    "related_to_treatment",
)


def _choice(errors: dict, data: Mapping, field: str, choices, default: str) -> str:
    value = data.get(field, default)
    if value not in choices.values:
        errors[field] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(choices.values)}]
    return value


def ctcae_disagreements(*, grade, severity: str, outcome: str, resolved_date) -> dict[str, str]:
    """What disagrees in an event by CTCAE v5 (clinical/instruments.md,
    corrections), by the field to correct: severity is the grade's (1 mild,
    2 moderate, 3-5 severe); grade 5 is death, so grade 5 exactly when the
    outcome is fatal; "recovered" (with or without sequelae) has a resolution
    date, and a resolution date means one of them."""
    problems = {}
    if grade is not None and severity and severity != severity_of_grade(grade):
        problems["severity"] = _(
            "CTCAE grade %(grade)s is %(expected)s, not %(severity)s (1 mild, 2 moderate, 3–5 severe)."
        ) % {"grade": grade, "expected": severity_of_grade(grade), "severity": severity}
    if grade == FATAL_GRADE and outcome != AdverseEventOutcome.FATAL:
        problems["outcome"] = _("CTCAE grade 5 is death: the outcome is fatal, not %(outcome)s.") % {
            "outcome": outcome.replace("_", " ")
        }
    elif outcome == AdverseEventOutcome.FATAL and grade != FATAL_GRADE:
        problems["grade"] = _("A fatal outcome is CTCAE grade 5 (death), not grade %(grade)s.") % {"grade": grade}
    if outcome in RESOLVED_OUTCOMES and resolved_date is None:
        problems["resolved_date"] = _("An event that %(outcome)s needs its resolution date.") % {
            "outcome": outcome.replace("_", " ")
        }
    elif outcome not in RESOLVED_OUTCOMES and resolved_date is not None:
        problems["resolved_date"] = _(
            "A resolution date means the event resolved: the outcome is recovered or recovered with sequelae, "
            "not %(outcome)s."
        ) % {"outcome": outcome.replace("_", " ")}
    return problems


def clean_event(data: Mapping, *, default_onset: dt.date, born: dt.date, today: dt.date | None = None) -> dict:
    """The fields of one event, checked together; errors name their field.

    A CTCAE grade or a severity is required; either gives the other (grade 1
    mild, 2 moderate, 3 and above severe; "severe" with a fatal outcome is
    grade 5), and both given must agree. Grade 5 without an outcome is fatal.
    Grade 4 (life-threatening) and 5 (death), and a fatal outcome, make the
    event serious whatever was sent. ctcae_disagreements says the rest."""
    errors: dict[str, list[str]] = {}
    # Control and bidi characters in the text (issue 30: ESC, BEL and RLO
    # passed), by the rule the model's field declares (line breaks are fine).
    try:
        check_text(AdverseEvent, {field: data[field] for field in EVENT_FIELDS if field in data})
    except ValidationError as error:
        errors.update(error.message_dict)
    description = str(data.get("description") or "").strip()
    if not description and "description" not in errors:
        errors["description"] = [_("A description is required.")]
    grade, severity = data.get("grade"), data.get("severity") or ""
    if grade is not None and (isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5):
        errors["grade"] = [_("The CTCAE grade is a whole number from 1 to 5.")]
        grade = None
    if severity and severity not in Severity.values:
        errors["severity"] = [_("Choose one of %(choices)s.") % {"choices": ", ".join(Severity.values)}]
    elif grade is None and not severity and "grade" not in errors:
        errors["grade"] = [_("Give the CTCAE grade (1–5) or a severity.")]
    elif grade is None and severity:
        fatal = data.get("outcome") == AdverseEventOutcome.FATAL and severity == Severity.SEVERE
        grade = FATAL_GRADE if fatal else GRADE_OF_SEVERITY[severity]
    elif grade is not None and not severity:
        severity = severity_of_grade(grade)
    # Grade 5 is death: an event reported at grade 5 without an outcome is fatal.
    default_outcome = AdverseEventOutcome.FATAL if grade == FATAL_GRADE else AdverseEventOutcome.UNKNOWN
    outcome = _choice(errors, data, "outcome", AdverseEventOutcome, default_outcome)
    action = _choice(errors, data, "action_taken", ActionTaken, ActionTaken.NONE)
    related = _choice(errors, data, "related_to_treatment", Relatedness, Relatedness.UNKNOWN)
    onset = data.get("onset_date") or default_onset
    resolved = data.get("resolved_date")
    if onset < born:
        errors["onset_date"] = [_("The onset cannot be before the patient's birth.")]
    if today is not None and onset > today:
        errors["onset_date"] = [_("The onset cannot be in the future.")]
    if resolved is not None and resolved < onset:
        errors["resolved_date"] = [
            _("The resolution (%(resolved)s) cannot be before the onset (%(onset)s).")
            % {"resolved": resolved.isoformat(), "onset": onset.isoformat()}
        ]
    if today is not None and resolved is not None and resolved > today:
        errors["resolved_date"] = [_("The resolution cannot be in the future.")]
    if not errors:
        problems = ctcae_disagreements(grade=grade, severity=severity, outcome=outcome, resolved_date=resolved)
        errors.update({field: [message] for field, message in problems.items()})
    if errors:
        raise ValidationError(errors)
    serious = bool(data.get("serious", False)) or (grade or 0) >= 4 or outcome == AdverseEventOutcome.FATAL
    return {
        "description": description,
        "severity": severity,
        "grade": grade,
        "serious": serious,
        "onset_date": onset,
        "resolved_date": resolved,
        "outcome": outcome,
        "action_taken": action,
        "related_to_treatment": related,
        # Everything agrees now: nothing is left to review.
        "review_reason": "",
    }


@workflow
def report_adverse_event(
    *, enrolment: Enrolment, data: Mapping, session: Session | None = None, by: User, now: dt.datetime | None = None
) -> AdverseEvent:
    """An event reported between visits (the patient phones), or later about
    a visit (`session`, one of the enrolment's). Any enrolment status: events
    after a course ends or a withdrawal are still reported."""
    now = now_or(now)
    require_role(by, Role.CLINICIAN, clinic_id=enrolment.clinic_id, what="enrolment")
    enrolment = Enrolment.objects.select_related("clinic", "patient").get(pk=enrolment.pk)
    if session is not None and session.enrolment_id != enrolment.pk:
        raise ValidationError({"session": [_("That session is not one of this enrolment's.")]})
    today = now.astimezone(enrolment.clinic.tz).date()
    fields = clean_event(data, default_onset=today, born=enrolment.patient.date_of_birth, today=today)
    event = AdverseEvent(enrolment=enrolment, session=session, reported_by=by, reported_at=now, **fields)
    event._history_user = by
    event.save()
    return event


@workflow
def update_adverse_event(
    *, event: AdverseEvent, data: Mapping, by: User, now: dt.datetime | None = None
) -> AdverseEvent:
    """Change what is known of an event (it resolved, it turned out serious).
    The fields not sent keep their value; the history keeps the old version."""
    now = now_or(now)
    event = (
        AdverseEvent.objects.select_for_update(of=("self",))
        .select_related("enrolment__clinic", "enrolment__patient")
        .get(pk=event.pk)
    )
    enrolment = event.enrolment
    require_role(by, Role.CLINICIAN, clinic_id=enrolment.clinic_id, what="adverse_event")
    merged = {field: getattr(event, field) for field in EVENT_FIELDS}
    merged.update({field: data[field] for field in EVENT_FIELDS if field in data})
    if "grade" in data and "severity" not in data:
        merged["severity"] = ""  # a new grade gives its severity
    if "severity" in data and "grade" not in data:
        merged["grade"] = None
    today = now.astimezone(enrolment.clinic.tz).date()
    fields = clean_event(merged, default_onset=event.onset_date or today, born=enrolment.patient.date_of_birth, today=today)
    changed = False
    for field, value in fields.items():
        if getattr(event, field) != value:
            setattr(event, field, value)
            changed = True
    if changed:
        event._history_user = by
        event.save()
    return event
