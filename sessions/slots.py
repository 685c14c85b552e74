"""Free slots for a session, as a pure function over preloaded busy times.

The caller (selectors.free_slots) loads the clinic's opening hours,
closures and the overlapping bookings of the practitioners, rooms and the
patient once; this module only walks the calendar.
"""

import datetime as dt
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


def overlaps(busy: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    # Half-open intervals: a booking ending at 10:00 leaves 10:00 free.
    return any(b_start < end and start < b_end for b_start, b_end in busy)


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
    practitioner_busy: Mapping[int, Sequence[Interval]],
    room_busy: Mapping[int, Sequence[Interval]],
    patient_busy: Sequence[Interval],
    limit: int = 2000,
) -> list[Slot]:
    """Slots in chronological order, then by practitioner. With rooms, each
    slot names the first free room; a clinic without rooms books none."""
    slots: list[Slot] = []
    rooms = sorted(room_busy)
    for day in days:
        if day in closures:
            continue
        for start, end in opening_starts(
            day, opening_hours.get(day.weekday(), ()), slot_minutes=slot_minutes,
            duration_minutes=duration_minutes, tz=tz,
        ):
            if start < not_before or overlaps(patient_busy, start, end):
                continue
            room_id = None
            if rooms:
                room_id = next((r for r in rooms if not overlaps(room_busy[r], start, end)), None)
                if room_id is None:
                    continue
            for practitioner_id in sorted(practitioner_busy):
                if not overlaps(practitioner_busy[practitioner_id], start, end):
                    slots.append(Slot(start, end, practitioner_id, room_id))
                    if len(slots) >= limit:
                        return slots
    return slots
