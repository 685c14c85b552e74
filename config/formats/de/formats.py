# German dates as patients read them (SPEC §20): "Mittwoch, 2. Dezember 2026",
# "Mittwoch, 2. Dezember 2026, 10:00". Django's other German formats stay.
DATE_FORMAT = "l, j. F Y"
DATETIME_FORMAT = "l, j. F Y, H:i"
TIME_FORMAT = "H:i"
