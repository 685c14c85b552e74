"""The recall list of a lot (SPEC §12): every patient and session treated
with it, with contact details, for the API, its CSV and the printable page."""

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from clinics.models import Clinic
from core.text import csv_cell
from protocols.models import Lot
from sessions.models import Session

RECALL_COLUMNS = (
    "record_number",
    "last_name",
    "first_name",
    "date_of_birth",
    "email",
    "phone",
    "visit_date",
    "protocol",
    "step_name",
    "sequence",
    "practitioner",
    "session",
)


def recall_sessions(clinic: Clinic, lot: Lot) -> QuerySet[Session]:
    """Sessions of the clinic that used `lot`, by patient then visit: one query."""
    return (
        Session.objects.filter(clinic=clinic, lot=lot)
        .select_related("patient", "enrolment__protocol", "step", "practitioner", "clinic")
        .order_by("patient__last_name", "patient__first_name", "patient_id", "start", "completed_at", "id")
    )


def recall_rows(clinic: Clinic, lot: Lot) -> list[dict]:
    rows = []
    for session in recall_sessions(clinic, lot):
        patient = session.patient
        rows.append(
            {
                "patient": patient.pk,
                "record_number": patient.record_number,
                "last_name": patient.last_name,
                "first_name": patient.first_name,
                "date_of_birth": patient.date_of_birth,
                "email": patient.email,
                "phone": patient.phone,
                "session": session.pk,
                "enrolment": session.enrolment_id,
                "visit_date": session.visit_date,
                "protocol": session.enrolment.protocol.name,
                "step_name": session.step.name,
                "sequence": session.sequence,
                "practitioner": session.practitioner.display_name if session.practitioner else "",
            }
        )
    return rows


def recall_csv(rows: list[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RECALL_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in RECALL_COLUMNS])
    yield buffer.getvalue()
