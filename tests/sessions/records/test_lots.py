"""Products and lots (SPEC §12): the manager maintains them, a treatment
session names a usable lot of its own clinic, and a lot's recall list finds
every patient treated with it."""

import csv
import datetime as dt
import io

from protocols.models import Lot, Product
from sessions.models import Session, SessionStatus
from tests.factories import complete_over_api, lot_of

PAIN = {"outcomes": [{"measure": "pain_vas", "value": 2}]}


def test_the_manager_creates_a_product_and_its_lot_and_everyone_reads_them(client_as, manager, receptionist):
    product = client_as(manager).post(
        "/api/v1/products/",
        {"name": "Exosome vial", "source_tissue": "adipose", "form": "exosomes", "manufacturer": "ExoLab"},
        format="json",
    )
    assert product.status_code == 201, product.content
    lot = client_as(manager).post(
        "/api/v1/lots/",
        {"product": product.json()["id"], "lot_number": "EX-1", "expiry_date": "2027-01-31",
         "received_on": "2026-02-01", "concentration": "2.5", "concentration_unit": "10^9 particles/mL"},
        format="json",
    )
    assert lot.status_code == 201, lot.content
    listed = client_as(receptionist).get("/api/v1/lots/").json()["results"]
    assert [(row["lot_number"], row["product_name"], row["concentration"]) for row in listed] == [
        ("EX-1", "Exosome vial", 2.5)
    ]
    assert client_as(receptionist).post("/api/v1/products/", {"name": "X"}, format="json").status_code == 403


def test_bad_lots_are_refused_naming_the_field(client_as, manager, lot):
    client = client_as(manager)
    twice = client.post(
        "/api/v1/lots/", {"product": lot.product_id, "lot_number": lot.lot_number, "expiry_date": "2031-01-01"},
        format="json",
    )
    assert twice.status_code == 400 and "lot_number" in twice.json()
    late = client.post(
        "/api/v1/lots/",
        {"product": lot.product_id, "lot_number": "L2", "expiry_date": "2026-01-01", "received_on": "2026-02-01"},
        format="json",
    )
    assert late.status_code == 400 and "received_on" in late.json()
    assert Lot.objects.count() == 1


def test_a_treatment_session_cannot_be_completed_without_a_lot(client_as, clinician, booked_injection):
    answer = complete_over_api(client_as(clinician), booked_injection, PAIN)
    assert answer.status_code == 400
    assert "lot" in answer.json()
    assert Session.objects.get(pk=booked_injection.pk).status == SessionStatus.BOOKED


def test_a_lot_expired_on_the_visit_date_is_refused(client_as, clinician, booked_injection, clinic):
    expired = lot_of(clinic, "OLD-1", expiry=dt.date(2026, 3, 15))  # the day before the visit
    answer = complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": expired.pk})
    assert answer.status_code == 400
    assert "expired on 2026-03-15" in answer.json()["lot"][0]
    assert Session.objects.get(pk=booked_injection.pk).status == SessionStatus.BOOKED


def test_a_lot_expiring_on_the_visit_date_is_still_usable(client_as, clinician, booked_injection, clinic):
    last_day = lot_of(clinic, "LAST-DAY", expiry=dt.date(2026, 3, 16))
    answer = complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": last_day.pk})
    assert answer.status_code == 200, answer.content
    assert answer.json()["lot"] == last_day.pk


def test_another_clinics_lot_is_unknown(client_as, clinician, booked_injection, other_clinic):
    theirs = lot_of(other_clinic, "THEIRS")
    answer = complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": theirs.pk})
    assert answer.status_code == 400
    assert answer.json()["lot"] == [f"Unknown id {theirs.pk}."]
    assert client_as(clinician).get(f"/api/v1/lots/{theirs.pk}/").status_code == 404


def test_the_recall_list_names_every_patient_treated_with_the_lot(
    client_as, clinician, receptionist, booked_injection, lot, patient
):
    assert complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": lot.pk}).status_code == 200
    recall = client_as(receptionist).get(f"/api/v1/lots/{lot.pk}/recall/")
    assert recall.status_code == 200
    assert [(r["record_number"], r["email"], r["visit_date"], r["step_name"]) for r in recall.json()] == [
        (patient.record_number, patient.email, "2026-03-16", "Injection")
    ]
    as_csv = client_as(receptionist).get(f"/api/v1/lots/{lot.pk}/recall.csv")
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(as_csv.streaming_content).decode())))
    assert [(r["record_number"], r["last_name"], r["visit_date"]) for r in rows] == [
        (patient.record_number, "Weber", "2026-03-16")
    ]


def test_another_lot_recalls_nobody(client_as, clinician, booked_injection, lot, clinic):
    assert complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": lot.pk}).status_code == 200
    unused = lot_of(clinic, "UNUSED")
    assert client_as(clinician).get(f"/api/v1/lots/{unused.pk}/recall/").json() == []


def test_a_used_lot_keeps_its_number(client_as, clinician, manager, booked_injection, lot):
    assert complete_over_api(client_as(clinician), booked_injection, {**PAIN, "lot": lot.pk}).status_code == 200
    answer = client_as(manager).patch(f"/api/v1/lots/{lot.pk}/", {"lot_number": "RENAMED"}, format="json")
    assert answer.status_code == 400 and "lot_number" in answer.json()
    assert Lot.objects.get(pk=lot.pk).lot_number == "SEC-2026-01"
    assert Product.objects.count() == 1
