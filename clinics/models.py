import datetime as dt
import functools
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.languages import Language
from core.roles import Role, outranks
from core.text import single_line


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """The zone names of the IANA database. ZoneInfo also loads any other file
    of the host's zoneinfo folder: "localtime" (the server's own zone),
    "posixrules", "posix/…" and the leap-second "right/…" copies, whose meaning
    changes from one machine to the next; a clinic's zone is none of those."""
    return frozenset(zoneinfo.available_timezones()) - {"localtime"}


def validate_timezone(value: str) -> None:
    if not value or "\x00" in value:
        raise ValidationError(gettext("Enter an IANA time zone such as Europe/Berlin."))
    if value not in iana_zone_names():
        raise ValidationError(gettext("%(zone)s is not an IANA time zone such as Europe/Berlin.") % {"zone": repr(value)})


MAX_REMINDER_OFFSET_HOURS = 24 * 30


def validate_reminder_offsets(value) -> None:
    if (
        not isinstance(value, list)
        or any(isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_REMINDER_OFFSET_HOURS for h in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            gettext("Give a list of different whole numbers of hours, each from 1 to %(max)s, e.g. [72, 24].")
            % {"max": MAX_REMINDER_OFFSET_HOURS}
        )


def default_reminder_offsets() -> list[int]:
    return [72, 24]


def split_holiday_region(value: str) -> tuple[str, str | None]:
    country, _, subdivision = value.partition("-")
    return country, subdivision or None


def validate_holiday_region(value: str) -> None:
    import holidays

    if not value:
        return
    country, subdivision = split_holiday_region(value)
    supported = holidays.list_supported_countries()
    if country not in supported or (subdivision is not None and subdivision not in supported[country]):
        raise ValidationError(
            gettext(
                "%(region)s is not a holiday region: give a country code such as DE, or a country and region such as DE-BE."
            )
            % {"region": repr(value)}
        )


# The settings a clinic's manager changes, in the order the forms show them:
# one list for the API, the admin and sessions.clinic.update_clinic (which
# saves them and re-plans what they move).
CLINIC_SETTINGS = (
    "name",
    "timezone",
    "slot_minutes",
    "reminder_offsets_hours",
    "sender_email",
    "phone",
    "address",
    "cancel_cutoff_hours",
    "questionnaire_lead_hours",
    "patients_may_request_booking",
    "patients_may_book",
    "holiday_region",
    "two_factor",
    "language",
)


class TwoFactor(models.TextChoices):
    """Whose sign-in needs a second factor (SPEC §21)."""

    OFF = "off", _("Nobody (each may choose)")
    MANAGERS = "managers", _("Managers")
    EVERYONE = "everyone", _("Everyone")


class Clinic(models.Model):
    name = models.CharField(max_length=200, validators=[single_line])
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="Europe/Berlin", validators=[validate_timezone])
    slot_minutes = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(5)])
    reminder_offsets_hours = models.JSONField(default=default_reminder_offsets, validators=[validate_reminder_offsets])
    # Django's EmailValidator lets BEL in a quoted local part and RLO in a domain through.
    sender_email = models.EmailField(blank=True, validators=[single_line])
    phone = models.CharField(max_length=40, blank=True, validators=[single_line])
    address = models.CharField(max_length=300, blank=True, validators=[single_line])
    # Patients may cancel from an email's link until this many hours before
    # the start; later, the page asks them to call (SPEC §13).
    cancel_cutoff_hours = models.PositiveSmallIntegerField(default=24, validators=[MaxValueValidator(24 * 30)])
    # The patient questionnaire is emailed this many hours before a booked
    # visit with patient-reported measures (SPEC §17).
    questionnaire_lead_hours = models.PositiveSmallIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
    )
    # Whether "time to book" emails carry a link to ask the clinic for a booking.
    patients_may_request_booking = models.BooleanField(default=True)
    # Whether patients may pick a free time in a session's window themselves
    # from an email's link (SPEC §18).
    patients_may_book = models.BooleanField(default=False)
    # A country or country-subdivision code of the `holidays` library
    # ("DE", "DE-BE"): its public holidays become closures (issue 24).
    holiday_region = models.CharField(max_length=12, blank=True, validators=[validate_holiday_region])
    # Whose sign-in needs a second factor (SPEC §21, clinics/two_factor.py).
    two_factor = models.CharField(max_length=10, choices=TwoFactor.choices, default=TwoFactor.OFF)
    # A new patient's language (SPEC §20): the emails and link pages they get.
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(slot_minutes__gte=5), name="clinic_slot_minutes_min"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()


class OpeningHours(models.Model):
    """One opening interval on a weekday (Monday 0). A weekday may have
    several, e.g. a morning and an afternoon around a lunch break."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="opening_weekday_range"),
            models.CheckConstraint(condition=models.Q(opens__lt=models.F("closes")), name="opening_opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def get_weekday_display(self) -> str:
        return ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[self.weekday]


class Closure(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True, validators=[single_line])
    # Made from the clinic's holiday region (kept up to date by beat); staff
    # may reopen it, which is remembered as a HolidayReopening.
    holiday = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["clinic", "date"], name="closure_unique_per_clinic")]

    def __str__(self) -> str:
        return f"{self.clinic} closed {self.date}"


class HolidayReopening(models.Model):
    """A public holiday the clinic opens on after all: the holiday sync
    leaves that date alone."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="holiday_reopenings")
    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "date"], name="holiday_reopening_unique")]

    def __str__(self) -> str:
        return f"{self.clinic} open on the holiday {self.date}"


class Absence(models.Model):
    """Days a practitioner does not treat (leave, a congress): the free-slot
    search offers none of their slots, and booking them is refused."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="absences")
    practitioner = models.ForeignKey("User", on_delete=models.CASCADE, related_name="absences")
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=200, blank=True, validators=[single_line])
    history = HistoricalRecords()

    class Meta:
        ordering = ["first_day", "practitioner"]
        constraints = [
            models.CheckConstraint(condition=models.Q(first_day__lte=models.F("last_day")), name="absence_days_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} absent {self.first_day}–{self.last_day}"


class User(AbstractUser):
    """A staff member of one clinic. Superusers may have no clinic; they use
    the admin only and see no clinic's data through the API or pages."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.RECEPTION)
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[single_line])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[single_line])
    # The pages' language; blank: the browser's Accept-Language (SPEC §20).
    language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    email = models.EmailField("email address", blank=True, validators=[single_line])
    # Staff and role changes are kept (SPEC §14); never the password hash, and
    # not the login time, which changes at every login.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, role: str) -> bool:
        """At least `role`: a manager has the clinician's rights too."""
        return self.is_active and self.clinic_id is not None and outranks(self.role, role)

    @property
    def is_practitioner(self) -> bool:
        """Clinicians and managers treat patients; reception does not."""
        return self.has_role(Role.CLINICIAN)


class Room(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100, validators=[single_line])
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="room_unique_name_per_clinic")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """An API token, stored hashed (SPEC §21): `prefix` (the key's first
    eight characters) finds the row, `digest` (SHA-256 of the whole key)
    checks it. The key itself is shown once, when issued, and is kept
    nowhere. A plain hash is enough: the key is 40 random hex digits, not a
    password anyone could guess (clinics/tokens.py)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… of {self.user}"


class SignIn(models.Model):
    """A browser sign-in (login page or admin), so that a staff member sees
    their sessions and can end them all (SPEC §21). `session_key` is the
    session's own key, the same value as in Django's session table."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins")
    session_key = models.CharField(max_length=40, db_index=True)
    created = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    ended = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.user} signed in at {self.created:%Y-%m-%d %H:%M}"
