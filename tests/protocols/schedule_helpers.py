"""Plain-value helpers for driving protocols/schedule.py the way the services do:
build an enrolment's session states, change one, cascade, write back."""

import datetime as dt
from dataclasses import replace

from protocols.schedule import (
    BOOKED,
    COMPLETED,
    PLANNED,
    PREVIOUS,
    SKIPPED,
    SessionState,
    StepRule,
    cascade,
    initial_schedule,
)


def rule(repeat=1, interval=0, anchor=PREVIOUS, before=0, after=0) -> StepRule:
    return StepRule(
        repeat=repeat, interval_days=interval, anchor=anchor, window_before_days=before, window_after_days=after
    )


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Course:
    """An enrolment in memory: the states the services would load, plus the
    dates and out_of_window flags they would have written back."""

    def __init__(self, start: dt.date, rules):
        self.start = start
        self.rules = list(rules)
        planned = initial_schedule(start, self.rules)
        self.states = [
            SessionState(
                sequence=p.sequence,
                occurrence=p.occurrence,
                rule=self.rules[p.step_index],
                status=PLANNED,
                target_date=p.dates.target_date,
            )
            for p in planned
        ]
        self.windows = {p.sequence: (p.dates.window_start, p.dates.window_end) for p in planned}
        self.out_of_window = {p.sequence: False for p in planned}

    def __getitem__(self, sequence: int) -> SessionState:
        return self.states[sequence - 1]

    def _set(self, sequence: int, **changes) -> None:
        self.states[sequence - 1] = replace(self.states[sequence - 1], **changes)
        self.run()

    def run(self):
        results = cascade(self.start, self.states)
        for result in results:
            self.states[result.sequence - 1] = replace(self.states[result.sequence - 1], target_date=result.dates.target_date)
            self.windows[result.sequence] = (result.dates.window_start, result.dates.window_end)
            self.out_of_window[result.sequence] = result.out_of_window
        return results

    # The transitions of SPEC §3, as the services make them.
    def book(self, sequence: int, day: dt.date) -> None:
        self._set(sequence, status=BOOKED, booked_date=day)

    def cancel_booking(self, sequence: int) -> None:
        self._set(sequence, status=PLANNED, booked_date=None)

    def no_show(self, sequence: int) -> None:
        self._set(sequence, status=PLANNED, booked_date=None)

    def complete(self, sequence: int, day: dt.date) -> None:
        self._set(sequence, status=COMPLETED, completed_date=day)

    def skip(self, sequence: int) -> None:
        self._set(sequence, status=SKIPPED, booked_date=None)

    def targets(self) -> list[str]:
        return [s.target_date.isoformat() for s in self.states]

    def window(self, sequence: int) -> tuple[str, str]:
        first, last = self.windows[sequence]
        return first.isoformat(), last.isoformat()
