"""A clinic's settings workflow (SPEC §2, §5). It lives with the sessions,
not in `clinics`, because a new zone, new closures or new reminder offsets
act on the clinic's bookings and their reminders: the change is refused
while it would move or strand bookings, and re-plans pending reminders in
the same transaction."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction

from clinics.models import CLINIC_SETTINGS, Clinic, Closure, Role, User
from clinics.services import set_opening_hours
from core.exceptions import Conflict
from core.services import model_update
from core.services import now as now_or
from sessions.models import Session, SessionStatus
from sessions.reminders.plan import sync_reminders


@transaction.atomic
def update_clinic(
    *,
    clinic: Clinic,
    data: dict,
    by: User,
    opening_hours: list[tuple[int, dt.time, dt.time]] | None = None,
    closures: list[dt.date] | None = None,
    now: dt.datetime | None = None,
) -> Clinic:
    """Change a clinic's settings (manager only). New reminder offsets or a
    new time zone re-plan the pending reminders of every open session in the
    same transaction, so no email goes out on the old plan."""
    if not by.has_role(Role.MANAGER) or by.clinic_id != clinic.pk:
        raise PermissionDenied("Only the clinic's manager may change its settings.")
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    before = (clinic.timezone, sorted(clinic.reminder_offsets_hours or []))
    model_update(clinic, data, CLINIC_SETTINGS)
    # full_clean checks the zone and the offsets (clinics.models validators).
    clinic.full_clean(exclude=["slug"])
    now = now_or(now)
    if refusal := zone_change_refusal(clinic, old=before[0], new=clinic.timezone, now=now):
        raise Conflict(refusal, field="timezone")
    new_closures = set(closures or ()) - set(clinic.closures.values_list("date", flat=True))
    if refusal := closure_refusal(clinic, new_closures, now=now):
        raise Conflict(refusal, field="closures")
    clinic.save()
    if opening_hours is not None:
        set_opening_hours(clinic=clinic, hours=opening_hours)
    if closures is not None:
        wanted = set(closures)
        clinic.closures.exclude(date__in=wanted).delete()
        have = set(clinic.closures.values_list("date", flat=True))
        Closure.objects.bulk_create(Closure(clinic=clinic, date=day) for day in sorted(wanted - have))
    if (clinic.timezone, sorted(clinic.reminder_offsets_hours)) != before:
        replan_reminders(clinic, now=now)
    return clinic


def coming_bookings(clinic: Clinic, *, now: dt.datetime | None = None):
    return Session.objects.filter(
        clinic=clinic, status=SessionStatus.BOOKED, start__gte=now_or(now)
    )


def booked_days(clinic: Clinic, days, *, now: dt.datetime | None = None) -> list[dt.date]:
    """Which of `days` (clinic-local dates) have a coming booking."""
    if not days:
        return []
    tz = clinic.tz
    local = {start.astimezone(tz).date() for start in coming_bookings(clinic, now=now).values_list("start", flat=True)}
    return sorted(local & set(days))


def zone_change_refusal(clinic: Clinic, *, old: str, new: str, now: dt.datetime | None = None) -> str:
    """Why the clinic may not move from zone `old` to `new` now ("" when it
    may). Bookings are instants: a new zone would silently show every coming
    booking at another local time."""
    if new == old or not (count := coming_bookings(clinic, now=now).count()):
        return ""
    return f"{count} booked session(s) would show at other local times in {new}; " \
        "rebook or cancel them before changing the time zone."


def closure_refusal(clinic: Clinic, days, *, now: dt.datetime | None = None) -> str:
    """Why these days may not be closed now ("" when they may): a closure
    would leave coming bookings on a closed day."""
    if clashes := booked_days(clinic, days, now=now):
        return f"Sessions are booked on {', '.join(f'{d:%Y-%m-%d}' for d in clashes)}; " \
            "rebook them before closing that day."
    return ""


def replan_reminders(clinic: Clinic, *, now: dt.datetime | None = None) -> None:
    """After a change of reminder offsets or time zone, bring the pending
    reminders of every open session onto the new plan (in the caller's
    transaction, so no email goes out on the old one)."""
    now = now_or(now)
    open_sessions = Session.objects.filter(
        clinic=clinic, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
    ).select_related("clinic", "enrolment", "patient", "step")
    for session in open_sessions:
        session.clinic = clinic
        sync_reminders(session, now=now)
