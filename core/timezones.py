"""Clinic-local wall-clock time <-> aware UTC datetimes.

Schedules are local dates; bookings are instants. A booked 09:00 stays 09:00
across a daylight-saving change because the instant is computed from the
local date and wall-clock time of that very day, never by adding 24-hour
multiples to another instant.
"""

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

UTC = dt.UTC


def is_in_gap(naive: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """True for a wall-clock time that the zone skips (spring forward):
    converting it to UTC and back gives a different wall-clock time."""
    aware = naive.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return round_trip != naive


def localize(naive: dt.datetime, tz: zoneinfo.ZoneInfo, *, field: str = "start") -> dt.datetime:
    """Attach the clinic's zone to a wall-clock time.

    A time inside a spring-forward gap does not exist there and is refused.
    A time repeated by the autumn change (fold) is taken at its first
    occurrence, the one still on summer time: `fold=0`."""
    try:
        in_gap = is_in_gap(naive, tz)
    except OverflowError:
        # The first hours of year 1 or the last of 9999 have no UTC instant
        # in some zones; a 400 on the field, never a 500.
        raise ValidationError({field: [_("%(time)s is out of range.") % {"time": naive.isoformat(" ", "minutes")}]}) from None
    if in_gap:
        raise ValidationError(
            {
                field: [
                    _("%(time)s does not exist in %(zone)s: the clocks skip it (daylight saving).")
                    % {"time": f"{naive:%Y-%m-%d %H:%M}", "zone": tz.key}
                ]
            }
        )
    return naive.replace(tzinfo=tz, fold=0)


def as_clinic_time(value: dt.datetime, tz: zoneinfo.ZoneInfo, *, field: str = "start") -> dt.datetime:
    """A datetime sent without an offset is the clinic's local time (SPEC §6)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return localize(value, tz, field=field)
    return value


def local_midnight(day: dt.date, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The first instant of `day` in the zone. Some zones skip midnight itself
    (America/Santiago, Asia/Beirut, America/Havana spring forward at 00:00);
    there the day starts at 01:00."""
    return at_local(day, dt.time(0, 0), tz)


def at_local(day: dt.date, wall: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant (in UTC) of `wall` o'clock on `day` in the zone; a wall time
    in a gap is moved forward by the gap (08:00 never falls in one in
    practice), a repeated one is taken at its first occurrence."""
    # PEP 495: inside a gap, fold=0 reads the wall time with the offset in
    # force before the change, which lands after the gap (02:30 -> 03:30);
    # fold=1 would land before it (02:30 -> 01:30). Returned in UTC because
    # Python never finds an aware time in a fold equal to one in another zone.
    return dt.datetime.combine(day, wall).replace(tzinfo=tz, fold=0).astimezone(UTC)
