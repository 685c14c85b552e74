"""Read queries over patients."""

import datetime as dt
import re

from django.db.models import Case, F, FloatField, Func, IntegerField, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from clinics.models import Clinic

from .models import Patient

# The search text of a patient on PostgreSQL: identical to the expression of
# the trigram index of migration 0002, so that index serves the search.
SEARCH_TEXT_SQL = (
    "(regimen_unaccent(lower(patients_patient.last_name || ' ' || patients_patient.first_name || ' ' "
    "|| patients_patient.record_number || ' ' || patients_patient.email)) "
    "|| ' ' || regexp_replace(patients_patient.phone, '[^0-9]', '', 'g'))"
)
NAME_SQL = "regimen_unaccent(lower(patients_patient.last_name || ' ' || patients_patient.first_name))"

MAX_WORDS = 10
BIRTH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
PHONE = re.compile(r"^\+?[\d\s()/.-]{5,}$")


def patients_of(clinic: Clinic | None) -> QuerySet[Patient]:
    return Patient.objects.filter(clinic=clinic).select_related("clinic")


def _birth_date(word: str) -> dt.date | None:
    """1980-05-17 or 17.05.1980 (the way German forms write it)."""
    try:
        if match := BIRTH_DATE.match(word):
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
            return dt.date.fromisoformat(word)
    except ValueError:
        return None
    return None


def _phone_digits(text: str) -> str:
    """The digits of a phone number as typed, without the leading zeros of
    a national prefix, so "030 5550 1101" finds "+49 30 5550 1101"."""
    return re.sub(r"\D", "", text).lstrip("0")


def _terms(text: str) -> tuple[list[str], list[dt.date], str]:
    """Words (a comma separates too: "Hartmann, Petra"), birth dates, and a
    phone number when the whole text is one."""
    text = text.replace("\x00", "").strip()
    if PHONE.match(text) and len(_phone_digits(text)) >= 5 and not _birth_date(text):
        return [], [], _phone_digits(text)
    words, dates = [], []
    for word in re.split(r"[\s,;]+", text)[:MAX_WORDS]:
        if not word:
            continue
        if (day := _birth_date(word)) is not None:
            dates.append(day)
        else:
            words.append(word)
    return words, dates, ""


def _unaccented(value: str) -> Func:
    return Func(Lower(Value(value)), function="regimen_unaccent", output_field=TextField())


def search_patients(patients: QuerySet[Patient], text: str) -> QuerySet[Patient]:
    """Every word must match a name, the record number, the email or (digits)
    the phone; a date (ISO or DD.MM.YYYY) matches the birth date. Accent- and
    case-insensitive ("muller" finds Müller), best match first:
    an exact record number, then the names closest to the words."""
    words, dates, phone = _terms(text)
    for day in dates:
        patients = patients.filter(date_of_birth=day)
    # Constant SQL without parameters (the index's own expression); the words go in as values.
    patients = patients.annotate(search_text=RawSQL(SEARCH_TEXT_SQL, [], output_field=TextField()))  # noqa: S611
    if phone:
        return patients.filter(search_text__contains=phone).order_by("last_name", "first_name", "pk")
    for word in words:
        patients = patients.filter(search_text__contains=_unaccented(word))
    if not words:
        return patients
    query = " ".join(words)
    return patients.annotate(
        exact_record=Case(
            When(record_number__iexact=query, then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
        closeness=Func(
            RawSQL(NAME_SQL, [], output_field=TextField()),  # noqa: S611  (constant SQL)
            _unaccented(query),
            function="similarity",
            output_field=FloatField(),
        ),
    ).order_by("exact_record", F("closeness").desc(), "last_name", "first_name", "pk")


def audit_patient_names(clinic, ids) -> dict[int, str]:
    """The names the audit log shows for patient ids; an erased patient has none."""
    names = {}
    for patient in Patient.objects.filter(clinic=clinic, pk__in=set(ids)).only("first_name", "last_name", "erased_at"):
        names[patient.pk] = f"an erased patient (#{patient.pk})" if patient.erased_at else patient.full_name
    return names


def audit_patient_search(clinic, text: str) -> list[int]:
    """The audit log's patient-name filter: the patient search's matches."""
    return list(search_patients(Patient.objects.filter(clinic=clinic), text).values_list("pk", flat=True)[:500])
