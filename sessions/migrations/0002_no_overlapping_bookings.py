"""No practitioner, room or patient is ever in two overlapping sessions.

On PostgreSQL the database guarantees it with GiST exclusion constraints over
tstzrange(start, "end") (half-open, so back-to-back bookings do not clash),
so two concurrent bookings can never both commit.
"""

from django.db import migrations

OCCUPYING = "status IN ('booked', 'completed') AND start IS NOT NULL"


def _constraint(column: str) -> str:
    return (
        f"ALTER TABLE treatment_sessions_session ADD CONSTRAINT session_no_overlap_{column} "
        f"EXCLUDE USING gist ({column}_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
        f"WHERE ({OCCUPYING})"
    )


FORWARD = ["CREATE EXTENSION IF NOT EXISTS btree_gist"] + [
    _constraint(column) for column in ("practitioner", "room", "patient")
]
BACKWARD = [
    f"ALTER TABLE treatment_sessions_session DROP CONSTRAINT IF EXISTS session_no_overlap_{column}"
    for column in ("practitioner", "room", "patient")
]


def forward(apps, schema_editor):
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
