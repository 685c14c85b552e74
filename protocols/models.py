import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinics.models import Clinic
from core.languages import Language
from core.text import multi_line, single_line


class ValueType(models.TextChoices):
    DECIMAL = "decimal", _("Decimal")
    INTEGER = "integer", _("Integer")
    SCORE = "score", _("Score")


class ReportedBy(models.TextChoices):
    CLINICIAN = "clinician", _("Clinician")
    PATIENT = "patient", _("Patient")


class OutcomeMeasure(models.Model):
    """The catalogue of instruments, shared by every clinic (clinical/instruments.md)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200, validators=[single_line])
    unit = models.CharField(max_length=40, blank=True, validators=[single_line])
    value_type = models.CharField(max_length=10, choices=ValueType.choices, default=ValueType.DECIMAL)
    # A grade or class (IGA, Glogau, Hamilton-Norwood...): change in points and
    # never a percent change (clinical/instruments.md, corrections). Every
    # `score` is ordinal; Norwood is too, though decimal (3.5 is "3 vertex").
    ordinal = models.BooleanField(default=False)
    min_value = models.DecimalField(max_digits=12, decimal_places=4)
    max_value = models.DecimalField(max_digits=12, decimal_places=4)
    higher_is_better = models.BooleanField()
    used_for = models.CharField(max_length=200, blank=True, validators=[single_line])
    # Responder definitions that apply (clinical/instruments.md), as data a
    # report can read: [{"code", "label", "kind": "percent_reduction" |
    # "points_reduction" | "grade", ...}]; see protocols.instruments.responds.
    responders = models.JSONField(default=list, blank=True)
    # Who reports it (SPEC §17): a patient-reported measure at a booked visit
    # is asked in the questionnaire emailed before it.
    reported_by = models.CharField(max_length=10, choices=ReportedBy.choices, default=ReportedBy.CLINICIAN)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(min_value__lte=models.F("max_value")), name="measure_range_ordered"),
            models.CheckConstraint(
                condition=models.Q(ordinal=True) | ~models.Q(value_type=ValueType.SCORE), name="measure_score_is_ordinal"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


class Indication(models.TextChoices):
    HAIR = "hair", _("Hair regeneration")
    PHOTOAGING = "photoaging", _("Photoaging")
    WOUND = "wound", _("Chronic wound")
    ATOPIC_DERMATITIS = "atopic_dermatitis", _("Atopic dermatitis")
    PSORIASIS = "psoriasis", _("Psoriasis")
    SCAR = "scar", _("Scars")
    OTHER = "other", _("Other")


class Delivery(models.TextChoices):
    TOPICAL = "topical", _("Topical")
    MICRONEEDLING = "microneedling", _("Microneedling")
    INJECTION = "injection", _("Injection")
    MESOTHERAPY = "mesotherapy", _("Mesotherapy")
    OTHER = "other", _("Other")


class Protocol(models.Model):
    """A versioned template. Rows of one `lineage` are the versions of one
    protocol; exactly one is current. A version with enrolments is never
    edited in place (services.update_protocol makes the next version)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="protocols")
    lineage = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    library_key = models.SlugField(max_length=60, blank=True)
    # Which edition of the standard library this version was loaded from (or
    # edited from); 0 for a clinic's own protocol. load_library adds the next
    # version of a lineage whose current version is of an older edition.
    library_edition = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200, validators=[single_line])
    indication = models.CharField(max_length=30, choices=Indication.choices)
    delivery = models.CharField(max_length=20, choices=Delivery.choices)
    description = models.TextField(blank=True, validators=[multi_line])
    product = models.CharField(max_length=300, blank=True, help_text="The product the course uses.", validators=[single_line])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["lineage", "version"], name="protocol_unique_version"),
            models.UniqueConstraint(
                fields=["lineage"], condition=models.Q(is_current=True), name="protocol_one_current_version"
            ),
            models.UniqueConstraint(
                fields=["clinic", "library_key"],
                condition=models.Q(is_current=True) & ~models.Q(library_key=""),
                name="protocol_unique_library_key",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="protocol_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class StepKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    ASSESSMENT = "assessment", _("Assessment")
    HOME = "home", _("Home application")


class Anchor(models.TextChoices):
    PREVIOUS = "previous", _("After the previous session")
    START = "start", _("From the start date")
    TREATMENT = "treatment", _("After the last treatment")


class Adjunct(models.TextChoices):
    NONE = "none", _("None")
    MICRONEEDLING = "microneedling", _("Microneedling")
    FRACTIONAL_CO2 = "fractional_co2", _("Fractional CO2 laser")
    RF_MICRONEEDLING = "rf_microneedling", _("RF microneedling")
    PRP = "prp", _("PRP")


class Step(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200, validators=[single_line])
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    repeat = models.PositiveSmallIntegerField(default=1)
    interval_days = models.PositiveIntegerField(default=0)
    anchor = models.CharField(max_length=10, choices=Anchor.choices, default=Anchor.PREVIOUS)
    window_before_days = models.PositiveIntegerField(default=0)
    window_after_days = models.PositiveIntegerField(default=0)
    duration_minutes = models.PositiveIntegerField(default=30)
    measures = models.ManyToManyField(OutcomeMeasure, blank=True, related_name="steps")
    product = models.CharField(max_length=300, blank=True, validators=[single_line])
    adjunct = models.CharField(max_length=20, choices=Adjunct.choices, default=Adjunct.NONE)
    # The course's primary end point: its measures' `endpoint` is their value
    # at this step's last occurrence that has one (SPEC §10).
    primary_endpoint = models.BooleanField(default=False)
    # A follow-up assessment after the course: it stays planned and bookable
    # when the patient withdraws from treatment with `keep_follow_up`.
    follow_up = models.BooleanField(default=False)
    # SPEC §19. The arm this step belongs to: blank on the main path, else a
    # named sequence of steps that a `switch_to: <arm>` decision schedules,
    # anchored on the decision visit. Enrolment plans only the main path.
    arm = models.SlugField(max_length=40, blank=True)
    # Decision rules at this step (the decision visit), as data read by
    # protocols.schedule.parse_rule_set; null when the step decides nothing.
    decision = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "position"], name="step_unique_position"),
            models.CheckConstraint(condition=models.Q(repeat__gte=1), name="step_repeat_at_least_one"),
            models.CheckConstraint(condition=models.Q(interval_days__gte=0), name="step_interval_non_negative"),
            models.CheckConstraint(
                condition=models.Q(window_before_days__gte=0, window_after_days__gte=0),
                name="step_window_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="home") | models.Q(duration_minutes__gte=5),
                name="step_bookable_has_duration",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# --- Products and lots (SPEC §12) -------------------------------------------------------------------


class SourceTissue(models.TextChoices):
    BONE_MARROW = "bone_marrow", _("Bone marrow")
    ADIPOSE = "adipose", _("Adipose tissue")
    UMBILICAL_CORD = "umbilical_cord", _("Umbilical cord")
    OTHER = "other", _("Other")


class ProductKind(models.TextChoices):
    CONDITIONED_MEDIUM = "conditioned_medium", _("Conditioned medium")
    SECRETOME = "secretome", _("Secretome")
    EXOSOMES = "exosomes", _("Exosomes")


class Product(models.Model):
    """A biological product the clinic gives; the manager maintains it, every
    member of staff reads it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200, validators=[single_line])
    source_tissue = models.CharField(max_length=20, choices=SourceTissue.choices)
    form = models.CharField(max_length=20, choices=ProductKind.choices)
    manufacturer = models.CharField(max_length=200, blank=True, validators=[single_line])
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="product_unique_name_per_clinic")]

    def __str__(self) -> str:
        return self.name


class Lot(models.Model):
    """One manufacturing lot of a product. Sessions name the lot they used,
    so a recall finds every patient treated with it."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=80, validators=[single_line])
    expiry_date = models.DateField()
    received_on = models.DateField(null=True, blank=True)
    concentration = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    concentration_unit = models.CharField(max_length=40, blank=True, help_text="e.g. µg/mL protein, particles/mL", validators=[single_line])
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "expiry_date", "lot_number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="lot_unique_number_per_product"),
            models.CheckConstraint(
                condition=models.Q(received_on__isnull=True) | models.Q(received_on__lte=models.F("expiry_date")),
                name="lot_received_before_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} lot {self.lot_number}"

    def expired_on(self, day) -> bool:
        """Whether the lot may no longer be used on `day` (it is usable on its expiry date)."""
        return day > self.expiry_date


# --- Licensed instrument wording (SPEC §17) ------------------------------------------------------------


class InstrumentWording(models.Model):
    """An instrument's licensed wording, entered by the clinic's manager per
    language (DLQI, Cardiff University): until it is entered for a patient's
    language, the questionnaire leaves the instrument out."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="instrument_wordings")
    code = models.SlugField(max_length=40)
    language = models.CharField(max_length=10, choices=Language.choices)
    # DLQI: the heading above the questions ("The aim of this questionnaire..."),
    # the ten questions in order and the answer labels by answer key.
    instructions = models.TextField(blank=True, validators=[multi_line])
    questions = models.JSONField(default=list)
    answers = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "language"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code", "language"], name="wording_one_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.language})"
