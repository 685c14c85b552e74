from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from clinics.models import Clinic, Room
from core.text import single_line
from patients.models import Enrolment, Patient
from protocols.models import OutcomeMeasure, Step


class SessionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


# Statuses whose start..end occupies practitioner, room and patient.
OCCUPYING = (SessionStatus.BOOKED, SessionStatus.COMPLETED)


class ProductSource(models.TextChoices):
    BONE_MARROW = "bone_marrow", "Bone marrow"
    ADIPOSE = "adipose", "Adipose tissue"
    UMBILICAL_CORD = "umbilical_cord", "Umbilical cord"
    OTHER = "other", "Other"


class ProductForm(models.TextChoices):
    LYOPHILISED = "lyophilised", "Lyophilised"
    FROZEN = "frozen", "Frozen"
    LIQUID = "liquid", "Liquid"


class Session(models.Model):
    """One dated occurrence of a protocol step for one enrolment.

    `clinic` and `patient` repeat the enrolment's so that the database can
    scope queries and forbid a patient's overlapping bookings on its own."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="sessions")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="sessions")
    sequence = models.PositiveSmallIntegerField()
    occurrence = models.PositiveSmallIntegerField(help_text="j of the step's repeat, 1-based")
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.PLANNED)
    target_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    out_of_window = models.BooleanField(default=False)
    missed_count = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(blank=True)
    not_done_reason = models.TextField(blank=True, help_text="Why the step's measures were not recorded")
    skip_reason = models.TextField(blank=True)
    product_lot = models.CharField(max_length=80, blank=True, validators=[single_line])
    product_source = models.CharField(max_length=20, choices=ProductSource.choices, blank=True)
    product_form = models.CharField(max_length=20, choices=ProductForm.choices, blank=True)
    product_concentration = models.CharField(max_length=80, blank=True, validators=[single_line])
    history = HistoricalRecords()

    class Meta:
        ordering = ["enrolment", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "sequence"], name="session_unique_sequence"),
            models.CheckConstraint(
                condition=models.Q(window_start__lte=models.F("target_date"), target_date__lte=models.F("window_end")),
                name="session_window_holds_target",
            ),
            models.CheckConstraint(
                condition=models.Q(start__isnull=True) | models.Q(end__gt=models.F("start")),
                name="session_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="booked")
                | models.Q(start__isnull=False, end__isnull=False, practitioner__isnull=False),
                name="session_booked_has_slot",
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="session_sequence_positive"),
        ]
        # The exclusion constraints against overlapping bookings are
        # PostgreSQL-only and live in migration 0002 (see its docstring).
        indexes = [
            models.Index(fields=["clinic", "status", "start"], name="session_clinic_status_start"),
            models.Index(fields=["clinic", "status", "window_start"], name="session_clinic_status_window"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.step.name}"

    @property
    def is_home(self) -> bool:
        return self.step.kind == "home"


class OutcomeMeasurement(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="outcomes")
    measure = models.ForeignKey(OutcomeMeasure, on_delete=models.PROTECT, related_name="measurements")
    value = models.DecimalField(max_digits=12, decimal_places=4)
    # The item answers a scored instrument's value was computed from
    # (protocols.instruments.score_items); null for a value typed in.
    items = models.JSONField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    # Every edit is kept: who, when, old and new value (SPEC §2).
    history = HistoricalRecords()

    class Meta:
        ordering = ["session", "measure"]
        constraints = [
            models.UniqueConstraint(fields=["session", "measure"], name="outcome_one_per_measure_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code}={self.value}"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Relatedness(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Unknown"


class AdverseEvent(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="adverse_events")
    description = models.TextField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    related_to_treatment = models.CharField(max_length=10, choices=Relatedness.choices, default=Relatedness.UNKNOWN)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.description[:40]}"


class DeviationKind(models.TextChoices):
    OUT_OF_WINDOW = "out_of_window", "Booked outside the window"
    SKIPPED = "skipped", "Skipped"
    NO_SHOW = "no_show", "No-show"


class Deviation(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="deviations")
    kind = models.CharField(max_length=20, choices=DeviationKind.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"


class ReminderKind(models.TextChoices):
    BOOKED = "booked", "Booked session"
    HOME = "home", "Home application"
    WINDOW_OPEN = "window_open", "Time to book"
    MISSED = "missed", "We missed you"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    VOID = "void", "Void"


class Reminder(models.Model):
    """An email owed to a patient: a row in an outbox that the periodic scan
    claims when due (SPEC §5), never a far-future broker message."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="reminders")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    offset_hours = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # A voided row may be planned again (a rebooking back to the same
            # time), so uniqueness holds among the live rows only.
            models.UniqueConstraint(
                fields=["session", "kind", "due_at"],
                condition=~models.Q(status="void"),
                name="reminder_unique_live_per_session_kind_due",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for session {self.session_id} at {self.due_at:%Y-%m-%d %H:%M}"
