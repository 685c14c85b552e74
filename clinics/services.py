import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone as django_timezone

from config.exceptions import Conflict

from .models import Clinic, Closure, OpeningHours, Role, User, validate_timezone

# A new clinic opens Monday to Friday, 09:00–17:00, until its manager says otherwise.
DEFAULT_HOURS = [(weekday, dt.time(9, 0), dt.time(17, 0)) for weekday in range(5)]


@transaction.atomic
def create_clinic(*, name: str, slug: str, timezone: str, sender_email: str = "", with_library: bool = True) -> Clinic:
    validate_timezone(timezone)
    if Clinic.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A clinic with slug {slug!r} exists."]})
    clinic = Clinic(name=name, slug=slug, timezone=timezone, sender_email=sender_email)
    clinic.full_clean()
    clinic.save()
    OpeningHours.objects.bulk_create(
        OpeningHours(clinic=clinic, weekday=w, opens=opens, closes=closes) for w, opens, closes in DEFAULT_HOURS
    )
    if with_library:
        from protocols.services import load_library

        load_library(clinic)
    return clinic


@transaction.atomic
def set_opening_hours(*, clinic: Clinic, hours: list[tuple[int, dt.time, dt.time]]) -> None:
    """Replace the clinic's opening hours; intervals on one weekday must not overlap."""
    errors = []
    for weekday, opens, closes in hours:
        if not 0 <= weekday <= 6:
            errors.append(f"weekday {weekday} must be 0 (Monday) to 6 (Sunday).")
        if opens >= closes:
            errors.append(f"weekday {weekday}: opens {opens:%H:%M} must be before closes {closes:%H:%M}.")
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in sorted(hours):
        previous = by_day.setdefault(weekday, [])
        if previous and opens < previous[-1][1]:
            errors.append(f"weekday {weekday}: opening intervals overlap.")
        previous.append((opens, closes))
    if errors:
        raise ValidationError({"opening_hours": errors})
    clinic.opening_hours.all().delete()
    for weekday, opens, closes in hours:  # one save each (a week has few): history and audit log see them
        OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens=opens, closes=closes)


@transaction.atomic
def create_staff(*, username: str, clinic: Clinic, role: str, password: str, first_name: str = "",
                 last_name: str = "", email: str = "") -> User:
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of {', '.join(Role.values)}."]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [f"User {username!r} exists."]})
    user = User(username=username, clinic=clinic, role=role, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    # Managers run the clinic's admin; everyone else works in the pages and API.
    user.is_staff = role == Role.MANAGER
    user.save()
    return user


CLINIC_SETTINGS = ("name", "timezone", "slot_minutes", "reminder_offsets_hours", "sender_email", "phone", "address")


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
    for field in CLINIC_SETTINGS:
        if field in data:
            setattr(clinic, field, data[field])
    # full_clean checks the zone and the offsets (clinics.models validators).
    clinic.full_clean(exclude=["slug"])
    now = now or django_timezone.now()
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
    from sessions.models import Session, SessionStatus

    return Session.objects.filter(
        clinic=clinic, status=SessionStatus.BOOKED, start__gte=now or django_timezone.now()
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
    # Imported here: the sessions app imports this one.
    from sessions.models import Session, SessionStatus
    from sessions.reminders import sync_reminders

    now = now or django_timezone.now()
    open_sessions = Session.objects.filter(
        clinic=clinic, status__in=(SessionStatus.PLANNED, SessionStatus.BOOKED)
    ).select_related("clinic", "enrolment", "patient", "step")
    for session in open_sessions:
        session.clinic = clinic
        sync_reminders(session, now=now)
