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
    for state in sessions:
        if state.status in FROZEN:
            current = state
        else:
            target = target_for(
                state.rule,
                state.occurrence,
                start_date=start_date,
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
