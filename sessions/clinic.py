"""A clinic's settings workflow (SPEC §2, §5). It lives with the sessions,
not in `clinics`, because a new zone, new closures or new reminder offsets
act on the clinic's bookings and their reminders: the change is refused
while it would move or strand bookings, and re-plans pending reminders in
the same transaction."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinics.models import CLINIC_SETTINGS, Absence, Clinic, Closure, HolidayReopening, Role, User, split_holiday_region
from clinics.services import set_opening_hours
from core.exceptions import Conflict
from core.services import model_update
from core.services import now as now_or
from core.text import check_text
from protocols.library import shown
from sessions.models import Session, SessionStatus
from sessions.reminders.plan import sync_reminders

# How far ahead a holiday region's holidays become closures.
HOLIDAY_YEARS = 2


@transaction.atomic
def update_clinic(
    *,
    clinic: Clinic,
    data: dict,
    by: User,
    opening_hours: list[tuple[int, dt.time, dt.time]] | None = None,
    closures: list[dt.date] | None = None,
    closure_reasons: dict[dt.date, str] | None = None,
    now: dt.datetime | None = None,
) -> Clinic:
    """Change a clinic's settings (manager only). New reminder offsets or a
    new time zone re-plan the pending reminders of every open session in the
    same transaction, so no email goes out on the old plan."""
    if not by.has_role(Role.MANAGER) or by.clinic_id != clinic.pk:
        raise PermissionDenied(_("Only the clinic's manager may change its settings."))
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    before = (clinic.timezone, sorted(clinic.reminder_offsets_hours or []), clinic.questionnaire_lead_hours)
    region_before = clinic.holiday_region
    for reason in (closure_reasons or {}).values():
        check_text(Closure, {"reason": reason}, names={"reason": "closures"})
    model_update(clinic, data, CLINIC_SETTINGS)
    # full_clean checks the zone and the offsets (clinics.models validators).
    clinic.full_clean(exclude=["slug"])
    now = now_or(now)
    if refusal := zone_change_refusal(clinic, old=before[0], new=clinic.timezone, now=now):
        raise Conflict(refusal, field="timezone")
    new_closures = set(closures or ()) - set(clinic.closures.values_list("date", flat=True))
    if clashes := clashing_bookings(clinic, new_closures, now=now):
        raise Conflict(closure_refusal_text(clashes), field="closures", extra={"bookings": booking_rows(clashes)})
    clinic.save()
    if opening_hours is not None:
        set_opening_hours(clinic=clinic, hours=opening_hours)
    if closures is not None:
        wanted = set(closures)
        reopened = clinic.closures.exclude(date__in=wanted)
        # A holiday reopened by staff stays open: the sync must not close it again.
        HolidayReopening.objects.bulk_create(
            [HolidayReopening(clinic=clinic, date=day) for day in reopened.filter(holiday=True).values_list("date", flat=True)],
            ignore_conflicts=True,
        )
        reopened.delete()
        have = set(clinic.closures.values_list("date", flat=True))
        reasons = closure_reasons or {}
        Closure.objects.bulk_create(
            Closure(clinic=clinic, date=day, reason=reasons.get(day, "")) for day in sorted(wanted - have)
        )
    if (clinic.timezone, sorted(clinic.reminder_offsets_hours), clinic.questionnaire_lead_hours) != before:
        replan_reminders(clinic, now=now)
    if clinic.holiday_region != region_before:
        HolidayReopening.objects.filter(clinic=clinic).delete()
        sync_holiday_closures(clinic, now=now)
    return clinic


def region_holidays(region: str, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The public holidays of a `holidays` region ("DE-BE") from first to last."""
    import holidays

    country, subdivision = split_holiday_region(region)
    found = holidays.country_holidays(country, subdiv=subdivision, years=range(first.year, last.year + 1))
    return {day: name for day, name in sorted(found.items()) if first <= day <= last}


@transaction.atomic
def sync_holiday_closures(clinic: Clinic, *, now: dt.datetime | None = None) -> list[dt.date]:
    """Make the region's holidays of the next HOLIDAY_YEARS years closures,
    and drop coming holiday closures that are no longer holidays (a new
    region). A reopened holiday stays open; a holiday with coming bookings
    is left open too (a closure never strands a booking) and returned, so
    the caller can say so; the next sync closes it once they are moved."""
    now = now_or(now)
    today = clinic.local_date(now)
    last = today.replace(year=today.year + HOLIDAY_YEARS) if not (today.month == 2 and today.day == 29) \
        else today + dt.timedelta(days=365 * HOLIDAY_YEARS)
    wanted = region_holidays(clinic.holiday_region, today, last) if clinic.holiday_region else {}
    clinic.closures.filter(holiday=True, date__gte=today).exclude(date__in=list(wanted)).delete()
    reopened = set(clinic.holiday_reopenings.values_list("date", flat=True))
    have = set(clinic.closures.filter(date__gte=today).values_list("date", flat=True))
    missing = [day for day in wanted if day not in have and day not in reopened]
    booked = set(booked_days(clinic, missing, now=now))
    Closure.objects.bulk_create(
        Closure(clinic=clinic, date=day, reason=wanted[day], holiday=True) for day in missing if day not in booked
    )
    return sorted(booked)


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
    # English keeps its one wording for any count ("session(s)"); German has both forms.
    return ngettext(
        "%(count)s booked session(s) would show at other local times in %(zone)s; "
        "rebook or cancel them before changing the time zone.",
        "%(count)s booked session(s) would show at other local times in %(zone)s; "
        "rebook or cancel them before changing the time zone.",
        count,
    ) % {"count": count, "zone": new}


def clashing_bookings(clinic: Clinic, days, *, practitioner: User | None = None, now: dt.datetime | None = None):
    """The coming bookings on these clinic-local days (of one practitioner
    when given), with their patients and steps, in time order."""
    days = set(days)
    if not days:
        return []
    tz = clinic.tz
    first, last = min(days), max(days)
    found = coming_bookings(clinic, now=now).filter(
        start__gte=dt.datetime.combine(first, dt.time.min, tzinfo=tz),
        start__lt=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )
    if practitioner is not None:
        found = found.filter(practitioner=practitioner)
    found = found.select_related("patient", "step", "clinic").order_by("start")
    return [s for s in found if s.start.astimezone(tz).date() in days]


def booking_rows(sessions) -> list[dict]:
    """The bookings a closure or absence meets, each with where to rebook it."""
    from django.urls import reverse

    return [
        {
            "session": s.pk,
            "patient": s.patient.full_name,
            "phone": s.patient.phone,
            "step": shown(s.step.name),
            "sequence": s.sequence,
            "start": s.start.astimezone(s.clinic.tz).isoformat(),
            "rebook_url": reverse("session_book", args=[s.pk]),
        }
        for s in sessions
    ]


def closure_refusal_text(clashes, *, away: str = "") -> str:
    """Names each visit booked on the days to close (or on the days `away`, a
    practitioner's name, is absent)."""
    named = "; ".join(
        _("%(patient)s, %(step)s #%(sequence)s at %(start)s")
        % {
            "patient": s.patient.full_name, "step": shown(s.step.name), "sequence": s.sequence,
            "start": f"{s.start.astimezone(s.clinic.tz):%Y-%m-%d %H:%M}",
        }
        for s in clashes
    )
    if away:
        return _(
            "These visits are booked then: %(visits)s. Rebook them (or call the patients) before %(name)s is away."
        ) % {"visits": named, "name": away}
    return _("These visits are booked then: %(visits)s. Rebook them (or call the patients) before closing.") % {
        "visits": named
    }


def closure_refusal(clinic: Clinic, days, *, now: dt.datetime | None = None) -> str:
    """Why these days may not be closed now ("" when they may): a closure
    would leave coming bookings on a closed day; names each visit."""
    if clashes := clashing_bookings(clinic, days, now=now):
        return closure_refusal_text(clashes)
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


@transaction.atomic
def add_absence(
    *, clinic: Clinic, practitioner: User, first_day: dt.date, last_day: dt.date, reason: str = "", by: User,
    now: dt.datetime | None = None,
) -> Absence:
    """A practitioner's days away (manager). Refused, naming each visit, while
    the practitioner has coming bookings on those days."""
    if not by.has_role(Role.MANAGER) or by.clinic_id != clinic.pk:
        raise PermissionDenied(_("Only the clinic's manager may record absences."))
    if practitioner.clinic_id != clinic.pk or not practitioner.is_practitioner:
        raise ValidationError({"practitioner": [_("Choose a clinician or manager of this clinic.")]})
    if last_day < first_day:
        raise ValidationError({"last_day": [_("The last day must not be before the first.")]})
    if (last_day - first_day).days > 366:
        raise ValidationError({"last_day": [_("An absence is at most a year long.")]})
    days = {first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)}
    if clashes := clashing_bookings(clinic, days, practitioner=practitioner, now=now):
        raise Conflict(
            closure_refusal_text(clashes, away=practitioner.display_name),
            field="first_day", extra={"bookings": booking_rows(clashes)},
        )
    absence = Absence(clinic=clinic, practitioner=practitioner, first_day=first_day, last_day=last_day,
                      reason=(reason or "").strip())
    absence.full_clean()
    absence.save()
    return absence
