"""The rules a patient record must meet, for the API and the pages alike
(issue 13): a plausible birth date, an email when email reminders are
consented to, and a phone number that parses (Google's libphonenumber, via
the `phonenumbers` package), stored in one international format."""

import datetime as dt

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Patient

EARLIEST_BIRTH = dt.date(1900, 1, 1)
# A number typed without a country code is read as one of the clinic's own;
# the clinic's phone says which country that is (Germany when it says nothing).
DEFAULT_REGION = "DE"


def clinic_region(clinic) -> str:
    try:
        number = phonenumbers.parse(clinic.phone or "", None)
    except phonenumbers.NumberParseException:
        return DEFAULT_REGION
    return phonenumbers.region_code_for_number(number) or DEFAULT_REGION


def normalized_phone(raw: str, region: str) -> str:
    """The number in international format ("+49 30 55501101"), or a
    ValidationError saying what is wrong in plain words."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(_("This is not a phone number; type it as on a letterhead, e.g. 030 1234567.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "This phone number has too few or too many digits for its country; check it, and start a foreign "
                "number with + and its country code."
            )
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def check_patient(patient: Patient, *, today: dt.date) -> None:
    """Refuse an implausible record (every problem at once, per field);
    normalise the phone number in place."""
    errors: dict[str, list[str]] = {}
    if patient.date_of_birth is not None:
        if patient.date_of_birth > today:
            errors["date_of_birth"] = [_("A date of birth cannot be in the future.")]
        elif patient.date_of_birth < EARLIEST_BIRTH:
            errors["date_of_birth"] = [_("A date of birth before 1900 is not plausible; check the year.")]
    if patient.reminder_consent and not (patient.email or "").strip():
        errors["email"] = [_("Email reminders need an email address: add one, or untick the reminder consent.")]
    if (patient.phone or "").strip():
        try:
            patient.phone = normalized_phone(patient.phone.strip(), clinic_region(patient.clinic))
        except ValidationError as error:
            errors["phone"] = error.messages
    if errors:
        raise ValidationError(errors)
