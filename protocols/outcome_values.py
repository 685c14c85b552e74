"""Outcome values as they are stored: a typed-in number checked against its
measure's type and range, or a scored instrument's value computed from its
items (clinical/instruments.md). Used by the completion and correction
workflows, the API and the Complete page alike."""

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from . import instruments
from .models import OutcomeMeasure, ValueType


def clean_value(measure: OutcomeMeasure, raw) -> Decimal:
    """A finite number of the measure's type inside its range, or a
    ValidationError naming the measure as staff know it (its name, never its
    code: issue 13) and the rule."""
    label = measure.name
    if isinstance(raw, bool) or raw is None:
        raise ValidationError(f"{label}: a number is required.")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValidationError(f"{label}: the value must be a finite number.")
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}: {str(raw)[:40]!r} is not a number.") from None
    if not value.is_finite():
        raise ValidationError(f"{label}: the value must be a finite number.")
    if value < measure.min_value or value > measure.max_value:
        raise ValidationError(
            f"{label}: {value.normalize():f} is outside {measure.min_value.normalize():f}–{measure.max_value.normalize():f}"
            f"{' ' + measure.unit if measure.unit else ''}."
        )
    if measure.value_type in (ValueType.INTEGER, ValueType.SCORE) and value != value.to_integral_value():
        raise ValidationError(f"{label}: a whole number is required.")
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError(f"{label}: give at most 4 digits after the decimal point.")
    return value


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` (born on 29 February: a year older from 1 March)."""
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def _as_json(value):
    """Items as plain JSON for the JSONField (a service caller may pass Decimals or tuples)."""
    if isinstance(value, Mapping):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def measured_value(measure: OutcomeMeasure, value, items, *, born: dt.date, on: dt.date):
    """The (value, items) to store: a value typed in (items None), or a scored
    instrument's value computed from its items (clinical/instruments.md) on the
    session date ``on`` for a patient born on ``born``. Either is range-checked by clean_value; a
    ValidationError names the measure (by its name) and the rule."""
    code, label = measure.code, measure.name
    if items is None and code in instruments.SCORED_CODES:
        # A bare total cannot be checked (SCORAD 51.5432 has no items behind it). The item keys
        # stay: an API caller needs them to send the items.
        layout = ", ".join(instruments.ITEM_KEYS[code])
        raise ValidationError(f"{label}: give its items ({layout}), not a total; the value is computed from them.")
    if items is None:
        return clean_value(measure, value), None
    if value is not None:
        raise ValidationError(f"{label}: give the value or the items, not both.")
    if code not in instruments.ITEM_CODES:
        raise ValidationError(f"{label}: give its value; it is not computed from items.")
    # EASI weights the head and neck more for children aged 0-7.
    age = age_on(born, on) if code == "easi" else None
    try:
        score = instruments.score_items(code, items, age_years=age)
    except ValueError as error:
        message = str(error)[:300]  # the instrument's own words often begin with its name
        raise ValidationError(message if message.startswith(label) else f"{label}: {message}") from None
    return clean_value(measure, score), _as_json(items)
