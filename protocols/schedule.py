"""The date rules of SPEC §3 as plain functions over plain values.

The protocols app owns these rules (a protocol's steps are rules); the
sessions app applies them. No ORM in here: services load rows, turn them into these values, call
`initial_schedule` or `cascade`, and write back what changed. Every date is a
clinic-local calendar date; turning datetimes into local dates is the
caller's business (and the only place time zones matter).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core.text import forbidden_character

PREVIOUS = "previous"
START = "start"
# From the last treatment (or dispensing) visit before this one: the
# follow-ups of the second library edition (6 and 12 months "after the last
# treatment"), which must not drift with the visits in between.
TREATMENT = "treatment"
TREATMENT_KIND = "treatment"

PLANNED = "planned"
BOOKED = "booked"
COMPLETED = "completed"
SKIPPED = "skipped"
CANCELLED = "cancelled"

# Sessions in these states have happened or been given up: their dates are
# history and never move again.
FROZEN = frozenset({COMPLETED, SKIPPED, CANCELLED})

# Bounds that keep every computed date far from date.max and every schedule
# a size a clinic can work with. Protocol validation enforces them.
MAX_REPEAT = 200
MAX_INTERVAL_DAYS = 3650
MAX_WINDOW_DAYS = 365
MAX_SESSIONS = 500


@dataclass(frozen=True)
class StepRule:
    repeat: int
    interval_days: int
    anchor: str
    window_before_days: int
    window_after_days: int
    # Whether sessions of this step are treatments: an `anchor = treatment`
    # step counts from the latest of them.
    is_treatment: bool = False

    @classmethod
    def of(cls, step) -> "StepRule":
        """The rule of a protocol step (any object with the step's fields)."""
        return cls(
            repeat=step.repeat,
            interval_days=step.interval_days,
            anchor=step.anchor,
            window_before_days=step.window_before_days,
            window_after_days=step.window_after_days,
            is_treatment=step.kind == TREATMENT_KIND,
        )


@dataclass(frozen=True)
class Dates:
    target_date: dt.date
    window_start: dt.date
    window_end: dt.date

    def holds(self, day: dt.date) -> bool:
        return self.window_start <= day <= self.window_end


@dataclass(frozen=True)
class PlannedSession:
    sequence: int
    step_index: int
    occurrence: int
    dates: Dates


@dataclass(frozen=True)
class SessionState:
    """What the cascade needs to know of one existing session."""

    sequence: int
    occurrence: int
    rule: StepRule
    status: str
    target_date: dt.date
    booked_date: dt.date | None = None
    completed_date: dt.date | None = None
    # A session of an arm (SPEC §19): the decision visit's date its arm is
    # anchored on, which stands in for the start date (and the previous
    # session of its first step); None on the protocol's main path.
    arm_anchor: dt.date | None = None


@dataclass(frozen=True)
class Recomputed:
    sequence: int
    dates: Dates
    out_of_window: bool


def window_around(target: dt.date, rule: StepRule) -> Dates:
    return Dates(
        target_date=target,
        window_start=target - dt.timedelta(days=rule.window_before_days),
        window_end=target + dt.timedelta(days=rule.window_after_days),
    )


def reference_date(state: SessionState) -> dt.date:
    """Completion date if completed, else booked date if booked, else target.

    A skipped (or cancelled) session has neither, so it passes its target
    date on to the session after it."""
    if state.status == COMPLETED and state.completed_date is not None:
        return state.completed_date
    if state.status == BOOKED and state.booked_date is not None:
        return state.booked_date
    return state.target_date


def target_for(
    rule: StepRule,
    occurrence: int,
    *,
    start_date: dt.date,
    previous_reference: dt.date,
    treatment_reference: dt.date | None = None,
) -> dt.date:
    """`treatment_reference` is the reference date of the latest treatment
    session before this one (the start date when there is none)."""
    if rule.anchor == START:
        return start_date + dt.timedelta(days=rule.interval_days * occurrence)
    if rule.anchor == TREATMENT:
        return (treatment_reference or start_date) + dt.timedelta(days=rule.interval_days)
    return previous_reference + dt.timedelta(days=rule.interval_days)


def initial_schedule(start_date: dt.date, rules: Sequence[StepRule]) -> list[PlannedSession]:
    """Every session of a new enrolment: steps in order, occurrences in
    order, numbered 1..N."""
    planned: list[PlannedSession] = []
    previous_reference = treatment_reference = start_date
    sequence = 0
    for step_index, rule in enumerate(rules):
        for occurrence in range(1, rule.repeat + 1):
            sequence += 1
            target = target_for(
                rule,
                occurrence,
                start_date=start_date,
                previous_reference=previous_reference,
                treatment_reference=treatment_reference,
            )
            planned.append(PlannedSession(sequence, step_index, occurrence, window_around(target, rule)))
            # A new session is planned, so its reference date is its target.
            previous_reference = target
            if rule.is_treatment:
                treatment_reference = target
    return planned


def cascade(start_date: dt.date, sessions: Sequence[SessionState]) -> list[Recomputed]:
    """Recompute the dates of every session that may still move.

    `sessions` is the whole enrolment in sequence order. Completed, skipped
    and cancelled sessions keep their dates. Planned and booked sessions get
    their target and window from their anchor; a booked one keeps its booking
    and is `out_of_window` when the recomputed window no longer holds its
    booked date. `anchor = start` sessions compute to the same dates every
    time, so they never move.

    Recomputing from the start of the enrolment (not only after the session
    that changed) makes the result a function of the current state alone:
    running it twice, or after any sequence of changes, agrees.
    """
    results: list[Recomputed] = []
    previous_reference = treatment_reference = start_date
    segment: dt.date | None = None
    for state in sessions:
        if state.arm_anchor is not None and state.arm_anchor != segment:
            # An arm begins: it counts from its decision visit.
            segment = previous_reference = treatment_reference = state.arm_anchor
        if state.status in FROZEN:
            current = state
        else:
            target = target_for(
                state.rule,
                state.occurrence,
                start_date=state.arm_anchor or start_date,
                previous_reference=previous_reference,
                treatment_reference=treatment_reference,
            )
            dates = window_around(target, state.rule)
            out_of_window = state.status == BOOKED and state.booked_date is not None and not dates.holds(state.booked_date)
            results.append(Recomputed(state.sequence, dates, out_of_window))
            current = SessionState(
                sequence=state.sequence,
                occurrence=state.occurrence,
                rule=state.rule,
                status=state.status,
                target_date=target,
                booked_date=state.booked_date,
                completed_date=state.completed_date,
                arm_anchor=state.arm_anchor,
            )
        previous_reference = reference_date(current)
        # A cancelled or skipped treatment passes its target on, as for `previous`.
        if state.rule.is_treatment:
            treatment_reference = previous_reference
    return results


def last_date(start_date: dt.date, rules: Sequence[StepRule]) -> dt.date:
    """The latest window end of a fresh schedule; used to bound inputs."""
    schedule = initial_schedule(start_date, rules)
    return max((p.dates.window_end for p in schedule), default=start_date)


# --- Response-guided schedules (SPEC §19): decision rules and re-planning -------------------------
# A decision step carries rules as data: {"at": "last" | "every", "rules":
# [{"if": <condition>, "then": <action>, "reason": <text>}], "default":
# {"then": <action>, "reason": <text>}}. Conditions are `responder: <code>`
# or `<measure> [value|change|percent_change] <op> <number>`; actions are
# `continue`, `switch_to: <arm>`, `stop_treatments` and `review`. Everything
# here is pure: the caller reads the visit's values into `Facts`.

CONTINUE = "continue"
SWITCH_TO = "switch_to"
STOP_TREATMENTS = "stop_treatments"
REVIEW = "review"
ACTIONS = (CONTINUE, SWITCH_TO, STOP_TREATMENTS, REVIEW)
MEASURE_BASES = ("value", "change", "percent_change")
OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
DECIDE_AT = ("last", "every")
MAX_RULES = 20
HOME_KIND = "home"


class RuleError(ValueError):
    """A rule that cannot be read; its message names the part."""


@dataclass(frozen=True)
class Condition:
    responder: str = ""
    measure: str = ""
    basis: str = "value"
    op: str = ""
    number: Decimal | None = None

    def text(self) -> str:
        if self.responder:
            return f"responder: {self.responder}"
        basis = "" if self.basis == "value" else f" {self.basis}"
        return f"{self.measure}{basis} {self.op} {self.number}"


@dataclass(frozen=True)
class Action:
    kind: str
    arm: str = ""

    def text(self) -> str:
        return f"{SWITCH_TO}: {self.arm}" if self.kind == SWITCH_TO else self.kind


def parse_condition(text) -> Condition:
    if not isinstance(text, str) or not text.strip():
        raise RuleError(_("a condition is required"))
    text = " ".join(text.split())
    if text.startswith("responder:"):
        code = text.removeprefix("responder:").strip()
        if not code or " " in code:
            raise RuleError(_("condition %(text)s: write responder: <code>") % {"text": repr(text)})
        return Condition(responder=code)
    parts = text.split(" ")
    if len(parts) == 3:
        parts.insert(1, "value")
    if len(parts) != 4:
        raise RuleError(
            _("condition %(text)s: write <measure> [value|change|percent_change] <op> <number>") % {"text": repr(text)}
        )
    measure, basis, op, number = parts
    if basis not in MEASURE_BASES:
        raise RuleError(
            _("condition %(text)s: %(basis)s is not one of %(choices)s")
            % {"text": repr(text), "basis": repr(basis), "choices": ", ".join(MEASURE_BASES)}
        )
    if op not in OPERATORS:
        raise RuleError(
            _("condition %(text)s: operator %(op)s is not one of %(choices)s")
            % {"text": repr(text), "op": repr(op), "choices": " ".join(OPERATORS)}
        )
    try:
        value = Decimal(number)
    except (InvalidOperation, ValueError):
        raise RuleError(
            _("condition %(text)s: %(number)s is not a number") % {"text": repr(text), "number": repr(number)}
        ) from None
    if not value.is_finite() or abs(value) > 10**9:
        raise RuleError(
            _("condition %(text)s: %(number)s is not a usable number") % {"text": repr(text), "number": repr(number)}
        )
    return Condition(measure=measure, basis=basis, op=op, number=value)


def parse_action(text) -> Action:
    if not isinstance(text, str) or not text.strip():
        raise RuleError(_("an action is required"))
    text = " ".join(text.split())
    if text.startswith(f"{SWITCH_TO}:"):
        arm = text.removeprefix(f"{SWITCH_TO}:").strip()
        if not arm or " " in arm:
            raise RuleError(_("action %(text)s: write switch_to: <arm>") % {"text": repr(text)})
        return Action(SWITCH_TO, arm)
    if text in (CONTINUE, STOP_TREATMENTS, REVIEW):
        return Action(text)
    raise RuleError(
        _("action %(text)s is not one of continue, switch_to: <arm>, stop_treatments, review") % {"text": repr(text)}
    )


@dataclass(frozen=True)
class Rule:
    condition: Condition
    action: Action
    reason: str = ""


@dataclass(frozen=True)
class RuleSet:
    at: str
    rules: tuple[Rule, ...]
    default: Action
    default_reason: str = ""

    def decides_at(self, occurrence: int, repeat: int) -> bool:
        return self.at == "every" or occurrence == repeat


def parse_rule_set(data) -> RuleSet:
    """A step's `decision` data as a RuleSet; RuleError names what is wrong."""
    if not isinstance(data, dict):
        raise RuleError(_("decision must be an object with rules and a default"))
    unknown = sorted(set(data) - {"at", "rules", "default"})
    if unknown:
        raise RuleError(_("decision: unknown key(s) %(keys)s") % {"keys": ", ".join(unknown)})
    at = data.get("at", "last")
    if at not in DECIDE_AT:
        raise RuleError(_("decision: at must be one of %(choices)s") % {"choices": ", ".join(DECIDE_AT)})
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or len(raw_rules) > MAX_RULES:
        raise RuleError(_("decision: rules must be a list of at most %(count)s") % {"count": MAX_RULES})
    rules = []
    for index, raw in enumerate(raw_rules, start=1):
        if not isinstance(raw, dict) or set(raw) - {"if", "then", "reason"}:
            raise RuleError(_('rule %(index)s: write {"if": ..., "then": ..., "reason": ...}') % {"index": index})
        try:
            rules.append(Rule(parse_condition(raw.get("if")), parse_action(raw.get("then")), _reason(raw)))
        except RuleError as error:
            raise RuleError(_("rule %(index)s: %(error)s") % {"index": index, "error": error}) from None
    default = data.get("default")
    if not isinstance(default, dict) or set(default) - {"then", "reason"}:
        raise RuleError(_('decision: a default {"then": ..., "reason": ...} is required'))
    try:
        action = parse_action(default.get("then"))
    except RuleError as error:
        raise RuleError(_("default: %(error)s") % {"error": error}) from None
    return RuleSet(at, tuple(rules), action, _reason(default))


def _reason(raw: dict) -> str:
    reason = raw.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 300 or forbidden_character(reason) is not None:
        raise RuleError(_("reason must be one line of at most 300 characters, without control or bidi characters"))
    return reason.strip()


@dataclass(frozen=True)
class Reading:
    """One measure at the decision visit: its value and baseline (None when missing)."""

    value: Decimal | None
    baseline: Decimal | None = None
    ordinal: bool = False

    def of(self, basis: str) -> Decimal | None:
        if self.value is None:
            return None
        if basis == "value":
            return self.value
        if self.baseline is None:
            return None
        if basis == "change":
            return self.value - self.baseline
        if self.ordinal or self.baseline <= 0:
            return None
        return (self.value - self.baseline) * 100 / self.baseline


@dataclass(frozen=True)
class Facts:
    readings: dict  # measure code -> Reading
    responders: dict  # responder code -> bool | None (None: a value is missing)


def holds(condition: Condition, facts: Facts) -> bool | None:
    """True or False, or None when a value it needs is missing."""
    if condition.responder:
        return facts.responders.get(condition.responder)
    reading = facts.readings.get(condition.measure)
    number = reading.of(condition.basis) if reading else None
    if number is None:
        return None
    return OPERATORS[condition.op](number, condition.number)


@dataclass(frozen=True)
class Verdict:
    action: Action
    rule_index: int | None  # 1-based; None: the default applied
    reason: str


def evaluate(rule_set: RuleSet, facts: Facts) -> Verdict:
    """Exactly one action: the first rule whose condition holds, else the
    default (also when a value a rule needs is missing)."""
    for index, rule in enumerate(rule_set.rules, start=1):
        if holds(rule.condition, facts) is True:
            return Verdict(rule.action, index, rule.reason)
    return Verdict(rule_set.default, None, rule_set.default_reason)


@dataclass(frozen=True)
class OpenSession:
    """What re-planning needs to know of a session still to come."""

    sequence: int
    kind: str
    follow_up: bool


def leaving(action: Action, sessions: Sequence[OpenSession]) -> list[int]:
    """Sequences of the open (planned or booked) sessions the action takes
    off the path: a switch cancels every one but the follow-ups (they keep
    their dates), stop_treatments the treatment and home sessions; continue
    and review none."""
    if action.kind == SWITCH_TO:
        return [s.sequence for s in sessions if not s.follow_up]
    if action.kind == STOP_TREATMENTS:
        return [s.sequence for s in sessions if s.kind in (TREATMENT_KIND, HOME_KIND)]
    return []


def plan_arm(decision_date: dt.date, rules: Sequence[StepRule], first_sequence: int) -> list[PlannedSession]:
    """An arm's sessions anchored on the decision visit: `start` steps count
    from it, the first `previous` step from it too; numbered on from
    `first_sequence`. `step_index` is the index within the arm."""
    return [
        PlannedSession(p.sequence + first_sequence - 1, p.step_index, p.occurrence, p.dates)
        for p in initial_schedule(decision_date, rules)
    ]
