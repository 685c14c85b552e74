"""Response-guided schedules (SPEC §19): the proposal a decision visit makes
when it is completed, and the re-planning a clinician's accept or override
does, in one transaction.

The rules and the re-planning are pure (protocols/schedule.py); here the
visit's values are read into `schedule.Facts`, and what the pure functions
say is written back: sessions leaving the path cancelled (booked ones with
the patient's cancelled notice through the outbox), the arm's sessions
created anchored on the decision visit, the cascade and reminders redone.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinics.models import Role, User
from core.exceptions import Conflict
from core.services import now as now_or
from core.services import require_role, workflow
from core.text import check_text
from patients.models import Enrolment, EnrolmentStatus
from protocols import instruments, schedule
from protocols.models import Step
from sessions.reminders.notices import plan_cancel_notice
from sessions.reminders.plan import sync_reminders

from .models import (
    BookingChange,
    BookingChangeKind,
    ChangeReason,
    Decision,
    DecisionStatus,
    OutcomeMeasurement,
    Session,
    SessionStatus,
)
from .outcomes.selectors import baseline_session_ids
from .workflows import finish_if_done, recascade

OPEN = (SessionStatus.PLANNED, SessionStatus.BOOKED)
REASON_MAX = 1000


def rule_set_of(step: Step) -> schedule.RuleSet | None:
    return schedule.parse_rule_set(step.decision) if step.decision else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def read_facts(session: Session) -> tuple[schedule.Facts, dict]:
    """The decision visit's values against the baseline visit's, as Facts
    for the rules and as the JSON the proposal keeps."""
    values = {m.measure.code: m for m in OutcomeMeasurement.objects.filter(session=session).select_related("measure")}
    baseline_id = baseline_session_ids([session.enrolment_id]).get(session.enrolment_id)
    baselines = {}
    if baseline_id is not None and baseline_id != session.pk:
        baselines = dict(
            OutcomeMeasurement.objects.filter(session_id=baseline_id).values_list("measure__code", "value")
        )
    readings, responders, shown = {}, {}, {"measures": {}, "responders": {}}
    for measure in session.step.measures.all():
        row = values.get(measure.code)
        value = row.value if row else None
        baseline = baselines.get(measure.code)
        reading = schedule.Reading(value, baseline, ordinal=measure.ordinal)
        readings[measure.code] = reading
        percent = reading.of("percent_change")
        shown["measures"][measure.code] = {
            "value": _text(value),
            "baseline": _text(baseline),
            "change": _text(reading.of("change")),
            "percent_change": format(percent.quantize(Decimal("0.01")), "f") if percent is not None else None,
        }
        for definition in measure.responders or []:
            met = None
            if value is not None and baseline is not None:
                met = instruments.responds(
                    definition, baseline=baseline, value=value, higher_is_better=measure.higher_is_better
                )
            responders[definition["code"]] = met
            shown["responders"][definition["code"]] = met
    return schedule.Facts(readings, responders), shown


def _verdict(session: Session) -> tuple[schedule.Verdict, dict] | None:
    rule_set = rule_set_of(session.step)
    if rule_set is None or not rule_set.decides_at(session.occurrence, session.step.repeat):
        return None
    facts, shown = read_facts(session)
    verdict = schedule.evaluate(rule_set, facts)
    # A decision taken at every visit (a wound's dressings) proposes only
    # when a rule holds: the default there is "go on as planned".
    if rule_set.at == "every" and verdict.rule_index is None:
        return None
    return verdict, shown


def _fill(decision: Decision, verdict: schedule.Verdict, shown: dict, rule_set: schedule.RuleSet) -> None:
    decision.proposed_action = verdict.action.text()
    decision.rule_index = verdict.rule_index
    decision.rule_text = (
        rule_set.rules[verdict.rule_index - 1].condition.text() if verdict.rule_index else "default"
    )
    decision.rule_reason = verdict.reason
    decision.values = shown


def propose(session: Session, *, now: dt.datetime) -> Decision | None:
    """After a completion, inside its transaction: the proposal its rules
    make, or None when the visit decides nothing."""
    found = _verdict(session)
    if found is None:
        return None
    verdict, shown = found
    decision = Decision(clinic=session.clinic, enrolment=session.enrolment, session=session, created_at=now)
    _fill(decision, verdict, shown, rule_set_of(session.step))
    decision.save()
    return decision


def values_corrected(session: Session, *, code: str, by: User, now: dt.datetime) -> None:
    """A value of `session` was corrected. Decisions that read it are
    re-evaluated while pending; once decided, they are flagged for review
    and nothing is re-planned (SPEC §19)."""
    for decision in Decision.objects.select_for_update().filter(enrolment_id=session.enrolment_id):
        if code not in decision.values.get("measures", {}):
            continue
        if decision.session_id != session.pk and (decision.values["measures"][code].get("baseline") is None):
            continue
        visit = Session.objects.select_related("step", "clinic", "enrolment").get(pk=decision.session_id)
        if decision.status == DecisionStatus.PENDING:
            found = _verdict(visit)
            if found is not None:
                _fill(decision, *found, rule_set_of(visit.step))
                decision._history_user = by
                decision.save()
            continue
        where = "decision visit" if decision.session_id == session.pk else "baseline"
        decision.review_reason = (
            f"The {where}'s {code} was corrected on {now:%d %b %Y} after the decision: look at it again."
        )[:500]
        decision._history_user = by
        decision.save(update_fields=["review_reason"])


def _arms_of(enrolment: Enrolment) -> set[str]:
    return set(enrolment.protocol.steps.exclude(arm="").values_list("arm", flat=True))


def _action(text: str, enrolment: Enrolment) -> schedule.Action:
    try:
        action = schedule.parse_action(text)
    except schedule.RuleError as error:
        raise ValidationError({"action": [str(error)]}) from None
    if action.kind == schedule.SWITCH_TO and action.arm not in _arms_of(enrolment):
        raise ValidationError({"action": [_("Unknown arm %(arm)s in this protocol version.") % {"arm": repr(action.arm)}]})
    return action


def _locked(decision: Decision, by: User) -> Decision:
    require_role(by, Role.CLINICIAN, clinic_id=decision.clinic_id, what="decision")
    Enrolment.objects.select_for_update().filter(pk=decision.enrolment_id).first()
    decision = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("enrolment__protocol", "session__clinic", "session__step")
        .get(pk=decision.pk)
    )
    if decision.status != DecisionStatus.PENDING:
        raise Conflict(_("This proposal was already %(status)s.") % {"status": str(decision.get_status_display()).lower()})
    if decision.enrolment.status not in (EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED):
        raise Conflict(
            _("The enrolment is %(status)s; its course cannot be re-planned.")
            % {"status": str(decision.enrolment.get_status_display()).lower()}
        )
    return decision


def replan(decision: Decision, action: schedule.Action, *, by: User, now: dt.datetime) -> list[Session]:
    """Carry out `action` from the decision visit: sessions leaving the path
    cancelled (booked ones with a cancelled notice), an arm's sessions
    created anchored on the decision visit. Returns the new sessions."""
    enrolment = decision.enrolment
    sessions = list(
        Session.objects.filter(enrolment=enrolment).select_related("clinic", "enrolment", "patient", "step")
        .order_by("sequence")
    )
    open_ = [
        schedule.OpenSession(s.sequence, s.step.kind, s.step.follow_up)
        for s in sessions
        if s.status in OPEN and s.pk != decision.session_id
    ]
    leaving = set(schedule.leaving(action, open_))
    for session in sessions:
        if session.sequence not in leaving:
            continue
        was_booked = session.status == SessionStatus.BOOKED
        if was_booked:
            BookingChange.objects.create(
                clinic=session.clinic, session=session, kind=BookingChangeKind.CANCELLED, reason=ChangeReason.CLINIC,
                note=f"Re-planned: {action.text()}", previous_start=session.start, by=by, at=now,
            )
        session.status = SessionStatus.CANCELLED
        session.skip_reason = f"Re-planned by decision: {action.text()}"
        session._history_user = by
        session.save(update_fields=["status", "skip_reason"])
        if was_booked:
            plan_cancel_notice(session, start=session.start, end=session.end, now=now)
        sync_reminders(session, now=now)
    created: list[Session] = []
    if action.kind == schedule.SWITCH_TO:
        steps = list(enrolment.protocol.steps.filter(arm=action.arm).order_by("position"))
        visit = decision.session
        anchor = visit.visit_date or visit.target_date
        first = max(s.sequence for s in sessions) + 1
        try:
            planned = schedule.plan_arm(anchor, [schedule.StepRule.of(s) for s in steps], first)
        except OverflowError:
            raise ValidationError({"action": [_("This arm would run past the year 9999.")]}) from None
        for p in planned:
            session = Session(
                clinic=enrolment.clinic, enrolment=enrolment, patient=enrolment.patient, step=steps[p.step_index],
                sequence=p.sequence, occurrence=p.occurrence, target_date=p.dates.target_date,
                window_start=p.dates.window_start, window_end=p.dates.window_end, arm=action.arm, arm_anchor=anchor,
            )
            session._history_user = by
            session.save()
            created.append(session)
        if created and enrolment.status == EnrolmentStatus.COMPLETED:
            enrolment.status = EnrolmentStatus.ACTIVE
            enrolment.save(update_fields=["status"])
    recascade(enrolment, now=now, touched=[s.pk for s in created])
    finish_if_done(enrolment)
    return created


@workflow
def accept_decision(*, decision: Decision, by: User, now: dt.datetime | None = None) -> Decision:
    now = now_or(now)
    decision = _locked(decision, by)
    action = _action(decision.proposed_action, decision.enrolment)
    return _decide(decision, action, DecisionStatus.ACCEPTED, "", by=by, now=now)


@workflow
def override_decision(
    *, decision: Decision, action: str, reason: str, by: User, now: dt.datetime | None = None
) -> Decision:
    now = now_or(now)
    decision = _locked(decision, by)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": [_("Say why the proposal is overridden.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("At most %(count)s characters.") % {"count": REASON_MAX}]})
    check_text(Decision, {"override_reason": reason}, names={"override_reason": "reason"})
    chosen = _action(action, decision.enrolment)
    return _decide(decision, chosen, DecisionStatus.OVERRIDDEN, reason, by=by, now=now)


def _decide(decision, action, status, reason, *, by, now) -> Decision:
    replan(decision, action, by=by, now=now)
    decision.status = status
    decision.chosen_action = action.text()
    decision.override_reason = reason
    decision.decided_by = by
    decision.decided_at = now
    decision._history_user = by
    decision.save()
    return decision


def arm_of(enrolment_decisions) -> str:
    """The arm an enrolment follows: that of its latest decided switch, else "" (the main path)."""
    arm = ""
    for decision in sorted(enrolment_decisions, key=lambda d: (d.decided_at or d.created_at, d.pk)):
        if decision.status != DecisionStatus.PENDING and decision.chosen_action.startswith(schedule.SWITCH_TO):
            arm = schedule.parse_action(decision.chosen_action).arm
    return arm
