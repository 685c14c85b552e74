import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.text import check_text

from .models import Clinic, OpeningHours, Role, Room, User, validate_timezone

# A new clinic opens Monday to Friday, 09:00–17:00, until its manager says otherwise.
DEFAULT_HOURS = [(weekday, dt.time(9, 0), dt.time(17, 0)) for weekday in range(5)]


@transaction.atomic
def create_clinic(*, name: str, slug: str, timezone: str, sender_email: str = "", language: str = "") -> Clinic:
    """A clinic with the default opening hours and no protocols; see
    protocols.services.set_up_clinic for one with the standard library."""
    validate_timezone(timezone)
    if Clinic.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [_("A clinic with slug %(slug)s exists.") % {"slug": repr(slug)}]})
    clinic = Clinic(name=name, slug=slug, timezone=timezone, sender_email=sender_email)
    if language:  # else the model's default, English
        clinic.language = language
    clinic.full_clean()
    clinic.save()
    OpeningHours.objects.bulk_create(
        OpeningHours(clinic=clinic, weekday=w, opens=opens, closes=closes) for w, opens, closes in DEFAULT_HOURS
    )
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
        raise ValidationError({"role": [_("Choose one of %(choices)s.") % {"choices": ", ".join(Role.values)}]})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": [_("User %(username)s exists.") % {"username": repr(username)}]})
    check_text(User, {"first_name": first_name, "last_name": last_name, "email": email})
    user = User(username=username, clinic=clinic, role=role, first_name=first_name, last_name=last_name, email=email)
    user.set_password(password)
    # Managers run the clinic's admin; everyone else works in the pages and API.
    user.is_staff = role == Role.MANAGER
    user.save()
    return user


# --- Rooms and staff accounts (the manager's settings page) ---------------------------------------


def _require_manager(by: User, clinic: Clinic) -> None:
    if not by.has_role(Role.MANAGER) or by.clinic_id != clinic.pk:
        raise PermissionDenied(_("Only the clinic's manager may change its rooms and staff."))


def _room_name(clinic: Clinic, name: str, *, exclude=None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the room a name.")]})
    taken = Room.objects.filter(clinic=clinic, name__iexact=name).exclude(pk=getattr(exclude, "pk", None))
    if taken.exists():
        raise ValidationError({"name": [_("There is already a room called %(name)s.") % {"name": name}]})
    return name


@transaction.atomic
def create_room(*, clinic: Clinic, name: str, by: User) -> Room:
    _require_manager(by, clinic)
    room = Room(clinic=clinic, name=_room_name(clinic, name))
    room.full_clean()
    room.save()
    return room


@transaction.atomic
def update_room(*, room: Room, by: User, name: str | None = None, active: bool | None = None) -> Room:
    """Rename a room or (de)activate it. A deactivated room keeps its past
    bookings and is no longer offered for new ones."""
    _require_manager(by, room.clinic)
    if name is not None:
        room.name = _room_name(room.clinic, name, exclude=room)
    if active is not None:
        room.active = active
    room.full_clean()
    room.save()
    return room


def create_staff_account(*, clinic: Clinic, by: User, username: str, role: str, password: str,
                         first_name: str = "", last_name: str = "", email: str = "") -> User:
    """A manager adds a colleague; the password must pass the site's validators."""
    _require_manager(by, clinic)
    candidate = User(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    return create_staff(username=username, clinic=clinic, role=role, password=password,
                        first_name=first_name, last_name=last_name, email=email)


@transaction.atomic
def set_staff_active(*, user: User, active: bool, by: User) -> User:
    """Deactivate (or bring back) a staff account; it cannot log in while
    inactive, and its past work keeps its name."""
    _require_manager(by, user.clinic)
    if user.pk == by.pk and not active:
        raise ValidationError({"detail": [_("You cannot deactivate your own account.")]})
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
