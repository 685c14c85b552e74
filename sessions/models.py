import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinics.models import Clinic, Room
from core.text import multi_line, single_line
from patients.models import Enrolment, EnrolmentStatus, Patient
from protocols.models import Lot, OutcomeMeasure, ReportedBy, Step, StepKind


def _state(label) -> str:
    """A status in a sentence: its label in the reader's language, lower case
    (in English the status itself: "booked", "cancelled")."""
    return str(label).lower()


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    BOOKED = "booked", _("Booked")
    COMPLETED = "completed", _("Completed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses whose start..end occupies practitioner, room and patient.
OCCUPYING = (SessionStatus.BOOKED, SessionStatus.COMPLETED)


class ProductSource(models.TextChoices):
    BONE_MARROW = "bone_marrow", _("Bone marrow")
    ADIPOSE = "adipose", _("Adipose tissue")
    UMBILICAL_CORD = "umbilical_cord", _("Umbilical cord")
    OTHER = "other", _("Other")


class ProductForm(models.TextChoices):
    LYOPHILISED = "lyophilised", _("Lyophilised")
    FROZEN = "frozen", _("Frozen")
    LIQUID = "liquid", _("Liquid")


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
    notes = models.TextField(blank=True, validators=[multi_line])
    not_done_reason = models.TextField(
        blank=True, help_text="Why the step's measures were not recorded", validators=[multi_line]
    )
    skip_reason = models.TextField(blank=True, validators=[multi_line])
    product_lot = models.CharField(max_length=80, blank=True, validators=[single_line])
    product_source = models.CharField(max_length=20, choices=ProductSource.choices, blank=True)
    product_form = models.CharField(max_length=20, choices=ProductForm.choices, blank=True)
    product_concentration = models.CharField(max_length=80, blank=True, validators=[single_line])
    # The lot given (SPEC §12): required to complete a treatment session, so a
    # recall finds every patient who received it.
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    # The .ics SEQUENCE of this session's calendar entry: raised by every
    # booking, rebooking and cancellation, so calendars replace the entry.
    ics_sequence = models.PositiveIntegerField(default=0)
    # What the patient said through an email's link (SPEC §13); a new
    # booking clears the confirmation and the rebooking request.
    patient_confirmed_at = models.DateTimeField(null=True, blank=True)
    rebook_requested_at = models.DateTimeField(null=True, blank=True)
    # The booking was made (or last moved) by the patient from their link (SPEC §18).
    booked_by_patient = models.BooleanField(default=False)
    # SPEC §19: a session of an arm (its name) and the decision visit's date
    # the arm is anchored on; blank/null on the protocol's main path.
    arm = models.SlugField(max_length=40, blank=True)
    arm_anchor = models.DateField(null=True, blank=True)
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
            # What EXPLAIN ANALYZE asked for at a million sessions (docs/benchmarks.md):
            # a day's sessions (the API's date filters) are the booked ones by start...
            models.Index(fields=["clinic", "start"], name="session_clinic_start"),
            # ...and the unbooked ones by target date;
            models.Index(
                fields=["clinic", "target_date"], condition=models.Q(start__isnull=True),
                name="session_clinic_unbooked_target",
            ),
            # free slots need the bookings that end after a window opens, not
            # every booking that started before it closes (years of them).
            models.Index(
                fields=["clinic", "end"], condition=models.Q(status__in=["booked", "completed"]),
                name="session_clinic_occupying_end",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.step.name}"

    # --- What this session allows: the one place the state rules live ------------------------
    # Services refuse with these messages (409); the API, the pages and the
    # templates ask the booleans. Each needs `step` and `enrolment` loaded.

    @property
    def visit_date(self) -> dt.date | None:
        """The clinic-local date the visit took place: the booked start's, else
        the completion's (a home application, a back-entry); None before either."""
        moment = self.start or self.completed_at
        return moment.astimezone(self.clinic.tz).date() if moment else None

    @property
    def asks_questionnaire(self) -> bool:
        """The step has patient-reported measures: a questionnaire before the visit (SPEC §17)."""
        return self.step.measures.filter(reported_by=ReportedBy.PATIENT).exists()

    @property
    def questionnaire_answered(self) -> bool:
        """The patient (or staff, from paper) has sent this visit's questionnaire."""
        return Questionnaire.objects.filter(session=self, answered_at__isnull=False).exists()

    @property
    def is_home(self) -> bool:
        """A home application: never booked, holds no practitioner or room."""
        return self.step.kind == StepKind.HOME

    def enrolment_refusal(self) -> str:
        if self.enrolment.status == EnrolmentStatus.ACTIVE:
            return ""
        # Withdrawn from treatment with `keep_follow_up`: the follow-ups go on.
        if self.enrolment.status == EnrolmentStatus.WITHDRAWN and self.enrolment.follow_up_kept and self.step.follow_up:
            return ""
        if self.enrolment.follow_up_kept:
            return gettext("The enrolment is %(status)s (follow-up visits only); this session cannot change.") % {
                "status": _state(self.enrolment.get_status_display())
            }
        return gettext("The enrolment is %(status)s; its sessions cannot change.") % {
            "status": _state(self.enrolment.get_status_display())
        }

    def booking_refusal(self) -> str:
        """Why this session cannot be booked (or rebooked) now; "" when it can."""
        if refusal := self.enrolment_refusal():
            return refusal
        if self.is_home:
            return gettext("Home applications are not booked.")
        if self.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
            return gettext("A %(status)s session cannot be booked.") % {"status": _state(self.get_status_display())}
        return ""

    @property
    def can_book(self) -> bool:
        """A planned session is booked, a booked one rebooked (SPEC §4)."""
        return not self.booking_refusal()

    def cancel_refusal(self) -> str:
        if refusal := self.enrolment_refusal():
            return refusal
        if self.status != SessionStatus.BOOKED:
            return gettext("Only a booked session can be cancelled; this one is %(status)s.") % {
                "status": _state(self.get_status_display())
            }
        return ""

    @property
    def can_cancel(self) -> bool:
        return not self.cancel_refusal()

    def completion_refusal(self, now: dt.datetime | None) -> str:
        """Why this session cannot be completed at `now` ("" when it can): a
        booked one from its booked start on, a home one from its target date
        on, a planned one never without a booking (SPEC §4). With `now` None,
        only the state is judged, not the time."""
        if refusal := self.enrolment_refusal():
            return refusal
        if self.status == SessionStatus.BOOKED:
            if now is not None and now < self.start:
                return gettext("A booked session can be completed only from its booked start on.")
        elif self.status == SessionStatus.PLANNED and self.is_home:
            if now is not None and now.astimezone(self.clinic.tz).date() < self.target_date:
                return gettext("A home application can be completed only from its target date on.")
        elif self.status == SessionStatus.PLANNED:
            return gettext("Book the session before completing it.")
        else:
            return gettext("A %(status)s session cannot be completed.") % {"status": _state(self.get_status_display())}
        return ""

    def can_complete(self, now: dt.datetime | None) -> bool:
        return not self.completion_refusal(now)

    @property
    def may_be_completed(self) -> bool:
        """Whether its state allows completion at all (for pages, where the
        time is checked when the form is sent)."""
        return self.can_complete(None)

    def no_show_refusal(self, now: dt.datetime) -> str:
        if refusal := self.enrolment_refusal():
            return refusal
        if self.status != SessionStatus.BOOKED:
            return gettext("Only a booked session can be a no-show; this one is %(status)s.") % {
                "status": _state(self.get_status_display())
            }
        if now < self.start:
            return gettext("A session can be marked a no-show only from its booked start on.")
        return ""

    def skip_refusal(self) -> str:
        if refusal := self.enrolment_refusal():
            return refusal
        if self.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
            return gettext("A %(status)s session cannot be skipped.") % {"status": _state(self.get_status_display())}
        return ""


class ValueSource(models.TextChoices):
    """Who gave a value (SPEC §17): the patient in the emailed questionnaire,
    or staff (at the visit, or a paper questionnaire typed in for the patient)."""

    PATIENT = "patient", _("Patient")
    STAFF = "staff", _("Staff")


class OutcomeMeasurement(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="outcomes")
    measure = models.ForeignKey(OutcomeMeasure, on_delete=models.PROTECT, related_name="measurements")
    value = models.DecimalField(max_digits=12, decimal_places=4)
    # The item answers a scored instrument's value was computed from
    # (protocols.instruments.score_items); null for a value typed in.
    items = models.JSONField(null=True, blank=True)
    # Null for a value the patient answered themselves (source "patient").
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ValueSource.choices, default=ValueSource.STAFF)
    # When the patient (or staff, for a paper questionnaire) answered it; kept
    # as it was first given, while observed_on is the visit's date.
    answered_at = models.DateTimeField(null=True, blank=True)
    # The visit's clinic-local date (the booked start's, else the completion
    # request's performed_on), never when it was typed: series, charts,
    # baseline and reports use it (SPEC §10).
    observed_on = models.DateField()
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
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Relatedness(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class AdverseEventOutcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered")
    RECOVERING = "recovering", _("Recovering")
    NOT_RECOVERED = "not_recovered", _("Not recovered")
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", _("Recovered with sequelae")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


class ActionTaken(models.TextChoices):
    NONE = "none", _("None")
    TREATMENT_INTERRUPTED = "treatment_interrupted", _("Treatment interrupted")
    TREATMENT_WITHDRAWN = "treatment_withdrawn", _("Treatment withdrawn")
    MEDICATION = "medication", _("Medication given")
    OTHER = "other", _("Other")


# CTCAE v5: grade and severity are one scale, grade 1 mild, 2 moderate, 3
# (severe), 4 (life-threatening) and 5 (death) severe; they may not disagree
# (clinical/instruments.md, corrections).
GRADE_OF_SEVERITY = {Severity.MILD: 1, Severity.MODERATE: 2, Severity.SEVERE: 3}
FATAL_GRADE = 5
# Outcomes that mean the event resolved, and so have a resolution date.
RESOLVED_OUTCOMES = (AdverseEventOutcome.RECOVERED, AdverseEventOutcome.RECOVERED_WITH_SEQUELAE)


def severity_of_grade(grade: int) -> str:
    return Severity.MILD if grade == 1 else Severity.MODERATE if grade == 2 else Severity.SEVERE


def _consistent_event() -> models.Q:
    """CTCAE v5 as a condition on a row: severity as its grade says, grade 5
    exactly when fatal, a resolution date exactly when it resolved."""
    agrees = (
        models.Q(grade__isnull=True)
        | models.Q(grade=1, severity=Severity.MILD)
        | models.Q(grade=2, severity=Severity.MODERATE)
        | models.Q(grade__gte=3, severity=Severity.SEVERE)
    )
    fatal = models.Q(grade=FATAL_GRADE, outcome=AdverseEventOutcome.FATAL) | (
        ~models.Q(outcome=AdverseEventOutcome.FATAL) & (models.Q(grade__isnull=True) | ~models.Q(grade=FATAL_GRADE))
    )
    resolved = models.Q(outcome__in=RESOLVED_OUTCOMES, resolved_date__isnull=False) | (
        ~models.Q(outcome__in=RESOLVED_OUTCOMES) & models.Q(resolved_date__isnull=True)
    )
    return agrees & fatal & resolved


class AdverseEvent(models.Model):
    """An adverse event of an enrolment, reported at a visit (`session`) or
    between visits (no session), and updated later; every version is kept in
    its history (sessions.records.adverse_events)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="adverse_events", null=True)
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="adverse_events", null=True, blank=True)
    description = models.TextField(validators=[multi_line])
    severity = models.CharField(max_length=10, choices=Severity.choices)
    grade = models.PositiveSmallIntegerField(null=True, blank=True, help_text="CTCAE grade 1–5")
    serious = models.BooleanField(default=False)
    onset_date = models.DateField(null=True, blank=True)
    resolved_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=30, choices=AdverseEventOutcome.choices, default=AdverseEventOutcome.UNKNOWN)
    action_taken = models.CharField(max_length=30, choices=ActionTaken.choices, default=ActionTaken.NONE)
    related_to_treatment = models.CharField(max_length=10, choices=Relatedness.choices, default=Relatedness.UNKNOWN)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField()
    # Why a clinician must look at the event again: events recorded before
    # the CTCAE consistency rules whose grade, severity, outcome and
    # resolution disagree were flagged (migration 0011), not rewritten. An
    # update that makes them agree clears it; blank otherwise.
    review_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__isnull=True) | models.Q(grade__gte=1, grade__lte=5),
                name="adverse_event_grade_ctcae",
            ),
            models.CheckConstraint(
                condition=models.Q(resolved_date__isnull=True)
                | models.Q(onset_date__isnull=True)
                | models.Q(resolved_date__gte=models.F("onset_date")),
                name="adverse_event_resolved_after_onset",
            ),
            # Consistent, or flagged for a clinician's review.
            models.CheckConstraint(
                condition=_consistent_event() | ~models.Q(review_reason=""), name="adverse_event_ctcae_consistent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.description[:40]}"


class DeviationKind(models.TextChoices):
    OUT_OF_WINDOW = "out_of_window", _("Booked outside the window")
    SKIPPED = "skipped", _("Skipped")
    NO_SHOW = "no_show", _("No-show")


class Deviation(models.Model):
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="deviations")
    kind = models.CharField(max_length=20, choices=DeviationKind.choices)
    reason = models.TextField(blank=True, validators=[multi_line])
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"


class ReminderKind(models.TextChoices):
    BOOKED = "booked", _("Booked session")
    HOME = "home", _("Home application")
    WINDOW_OPEN = "window_open", _("Time to book")
    MISSED = "missed", _("We missed you")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire")
    CONFIRMATION = "confirmation", _("Booking confirmed")
    MOVED = "moved", _("Booking moved")
    CANCELLED = "cancelled", _("Booking cancelled")


# Notices about a change, due at once and planned by the change itself.
NOTICE_KINDS = (ReminderKind.CONFIRMATION, ReminderKind.MOVED, ReminderKind.CANCELLED)


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    VOID = "void", _("Void")


class Reminder(models.Model):
    """An email owed to a patient: a row in an outbox that the periodic scan
    claims when due (SPEC §5), never a far-future broker message."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="reminders")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    offset_hours = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField()
    # For the notices: the booking they are about (a cancelled one is gone
    # from the session), the time it moved from, and the .ics SEQUENCE.
    event_start = models.DateTimeField(null=True, blank=True)
    event_end = models.DateTimeField(null=True, blank=True)
    previous_start = models.DateTimeField(null=True, blank=True)
    ics_sequence = models.PositiveIntegerField(null=True, blank=True)
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
                # Notices are due "now" and two changes may share a clock
                # in back-entry; each change makes its own.
                condition=~models.Q(status="void") & ~models.Q(kind__in=["confirmation", "moved", "cancelled"]),
                name="reminder_unique_live_planned_per_session_kind_due",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for session {self.session_id} at {self.due_at:%Y-%m-%d %H:%M}"


class PhotoView(models.TextChoices):
    VERTEX = "vertex", _("Vertex")
    FRONTAL = "frontal", _("Frontal")
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    LESION = "lesion", _("Lesion")


def _photo_path(photo: "SessionPhoto", filename: str) -> str:
    # A random name: the path says nothing about the patient.
    return f"photos/{photo.clinic_id}/{uuid.uuid4().hex}{filename[filename.rfind('.'):] if '.' in filename else ''}"


class SessionPhoto(models.Model):
    """A clinical photograph of one view at one session (SPEC §12): stored
    re-encoded without EXIF through Django's storage API, served only to the
    clinic's staff (sessions.records.photos)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="photos")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="photos")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    view = models.CharField(max_length=10, choices=PhotoView.choices)
    image = models.FileField(upload_to=_photo_path, max_length=200)
    thumbnail = models.FileField(upload_to=_photo_path, max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["patient", "view", "taken_at", "id"]
        indexes = [models.Index(fields=["patient", "view", "taken_at"], name="photo_patient_view_at")]

    def __str__(self) -> str:
        return f"{self.get_view_display()} photo of session {self.session_id}"


class ChangeReason(models.TextChoices):
    """Why a booking was cancelled or moved (issue 13), counted in reports."""

    PATIENT = "patient", _("Patient cancelled")
    LATE = "late", _("Late cancellation")
    CLINIC = "clinic", _("Clinic cancelled")
    OTHER = "other", _("Other")


# Why a booking was cancelled, in the words of the email to the patient
# (issue 24); "other" says nothing rather than something vague.
PATIENT_WORDING = {
    ChangeReason.PATIENT: _("We cancelled it as you asked."),
    ChangeReason.LATE: _("We cancelled it because you let us know you cannot come."),
    ChangeReason.CLINIC: _("We are sorry: the clinic had to cancel it."),
    ChangeReason.OTHER: "",
}
ONLINE_CANCELLATION_WORDING = _("You cancelled it online.")

# A move is not a cancellation: the same reasons, in a move's words (issue 24).
MOVE_LABELS = {
    ChangeReason.PATIENT: _("Patient asked to move it"),
    ChangeReason.LATE: _("Patient asked at short notice"),
    ChangeReason.CLINIC: _("Clinic moved it"),
    ChangeReason.OTHER: _("Other"),
}


class BookingChangeKind(models.TextChoices):
    CANCELLED = "cancelled", _("Cancelled")
    REBOOKED = "rebooked", _("Rebooked")


class BookingChange(models.Model):
    """A booking given up: cancelled, or moved to another time, with why."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="booking_changes")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="booking_changes")
    kind = models.CharField(max_length=12, choices=BookingChangeKind.choices)
    reason = models.CharField(max_length=12, choices=ChangeReason.choices)
    note = models.TextField(blank=True, validators=[multi_line])
    previous_start = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["clinic", "at"], name="booking_change_clinic_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_reason_display()}"


class CalendarFeed(models.Model):
    """A practitioner's secret iCalendar feed of their bookings (issue 13),
    for Google or Outlook to subscribe to. The token is the only key, so it
    is long and random; revoking deletes the row, and a new one makes a new
    URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class PatientCancellation(models.Model):
    """A booking the patient cancelled through an email's link: the session
    is planned again, so this keeps the freed slot for the agenda."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patient_cancellations")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="patient_cancellations")
    start = models.DateTimeField()
    end = models.DateTimeField()
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["clinic", "start"], name="patient_cancel_clinic_start")]

    def __str__(self) -> str:
        return f"Session {self.session_id} cancelled by the patient at {self.at:%Y-%m-%d %H:%M}"


class DecisionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    OVERRIDDEN = "overridden", _("Overridden")


class Decision(models.Model):
    """A proposal made when a decision visit is completed (SPEC §19): the
    action its rules give, the rule that matched (none: the default) and the
    values it read; a clinician accepts it or overrides it with a reason,
    which re-plans the enrolment (sessions/decisions.py)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="decisions")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="decisions")
    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="decisions")
    proposed_action = models.CharField(max_length=80)
    rule_index = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-based; null: the default")
    rule_text = models.CharField(max_length=300, blank=True)
    rule_reason = models.CharField(max_length=300, blank=True)
    values = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=DecisionStatus.choices, default=DecisionStatus.PENDING)
    chosen_action = models.CharField(max_length=80, blank=True)
    override_reason = models.TextField(blank=True, validators=[multi_line])
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # The decision visit's values were corrected after the decision: a
    # clinician must look again (nothing is re-planned silently).
    review_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session"], name="decision_one_per_visit"),
            models.CheckConstraint(
                condition=models.Q(status="pending") | (models.Q(decided_at__isnull=False) & ~models.Q(chosen_action="")),
                name="decision_decided_has_action",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="overridden") | ~models.Q(override_reason=""),
                name="decision_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposed_action} ({self.status})"


class Questionnaire(models.Model):
    """The patient's questionnaire before a visit (SPEC §17): the answers
    saved part-filled, and when it was opened and sent. Sent answers are the
    session's outcome values (OutcomeMeasurement, source "patient"); the
    email is a Reminder of kind `questionnaire`."""

    session = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="questionnaire")
    # Saved answers by measure code: {code: {question key: answer}}.
    draft = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    # First sent (by the patient, or staff typing in a paper one), and last changed after that.
    answered_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=ValueSource.choices, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Questionnaire for session {self.session_id}"
