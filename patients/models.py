from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinics.models import Clinic
from core.text import single_line
from protocols.models import Protocol


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    record_number = models.CharField(max_length=40, validators=[single_line])
    first_name = models.CharField(max_length=100, validators=[single_line])
    last_name = models.CharField(max_length=100, validators=[single_line])
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[single_line])
    skin_type = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Fitzpatrick I–VI as 1–6")
    # Hair-loss grading depends on it: Norwood for men, Ludwig for women.
    sex = models.CharField(max_length=10, choices=Sex.choices, blank=True)
    reminder_consent = models.BooleanField(default=False)
    # When consent was last given or withdrawn (SPEC §2).
    reminder_consent_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the patient's identifying data was erased (SPEC §14); the
    # de-identified clinical record stays.
    erased_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "record_number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "record_number"], name="patient_unique_record_number"),
            models.CheckConstraint(
                condition=models.Q(skin_type__isnull=True) | models.Q(skin_type__gte=1, skin_type__lte=6),
                name="patient_skin_type_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.record_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def can_receive_reminders(self) -> bool:
        return self.reminder_consent and bool(self.email)


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Enrolment(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="enrolments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrolments")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField()
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    area = models.CharField(max_length=200, blank=True, help_text="Treatment area, e.g. vertex scalp", validators=[single_line])
    status = models.CharField(max_length=12, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    withdrawn_reason = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Withdrawn from treatment only: the protocol's follow-up sessions stay
    # planned and bookable (Session.enrolment_refusal).
    follow_up_kept = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "-id"]

    def __str__(self) -> str:
        return f"{self.patient} in {self.protocol}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    PHOTOGRAPHY = "photography", _("Photography")
    REGISTRY = "registry", _("Registry (de-identified export)")
    EMAIL_REMINDERS = "email_reminders", _("Email reminders")


class Consent(models.Model):
    """One statement of consent: given or withdrawn, of one kind, on a date,
    recorded by a member of staff. Rows are only ever added; the latest per
    kind is the patient's current consent (patients.consents), so the
    history can never be rewritten."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    given = models.BooleanField(help_text="True: given; false: withdrawn")
    on = models.DateField(help_text="The clinic-local date it was given or withdrawn")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True, validators=[single_line])

    class Meta:
        ordering = ["patient", "kind", "recorded_at", "id"]
        indexes = [models.Index(fields=["patient", "kind", "recorded_at"], name="consent_patient_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {'given' if self.given else 'withdrawn'} on {self.on}"
