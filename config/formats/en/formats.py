# English dates as patients read them (SPEC §20): "Wednesday 2 December 2026",
# "Wednesday 2 December 2026, 10:00". Django's other English formats stay.
DATE_FORMAT = "l j F Y"
DATETIME_FORMAT = "l j F Y, H:i"
TIME_FORMAT = "H:i"
