"""The agenda as a time grid (issue 13): slot rows down, practitioners or
rooms across, each booking a block spanning its rows, hours the clinic is
closed shaded, and every free open cell a link to book it."""

import datetime as dt
import math
from dataclasses import dataclass, field

from core.timezones import at_local

# Shown when the clinic has no hours that day (a Sunday, a closure), so the
# grid still has rows for bookings made there with an override.
DEFAULT_DAY = (dt.time(8), dt.time(18))


@dataclass
class Cell:
    start: dt.datetime
    open: bool
    resource: object
    resource_name: str
    sessions: list = field(default_factory=list)
    span: int = 1
    covered: bool = False  # inside the block of a booking that began above


@dataclass
class Row:
    time: dt.time
    cells: list[Cell]


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def _bounds(hours: list[tuple[dt.time, dt.time]], sessions, tz) -> tuple[dt.time, dt.time]:
    first, last = (min(o for o, _ in hours), max(c for _, c in hours)) if hours else DEFAULT_DAY
    for session in sessions:
        first = min(first, session.start.astimezone(tz).time())
        end = session.end.astimezone(tz)
        last = max(last, end.time() if end.date() == session.start.astimezone(tz).date() else dt.time(23, 59))
    return first, last


def build_grid(*, day: dt.date, tz, slot_minutes: int, hours: list[tuple[dt.time, dt.time]], closed: bool,
               resources: list[tuple], key: str, sessions: list) -> list[Row]:
    """Rows of cells, one per resource column (`resources`: (pk, name)),
    for the bookings of `day` (`key`: the session attribute naming the
    column). Times are the clinic's wall clock; each row's instant is
    computed per row, so a DST change day has the right rows."""
    first, last = _bounds(hours, sessions, tz)
    minutes = first.hour * 60 + first.minute - (first.hour * 60 + first.minute) % slot_minutes
    end_minutes = last.hour * 60 + last.minute
    columns = [pk for pk, _ in resources]
    rows: list[Row] = []
    while minutes < end_minutes:
        time = dt.time(minutes // 60, minutes % 60)
        is_open = not closed and any(
            _minutes(o) <= minutes and minutes + slot_minutes <= _minutes(c) for o, c in hours
        )
        start = at_local(day, time, tz)
        rows.append(Row(time, [Cell(start=start, open=is_open, resource=pk, resource_name=name) for pk, name in resources]))
        minutes += slot_minutes
    index = {pk: i for i, pk in enumerate(columns)}
    for session in sorted(sessions, key=lambda s: s.start):
        column = index.get(getattr(session, key))
        if column is None or not rows:
            continue
        local = session.start.astimezone(tz)
        offset = (local.hour * 60 + local.minute) - (rows[0].time.hour * 60 + rows[0].time.minute)
        row = max(0, min(len(rows) - 1, offset // slot_minutes))
        cell = rows[row].cells[column]
        while cell.covered and row > 0:  # overlapping (only in "No room"): join the block above
            row -= 1
            cell = rows[row].cells[column]
        cell.sessions.append(session)
        span = math.ceil((session.end - rows[row].cells[column].start).total_seconds() / 60 / slot_minutes)
        span = max(1, min(span, len(rows) - row))
        for below in range(row + 1, row + span):
            rows[below].cells[column].covered = True
        cell.span = max(cell.span, span)
    return rows
