"""The languages people read Regimen in (SPEC §20), and dates in them.

A clinic has a default language, a patient one (emails and link pages), a
staff user one (else the browser's Accept-Language). Dates follow the
active language through Django's formats (config/formats/<lang>/formats.py):
"Mittwoch, 2. Dezember 2026, 10:00" and "Wednesday 2 December 2026, 10:00".
"""

import datetime as dt
import zoneinfo

from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    GERMAN = "de", _("German")


def long_date(day: dt.date) -> str:
    """'Wednesday 2 December 2026' / 'Mittwoch, 2. Dezember 2026' in the
    active language."""
    return formats.date_format(day, "DATE_FORMAT")


def long_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """A visit's date and time in the active language, as the clinic's wall
    clock shows it that day (so DST is accounted for, and no zone name,
    which patients do not read): 'Wednesday 2 December 2026, 10:00'."""
    return formats.date_format(moment.astimezone(tz), "DATETIME_FORMAT")


def clock_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'10:00' on the clinic's wall clock."""
    return formats.time_format(moment.astimezone(tz), "TIME_FORMAT")
