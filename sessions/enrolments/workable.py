"""Whether a new schedule can be booked at all: every visit's window must
hold at least one day the clinic is open (a weekday with opening hours, not
a closure). A baseline with a 0-day window on a Sunday cannot be booked, so
enrolling such a schedule is refused with the next start date that works
(issue 13); the preview marks the sessions at fault."""

import datetime as dt
from collections.abc import Callable, Sequence

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinics.models import Clinic
from protocols import schedule
from protocols.models import Step, StepKind

# How far after the asked-for start date a working one is looked for.
SEARCH_DAYS = 366

IsOpen = Callable[[dt.date], bool]


def clinic_open_days(clinic: Clinic, first: dt.date, last: dt.date = dt.date.max) -> IsOpen:
    """A test for "the clinic is open on this day" over first..last (or
    every day from first on): two queries."""
    weekdays = set(clinic.opening_hours.values_list("weekday", flat=True))
    closures = set(clinic.closures.filter(date__range=(first, last)).values_list("date", flat=True))
    return lambda day: day.weekday() in weekdays and day not in closures


# At most this many ways of booking the visits so far are followed (see
# `unbookable_on_every_path`); a course's windows are days wide, so real ones stay far below.
MAX_PATHS = 64


def unbookable(
    start_date: dt.date, steps: Sequence[Step], rules: Sequence[schedule.StepRule], is_open: IsOpen
) -> set[int]:
    """The sequences of visits (home applications are never booked) whose
    window holds no open day, as planned; for a schedule with such visits,
    those that no way of booking the visits before them rescues
    (`unbookable_on_every_path`). The first test is cheap and settles nearly
    every schedule; the second follows the ways of booking. `rules` are the
    steps' (`schedule.StepRule.of`)."""
    if all(
        steps[p.step_index].kind == StepKind.HOME or _open_days(p.dates, is_open)
        for p in schedule.initial_schedule(start_date, rules)
    ):
        return set()
    return unbookable_on_every_path(start_date, steps, rules, is_open)


def unbookable_on_every_path(
    start_date: dt.date, steps: Sequence[Step], rules: Sequence[schedule.StepRule], is_open: IsOpen
) -> set[int]:
    """The sequences of visits (home applications are never booked) that no
    way of booking the visits before them lets land on an open day.

    A visit anchored to the one before (or to the last treatment) moves with
    that visit's booking, as the cascade moves it: a dressing every three
    days with a 0/+1 window in a clinic closed at weekends meets a Saturday
    window sooner or later, yet booking the dressing before it a day later
    puts it on an open Monday. So this walks the schedule as
    `schedule.initial_schedule` does, but keeps every (previous, treatment)
    reference date pair that booking an open day of each window can leave
    (at most MAX_PATHS). A visit with no open day on any path is at fault,
    and passes its target on, as a skipped one does."""
    faults: set[int] = set()
    paths = {(start_date, start_date)}
    sequence = 0
    for step, rule in zip(steps, rules, strict=True):
        for occurrence in range(1, rule.repeat + 1):
            sequence += 1
            after: set[tuple[dt.date, dt.date]] = set()
            unbooked: set[tuple[dt.date, dt.date]] = set()
            for previous, treatment in paths:
                target = schedule.target_for(
                    rule, occurrence, start_date=start_date, previous_reference=previous,
                    treatment_reference=treatment,
                )
                # A home application is planned, never booked: its target is the reference.
                days = [target] if step.kind == StepKind.HOME else _open_days(schedule.window_around(target, rule),
                                                                              is_open)
                for day in days:
                    after.add((day, day if rule.is_treatment else treatment))
                unbooked.add((target, target if rule.is_treatment else treatment))
            if not after:
                faults.add(sequence)
                after = unbooked
            paths = set(sorted(after)[:: max(1, -(-len(after) // MAX_PATHS))])
    return faults


def _open_days(dates: schedule.Dates, is_open: IsOpen) -> list[dt.date]:
    """The days of a window on which the clinic is open."""
    days = (dates.window_start + dt.timedelta(days=n) for n in range((dates.window_end - dates.window_start).days + 1))
    return [day for day in days if is_open(day)]


def _span(start_date: dt.date, rules: Sequence[schedule.StepRule]) -> int:
    """Days from the start date to the last window's end."""
    planned = schedule.initial_schedule(start_date, rules)
    return max((p.dates.window_end - start_date).days for p in planned) if planned else 0


def check_schedule(
    clinic: Clinic, start_date: dt.date, steps: Sequence[Step], *, is_open: IsOpen | None = None
) -> tuple[set[int], dt.date | None]:
    """The unbookable visits of a schedule starting on `start_date`, and (when
    there are some) the first later start date whose schedule has none, or
    None when no start within a year works. Raises OverflowError near 9999.
    `is_open` is the clinic's from `clinic_open_days` over every day the
    check may look at, for a caller that checks many schedules (the bulk
    import); without it the check reads the clinic's days itself."""
    rules = [schedule.StepRule.of(s) for s in steps]
    if is_open is None:
        # Booked a day or two late, visits anchored to the one before move later.
        span = _span(start_date, rules) + sum(rule.repeat * rule.window_after_days for rule in rules)
        is_open = clinic_open_days(clinic, start_date, start_date + dt.timedelta(days=SEARCH_DAYS + span))
    faults = unbookable(start_date, steps, rules, is_open)
    if not faults:
        return faults, None
    for n in range(1, SEARCH_DAYS + 1):
        candidate = start_date + dt.timedelta(days=n)
        if not unbookable(candidate, steps, rules, is_open):
            return faults, candidate
    return faults, None


def refusal(faults: set[int], suggestion: dt.date | None) -> str:
    """The message on `start_date` when a schedule has unbookable visits."""
    visits = ", ".join(f"#{n}" for n in sorted(faults))
    text = ngettext(
        "The clinic is closed on every day of the window of visit %(visits)s, so it could never be booked.",
        "The clinic is closed on every day of the window of visits %(visits)s, so it could never be booked.",
        len(faults),
    ) % {"visits": visits}
    if suggestion is None:
        return text + " " + _("No start date in the coming year works: check the opening hours and closures.")
    return text + " " + _("The next start date that works is %(day)s (%(iso)s).") % {
        "day": date_format(suggestion, "l d F Y"), "iso": suggestion.isoformat()
    }
