"""The de-identified outcomes export (SPEC §11): one CSV row per recorded
value, long format, for a statistician.

- Only patients whose latest `registry` consent statement is "given".
- `subject` is HMAC-SHA256 of the patient id under `settings.EXPORT_SUBJECT_KEY`
  (by default a key derived from SECRET_KEY): the same patient has the same
  subject in every export, and without the key the id cannot be recovered
  (or confirmed by hashing guessed ids).
- `age_at_start` in whole years at the enrolment's start, never a birth date;
  no name, record number, contact or free text.
- Rows come from a server-side cursor (`.iterator(chunk_size=...)`) into a
  `StreamingHttpResponse`, so a million rows never sit in memory.
- A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
  is prefixed with `'` so a spreadsheet shows it rather than running it.
  Numeric columns are written from numbers and are never altered, so
  `pandas.read_csv` reads them as numbers.
"""

import csv
import hashlib
import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Func, IntegerField, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Round

from core.text import csv_cell
from patients.consents import latest_statement
from patients.models import ConsentKind
from sessions.models import OutcomeMeasurement, SessionStatus
from sessions.outcomes.selectors import baseline_session_subquery

COLUMNS = (
    "subject",
    "age_at_start",
    "sex",
    "protocol",
    "protocol_version",
    "indication",
    "step_name",
    "sequence",
    "observed_on",
    "days_from_start",
    "measure",
    "value",
    "baseline",
    "change",
    "percent_change",
    "product",
    "lot",
)
TEXT_COLUMNS = {"sex", "protocol", "indication", "step_name", "measure", "product", "lot"}
CHUNK = 2000


def subject_key() -> bytes:
    key = getattr(settings, "EXPORT_SUBJECT_KEY", "")
    if key:
        return key.encode()
    # Derived, not the SECRET_KEY itself: a subject never helps forge a session.
    return hmac.new(settings.SECRET_KEY.encode(), b"regimen.export-subject", hashlib.sha256).digest()


def subject_of(patient_id: int, key: bytes | None = None) -> str:
    """The keyed hash that stands for a patient in exports (hex, 64 characters)."""
    return hmac.new(key or subject_key(), f"patient:{patient_id}".encode(), hashlib.sha256).hexdigest()


class AgeInYears(Func):
    """Whole years from the second date to the first (PostgreSQL's age())."""

    template = "DATE_PART('year', AGE(%(expressions)s))::integer"
    arg_joiner = ", "
    output_field = IntegerField()


class DaysBetween(Func):
    """The first date minus the second, in days (date - date is an integer in PostgreSQL)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


def export_rows(clinic):
    """The export's rows as tuples in `COLUMNS` order (subject still the patient id)."""
    decimal = DecimalField(max_digits=16, decimal_places=4)
    baseline = Subquery(
        OutcomeMeasurement.objects.filter(
            session_id=Subquery(baseline_session_subquery(OuterRef(OuterRef("session__enrolment_id")))),
            measure_id=OuterRef("measure_id"),
        )
        .order_by()  # the model's ordering would join the enrolment for each row
        .values("value")[:1],
        output_field=decimal,
    )
    change = ExpressionWrapper(F("value") - F("baseline"), output_field=decimal)
    percent_ok = Q(baseline__gt=0, value__gte=0) & Q(measure__ordinal=False)
    return (
        OutcomeMeasurement.objects.filter(
            session__clinic=clinic,
            session__status=SessionStatus.COMPLETED,
        )
        .annotate(registry=latest_statement(ConsentKind.REGISTRY, OuterRef("session__patient_id")))
        .filter(registry=True)
        .annotate(
            baseline=baseline,
            age_at_start=AgeInYears(F("session__enrolment__start_date"), F("session__patient__date_of_birth")),
            days_from_start=DaysBetween(F("observed_on"), F("session__enrolment__start_date")),
            change=Case(When(baseline__isnull=False, then=change), default=None, output_field=decimal),
            percent_change=Case(
                When(percent_ok, then=Round(change * 100 / F("baseline"), precision=1)),
                default=None,
                output_field=decimal,
            ),
            lot_label=Coalesce(F("session__lot__lot_number"), F("session__product_lot")),
        )
        .order_by("session__patient_id", "session__enrolment_id", "session__sequence", "measure__code")
        .values_list(
            "session__patient_id",
            "age_at_start",
            "session__patient__sex",
            "session__enrolment__protocol__name",
            "session__enrolment__protocol__version",
            "session__enrolment__protocol__indication",
            "session__step__name",
            "session__sequence",
            "observed_on",
            "days_from_start",
            "measure__code",
            "value",
            "baseline",
            "change",
            "percent_change",
            "session__lot__product__name",
            "lot_label",
        )
    )


class _Line:
    """A file-like object whose write() hands back the line the csv module wrote."""

    def write(self, text: str) -> str:
        return text


def outcomes_csv(clinic) -> Iterator[str]:
    """The export as CSV lines, read from the database in chunks."""
    writer = csv.writer(_Line())
    key = subject_key()
    text_at = [index for index, name in enumerate(COLUMNS) if name in TEXT_COLUMNS]
    yield writer.writerow(COLUMNS)
    for row in export_rows(clinic).iterator(chunk_size=CHUNK):
        cells = ["" if cell is None else cell for cell in row]
        cells[0] = subject_of(row[0], key)
        for index in text_at:
            cells[index] = csv_cell(str(cells[index]))
        yield writer.writerow(cells)
