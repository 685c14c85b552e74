"""The patient questionnaire before a visit (SPEC §17).

A booked session whose step has patient-reported measures gets a
`questionnaire` email (planned with the reminders, sessions/reminders/plan.py)
with a signed link to a page that asks one instrument at a time. The page
saves the answers part-filled on every step (`save_answers`) and sends them
once (`send_answers`): they become the session's outcome values with source
"patient", dated by the visit, scored from their items as staff's are
(protocols.outcome_values). Until the visit is completed the patient may
change them; staff may type in a paper questionnaire on the patient's behalf
(`enter_paper`, source "staff"). Every change is kept in the values' history.
"""

import datetime as dt
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role
from protocols import questionnaires as content
from protocols.library import asked_of
from protocols.models import OutcomeMeasure, ReportedBy
from protocols.outcome_values import measured_value
from sessions.models import (
    OutcomeMeasurement,
    Questionnaire,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
    ValueSource,
)
from sessions.reminders.plan import sync_reminders

# The history's reasons (data, in English like every change reason): a
# patient's own answer or change is not a clinical correction (reports/fhir.py).
ANSWERED, CHANGED, PAPER = "answered in the questionnaire", "changed in the questionnaire", "paper questionnaire"
QUESTIONNAIRE_REASONS = (ANSWERED, CHANGED, PAPER, "dated by the visit")


def patient_measures(session: Session) -> list[OutcomeMeasure]:
    """The step's patient-reported measures that apply to this patient, in page order."""
    measures = [
        m for m in session.step.measures.all()
        if m.reported_by == ReportedBy.PATIENT
        and asked_of(m.code, session.patient.sex)
    ]
    order = {code: index for index, code in enumerate(content.ORDER)}
    return sorted(measures, key=lambda m: (order.get(m.code, len(order)), m.code))


def patient_language(patient) -> str:
    """The wording language of the patient's questionnaire (SPEC §20)."""
    return content.language_of(patient.reading_language)


def instruments_for(session: Session, language: str | None = None) -> tuple[list, list[str]]:
    """(the instruments the patient is asked, in order; the codes left out
    because their licensed wording is not entered for the language)."""
    language = language or patient_language(session.patient)
    asked, left_out = [], []
    for measure in patient_measures(session):
        if not content.known(measure.code):
            continue
        instrument = content.instrument(measure.code, clinic_id=session.clinic_id, language=language)
        if instrument is None:
            left_out.append(measure.code)
        else:
            asked.append(instrument)
    return asked, left_out


def questionnaire_of(session: Session) -> Questionnaire | None:
    return Questionnaire.objects.filter(session=session).first()


def _row(session: Session) -> Questionnaire:
    row, _created = Questionnaire.objects.select_for_update().get_or_create(session=session)
    return row


def change_refusal(session: Session) -> str:
    """Why the answers can no longer be given or changed ("" while they can)."""
    if session.status == SessionStatus.COMPLETED:
        return _("The visit has been completed; the answers can no longer be changed.")
    if session.status != SessionStatus.BOOKED:
        return _("The visit is no longer booked.")
    return ""


@transaction.atomic
def mark_opened(session: Session, *, now: dt.datetime | None = None) -> None:
    row = _row(session)
    if row.opened_at is None:
        row.opened_at = now_or(now)
        row.save(update_fields=["opened_at"])


@transaction.atomic
def save_answers(session: Session, instrument, posted: Mapping, *, now: dt.datetime | None = None) -> dict:
    """Keep one instrument's answers as posted (part-filled is fine), checked
    against its choices; returns the instrument's saved answers. A choice
    that is not offered is a ValidationError naming the question."""
    if refusal := change_refusal(session):
        raise Conflict(refusal)
    answers = {}
    for number, question in enumerate(instrument.questions, start=1):
        try:
            answer = content.parse_answer(question, posted.get(question.key))
        except ValueError:
            raise ValidationError({instrument.code: [_("Question %(number)s: choose one of the answers shown.")
                                                     % {"number": number}]}) from None
        if answer is not None:
            answers[question.key] = answer
    row = _row(session)
    row.draft = {**row.draft, instrument.code: answers}
    row.saved_at = now_or(now)
    row.save(update_fields=["draft", "saved_at"])
    return answers


def _store(session: Session, cleaned: list[tuple], *, source: str, by: User | None, now: dt.datetime) -> None:
    """Write the values: a new row, or the patient's earlier answer changed
    (the history keeps each version, with the reason)."""
    existing = {m.measure_id: m for m in OutcomeMeasurement.objects.select_for_update().filter(session=session)}
    observed_on = session.visit_date
    for measure, value, items in cleaned:
        row = existing.get(measure.pk)
        if row is None:
            row = OutcomeMeasurement(session=session, measure=measure, answered_at=now)
            reason = ANSWERED if source == ValueSource.PATIENT else PAPER
        elif (row.value, row.items, row.source) == (value, items, source):
            continue
        else:
            reason = CHANGED if source == ValueSource.PATIENT else PAPER
        row.value, row.items, row.source = value, items, source
        row.observed_on = observed_on
        row.recorded_by = by
        row.recorded_at = now
        row._history_user = by
        row._change_reason = reason
        row.save()


def _clean(session: Session, outcomes: Iterable[Mapping]) -> tuple[list[tuple], dict]:
    """(measure, value, items) for each outcome, and the errors by measure code."""
    catalogue = {m.code: m for m in patient_measures(session)}
    cleaned, errors = [], {}
    for outcome in outcomes:
        code = str(outcome.get("measure", ""))
        measure = catalogue.get(code)
        if measure is None:
            errors[code or "measure"] = [_("%(code)s is not asked at this visit.") % {"code": code[:40]}]
            continue
        try:
            value, items = measured_value(
                measure, outcome.get("value"), outcome.get("items"),
                born=session.patient.date_of_birth, on=session.visit_date,
            )
        except ValidationError as error:
            errors[code] = error.messages
            continue
        cleaned.append((measure, value, items))
    return cleaned, errors


@transaction.atomic
def send_answers(session: Session, *, now: dt.datetime | None = None, language: str | None = None) -> Questionnaire:
    """The patient sends the saved answers: every instrument asked must be
    answered as its rules require (POEM and DLQI may leave one question out);
    otherwise a ValidationError by measure code and nothing is stored. Sent
    again after a change, the values are updated."""
    now = now_or(now)
    session = (
        Session.objects.select_for_update(of=("self",)).select_related("clinic", "patient", "step").get(pk=session.pk)
    )
    if refusal := change_refusal(session):
        raise Conflict(refusal)
    row = _row(session)
    asked, _left_out = instruments_for(session, language)
    outcomes = [content.as_outcome(i.code, row.draft.get(i.code, {})) for i in asked]
    cleaned, errors = _clean(session, outcomes)
    if errors:
        raise ValidationError(errors)
    _store(session, cleaned, source=ValueSource.PATIENT, by=None, now=now)
    if row.answered_at is None:
        row.answered_at = now
    else:
        row.changed_at = now
    row.source = ValueSource.PATIENT
    row.save(update_fields=["answered_at", "changed_at", "source"])
    sync_reminders(session, now=now)  # answered: a questionnaire email still pending is void
    return row


@transaction.atomic
def enter_paper(*, session: Session, outcomes: Iterable[Mapping], by: User, now: dt.datetime | None = None) -> Questionnaire:
    """Staff type in a paper questionnaire on the patient's behalf (source
    "staff"), before or at the visit and until it is completed: any of the
    step's patient-reported measures, each a value or its items."""
    now = now_or(now)
    require_role(by, Role.RECEPTION, clinic_id=session.clinic_id, what="session")
    session = (
        Session.objects.select_for_update(of=("self",)).select_related("clinic", "patient", "step").get(pk=session.pk)
    )
    if refusal := change_refusal(session):
        raise Conflict(refusal)
    outcomes = list(outcomes)
    if not outcomes:
        raise ValidationError({"outcomes": [_("Give at least one answer of the questionnaire.")]})
    cleaned, errors = _clean(session, outcomes)
    if errors:
        raise ValidationError({"outcomes": [m for messages in errors.values() for m in messages]})
    _store(session, cleaned, source=ValueSource.STAFF, by=by, now=now)
    row = _row(session)
    if row.answered_at is None:
        row.answered_at = now
        row.source = ValueSource.STAFF
    else:
        row.changed_at = now
    row.save(update_fields=["answered_at", "changed_at", "source"])
    sync_reminders(session, now=now)
    return row


def status(session: Session) -> dict:
    """What staff see about a session's questionnaire (SPEC §17)."""
    row = questionnaire_of(session)
    wanted = session.asks_questionnaire
    emails = list(
        Reminder.objects.filter(session=session, kind=ReminderKind.QUESTIONNAIRE)
        .exclude(status=ReminderStatus.VOID)
        .order_by("due_at")
    )
    sent = [r for r in emails if r.status == ReminderStatus.SENT]
    pending = [r for r in emails if r.status in (ReminderStatus.PENDING, ReminderStatus.SENDING)]
    _asked, left_out = instruments_for(session) if wanted else ([], [])
    answered_at = row.answered_at if row else None
    values = list(
        session.outcomes.filter(measure__reported_by=ReportedBy.PATIENT).select_related("measure").order_by("measure__code")
    )
    return {
        "asked": wanted,
        "measures": [m.code for m in patient_measures(session)] if wanted else [],
        "left_out": left_out,
        "email_due_at": pending[0].due_at if pending else None,
        "sent": bool(sent),
        "sent_at": sent[-1].sent_at if sent else None,
        "opened": bool(row and row.opened_at),
        "opened_at": row.opened_at if row else None,
        "answered": answered_at is not None,
        "answered_at": answered_at,
        "changed_at": row.changed_at if row else None,
        "source": row.source if row and row.source else None,
        "answered_before_visit": bool(answered_at and session.start and answered_at < session.start),
        "values": values,
    }


def badge(row: Questionnaire | None, sent: bool) -> str:
    """One word for the agenda: answered, opened, sent, or "" (nothing yet)."""
    if row is not None and row.answered_at:
        return "answered"
    if row is not None and row.opened_at:
        return "opened"
    return "sent" if sent else ""


def badges(sessions: list[Session]) -> dict[int, str]:
    """Each session's questionnaire state (answered/opened/sent/waiting) for
    sessions whose steps ask one, in three queries for the lot."""
    ids = [s.pk for s in sessions]
    if not ids:
        return {}
    asking = set(
        Session.objects.filter(pk__in=ids, step__measures__reported_by=ReportedBy.PATIENT).values_list("pk", flat=True)
    )
    rows = {q.session_id: q for q in Questionnaire.objects.filter(session_id__in=asking)}
    sent = set(
        Reminder.objects.filter(
            session_id__in=asking, kind=ReminderKind.QUESTIONNAIRE, status=ReminderStatus.SENT
        ).values_list("session_id", flat=True)
    )
    return {pk: badge(rows.get(pk), pk in sent) or "waiting" for pk in asking}


def unanswered_soon(clinic, *, now: dt.datetime, hours: int = 48):
    """Booked visits in the next `hours` whose questionnaire has no answers (the due list)."""
    return (
        Session.objects.filter(
            clinic=clinic, status=SessionStatus.BOOKED, start__gte=now, start__lt=now + dt.timedelta(hours=hours),
            step__measures__reported_by=ReportedBy.PATIENT,
        )
        .exclude(questionnaire__answered_at__isnull=False)
        .distinct()
        .select_related("patient", "step", "step__protocol")
        .order_by("start")
    )
