"""The recall CSV makes formula cells safe as the other exports do (one
helper, core.text.csv_cell): a patient's name or phone that a spreadsheet
would run is read back as the text it is."""

import csv
import io

from tests.factories import complete_over_api
from tests.sessions.records.test_lots import PAIN

ATTACK = "-2+3+cmd|' /C calc'!A0"


def test_the_recall_csv_quotes_every_cell_a_spreadsheet_would_run(
    client_as, clinician, receptionist, booked_injection, lot, patient
):
    patient.last_name = ATTACK
    patient.first_name = "=HYPERLINK(\"http://x.example\")"
    patient.phone = "+49 30 450 000"
    patient.save()
    assert complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": lot.pk}).status_code == 200
    answer = client_as(receptionist).get(f"/api/v1/lots/{lot.pk}/recall.csv")
    [row] = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert row["last_name"] == "'" + ATTACK
    assert row["first_name"] == "'=HYPERLINK(\"http://x.example\")"
    assert row["phone"] == "'+49 30 450 000"
    assert row["record_number"] == patient.record_number and row["visit_date"] == "2026-03-16"
