"""Free slots for a session, as a pure function over preloaded busy times.

The caller (selectors.free_slots) loads the clinic's opening hours,
closures and the overlapping bookings of the practitioners, rooms and the
patient once; this module only walks the calendar.
"""

import bisect
import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.timezones import UTC, is_in_gap

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    practitioner_id: int
    room_id: int | None


class Busy:
    """One calendar's busy intervals, asked "is [start, end) free?" in
    O(log n): the intervals sorted by start, with the latest end among each
    prefix. The ones that begin before `end` are a prefix; the candidate
    overlaps one of them exactly when that prefix's latest end is after
    `start`. A busy clinic's fortnight (thousands of bookings) then costs
    each candidate slot a bisection rather than a walk over all of them."""

    def __init__(self, intervals: Iterable[Interval] = ()):
        ordered = sorted(intervals)
        self.starts = [start for start, _ in ordered]
        self.latest_ends = list(itertools.accumulate((end for _, end in ordered), max))

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        # Half-open intervals: a booking ending at 10:00 leaves 10:00 free.
        before = bisect.bisect_left(self.starts, end)  # the intervals that begin before `end`
        return before > 0 and self.latest_ends[before - 1] > start


def opening_starts(
    day: dt.date,
    intervals: Sequence[tuple[dt.time, dt.time]],
    *,
    slot_minutes: int,
    duration_minutes: int,
    tz: zoneinfo.ZoneInfo,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every slot start on `day` whose whole duration fits an opening interval,
    as aware datetimes. Wall-clock times the zone skips are left out."""
    found = []
    length = dt.timedelta(minutes=duration_minutes)
    step = dt.timedelta(minutes=slot_minutes)
    for opens, closes in intervals:
        wall = dt.datetime.combine(day, opens)
        closing = dt.datetime.combine(day, closes)
        while wall < closing:
            if not is_in_gap(wall, tz):
                start = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
                # Real elapsed time across a DST change can differ from the
                # wall-clock span; the end is an instant `duration` later,
                # and it is that instant's clock time that must not pass
                # closing (as book_session checks it).
                end = start + length
                if end.astimezone(tz).replace(tzinfo=None) <= closing:
                    found.append((start, end))
            wall += step
    return found


def free_slots(
    *,
    days: Iterable[dt.date],
    opening_hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]],
    closures: set[dt.date],
    slot_minutes: int,
    duration_minutes: int,
    tz: zoneinfo.ZoneInfo,
    not_before: dt.datetime,
    practitioner_busy: Mapping[int, Iterable[Interval]],
    room_busy: Mapping[int, Iterable[Interval]],
    patient_busy: Iterable[Interval],
    limit: int = 2000,
) -> list[Slot]:
    """Slots in chronological order, then by practitioner. With rooms, each
    slot names the first free room; a clinic without rooms books none."""
    slots: list[Slot] = []
    rooms = [(room_id, Busy(intervals)) for room_id, intervals in sorted(room_busy.items())]
    practitioners = [
        (practitioner_id, Busy(intervals)) for practitioner_id, intervals in sorted(practitioner_busy.items())
    ]
    patient = Busy(patient_busy)
    for day in days:
        if day in closures:
            continue
        for start, end in opening_starts(
            day,
            opening_hours.get(day.weekday(), ()),
            slot_minutes=slot_minutes,
            duration_minutes=duration_minutes,
            tz=tz,
        ):
            if start < not_before or patient.overlaps(start, end):
                continue
            room_id = None
            if rooms:
                room_id = next((r for r, busy in rooms if not busy.overlaps(start, end)), None)
                if room_id is None:
                    continue
            for practitioner_id, busy in practitioners:
                if not busy.overlaps(start, end):
                    slots.append(Slot(start, end, practitioner_id, room_id))
                    if len(slots) >= limit:
                        return slots
    return slots
