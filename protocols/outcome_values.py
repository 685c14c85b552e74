"""Outcome values as they are stored: a typed-in number checked against its
measure's type and range, or a scored instrument's value computed from its
items (clinical/instruments.md). Used by the completion and correction
workflows, the API and the Complete page alike."""

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from protocols.library import shown

from . import instruments
from .models import OutcomeMeasure, ValueType


def clean_value(measure: OutcomeMeasure, raw) -> Decimal:
    """A finite number of the measure's type inside its range, or a
    ValidationError naming the measure as staff know it (its name, never its
    code: issue 13; in the reader's language) and the rule."""
    label = shown(measure.name)
    if isinstance(raw, bool) or raw is None:
        raise ValidationError(_("%(measure)s: a number is required.") % {"measure": label})
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValidationError(_("%(measure)s: the value must be a finite number.") % {"measure": label})
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            _("%(measure)s: %(value)s is not a number.") % {"measure": label, "value": repr(str(raw)[:40])}
        ) from None
    if not value.is_finite():
        raise ValidationError(_("%(measure)s: the value must be a finite number.") % {"measure": label})
    if value < measure.min_value or value > measure.max_value:
        raise ValidationError(
            _("%(measure)s: %(value)s is outside %(low)s–%(high)s.")
            % {
                "measure": label, "value": f"{value.normalize():f}", "low": f"{measure.min_value.normalize():f}",
                "high": f"{measure.max_value.normalize():f}" + (" " + shown(measure.unit) if measure.unit else ""),
            }
        )
    if measure.value_type in (ValueType.INTEGER, ValueType.SCORE) and value != value.to_integral_value():
        raise ValidationError(_("%(measure)s: a whole number is required.") % {"measure": label})
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError(_("%(measure)s: give at most 4 digits after the decimal point.") % {"measure": label})
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
    code, label = measure.code, shown(measure.name)
    if items is None and code in instruments.SCORED_CODES:
        # A bare total cannot be checked (SCORAD 51.5432 has no items behind it). The item keys
        # stay: an API caller needs them to send the items.
        layout = ", ".join(instruments.ITEM_KEYS[code])
        raise ValidationError(
            _("%(measure)s: give its items (%(items)s), not a total; the value is computed from them.")
            % {"measure": label, "items": layout}
        )
    if items is None:
        return clean_value(measure, value), None
    if value is not None:
        raise ValidationError(_("%(measure)s: give the value or the items, not both.") % {"measure": label})
    if code not in instruments.ITEM_CODES:
        raise ValidationError(_("%(measure)s: give its value; it is not computed from items.") % {"measure": label})
    # EASI weights the head and neck more for children aged 0-7.
    age = age_on(born, on) if code == "easi" else None
    try:
        score = instruments.score_items(code, items, age_years=age)
    except ValueError as error:
        message = str(error)[:300]  # the instrument's own words often begin with its name
        raise ValidationError(
            message if message.startswith((label, measure.name)) else _("%(measure)s: %(message)s") % {
                "measure": label, "message": message
            }
        ) from None
    return clean_value(measure, score), _as_json(items)
