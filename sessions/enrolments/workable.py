"""Whether a new schedule can be booked at all: every visit's window must
hold at least one day the clinic is open (a weekday with opening hours, not
a closure). A baseline with a 0-day window on a Sunday cannot be booked, so
enrolling such a schedule is refused with the next start date that works
(issue 13); the preview marks the sessions at fault."""

import datetime as dt
from collections.abc import Callable, Sequence

from clinics.models import Clinic
from protocols import schedule
from protocols.models import Step, StepKind

# How far after the asked-for start date a working one is looked for.
SEARCH_DAYS = 366

IsOpen = Callable[[dt.date], bool]


def clinic_open_days(clinic: Clinic, first: dt.date, last: dt.date) -> IsOpen:
    """A test for "the clinic is open on this day" over first..last: two queries."""
    weekdays = set(clinic.opening_hours.values_list("weekday", flat=True))
    closures = set(clinic.closures.filter(date__range=(first, last)).values_list("date", flat=True))
    return lambda day: day.weekday() in weekdays and day not in closures


def unbookable(planned: Sequence[schedule.PlannedSession], steps: Sequence[Step], is_open: IsOpen) -> set[int]:
    """The sequences of visits (home applications are never booked) whose
    window holds no open day."""
    return {
        p.sequence
        for p in planned
        if steps[p.step_index].kind != StepKind.HOME
        and not any(
            is_open(p.dates.window_start + dt.timedelta(days=n))
            for n in range((p.dates.window_end - p.dates.window_start).days + 1)
        )
    }


def _span(start_date: dt.date, rules: Sequence[schedule.StepRule]) -> int:
    """Days from the start date to the last window's end."""
    planned = schedule.initial_schedule(start_date, rules)
    return max((p.dates.window_end - start_date).days for p in planned) if planned else 0


def check_schedule(clinic: Clinic, start_date: dt.date, steps: Sequence[Step]) -> tuple[set[int], dt.date | None]:
    """The unbookable visits of a schedule starting on `start_date`, and (when
    there are some) the first later start date whose schedule has none, or
    None when no start within a year works. Raises OverflowError near 9999."""
    rules = [schedule.StepRule.of(s) for s in steps]
    span = _span(start_date, rules)
    is_open = clinic_open_days(clinic, start_date, start_date + dt.timedelta(days=SEARCH_DAYS + span))
    faults = unbookable(schedule.initial_schedule(start_date, rules), steps, is_open)
    if not faults:
        return faults, None
    for n in range(1, SEARCH_DAYS + 1):
        candidate = start_date + dt.timedelta(days=n)
        if not unbookable(schedule.initial_schedule(candidate, rules), steps, is_open):
            return faults, candidate
    return faults, None


def refusal(faults: set[int], suggestion: dt.date | None) -> str:
    """The message on `start_date` when a schedule has unbookable visits."""
    visits = ", ".join(f"#{n}" for n in sorted(faults))
    what = f"visit {visits}" if len(faults) == 1 else f"visits {visits}"
    text = f"The clinic is closed on every day of the window of {what}, so it could never be booked."
    if suggestion is None:
        return text + " No start date in the coming year works: check the opening hours and closures."
    return text + f" The next start date that works is {suggestion:%A %d %B %Y} ({suggestion.isoformat()})."
