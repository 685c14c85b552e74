"""SPEC §11's de-identified long CSV: registry consent only, a keyed hash as
subject, ages not birth dates, formula cells neutralised, read back by pandas."""

import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
import time_machine
from django.test import override_settings

from patients.consents import record_consent
from reports.exports import subject_of
from sessions.patients.changes import change_consent

from .conftest import at

ASKED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def export(client):
    with time_machine.travel(ASKED, tick=False):
        answer = client.get("/api/v1/exports/outcomes.csv")
    assert answer.status_code == 200, answer.content
    assert answer.streaming and answer["Content-Type"].startswith("text/csv")
    return b"".join(answer.streaming_content).decode()


def consent(patient, receptionist, given=True, day=dt.date(2026, 3, 1)):
    with time_machine.travel(at(day, 9), tick=False):
        record_consent(patient=patient, kind="registry", given=given, by=receptionist)


@pytest.fixture
def cohort(make_course, receptionist):
    consenting = make_course(
        {"hair_density": 100, "itch_nrs": 8}, {"hair_density": 130, "itch_nrs": 3},
        date_of_birth=dt.date(1980, 3, 3), sex="female", first_name="Greta", last_name="=HYPERLINK(1)",
    )
    no_baseline = make_course({"itch_nrs": 6}, {"hair_density": 140, "itch_nrs": 6}, sex="male")
    never_asked = make_course({"hair_density": 90}, {"hair_density": 95})
    withdrew = make_course({"hair_density": 90}, {"hair_density": 95})
    for enrolment in (consenting, no_baseline, withdrew):
        consent(enrolment.patient, receptionist)
    consent(withdrew.patient, receptionist, given=False, day=dt.date(2026, 4, 1))
    return consenting, no_baseline, never_asked, withdrew


def test_the_export_has_registry_patients_only_under_a_stable_keyed_subject(client_as, manager, cohort):
    consenting, no_baseline, never_asked, withdrew = cohort
    text = export(client_as(manager))
    frame = pd.read_csv(io.StringIO(text))

    assert list(frame.columns) == [
        "subject", "age_at_start", "sex", "protocol", "protocol_version", "indication", "step_name", "sequence",
        "observed_on", "days_from_start", "measure", "value", "baseline", "change", "percent_change", "product", "lot",
    ]
    subjects = {subject_of(consenting.patient_id), subject_of(no_baseline.patient_id)}
    assert set(frame["subject"]) == subjects
    assert subject_of(never_asked.patient_id) not in text and subject_of(withdrew.patient_id) not in text
    assert len(frame) == 4 + 3  # two values at each of two visits; one, then two
    for patient in (consenting.patient, no_baseline.patient):
        for secret in (patient.last_name, patient.record_number, patient.email, str(patient.date_of_birth)):
            assert secret not in text
    assert str(consenting.patient_id) not in set(frame["subject"])
    # The same subject in the next export; another key gives other subjects.
    assert export(client_as(manager)) == text
    usual = subject_of(consenting.patient_id)
    with override_settings(EXPORT_SUBJECT_KEY="another key"):
        other = export(client_as(manager))
    assert usual not in other and subject_of(consenting.patient_id, b"another key") in other

    mine = frame[frame["subject"] == subject_of(consenting.patient_id)].set_index(["sequence", "measure"])
    end = mine.loc[(2, "hair_density")]
    assert end["age_at_start"] == 45 and end["sex"] == "female" and end["protocol_version"] == 1
    assert end["observed_on"] == "2026-03-30" and end["days_from_start"] == 28
    assert (end["value"], end["baseline"], end["change"], end["percent_change"]) == (130, 100, 30, 30)
    itch = mine.loc[(2, "itch_nrs")]
    assert (itch["change"], pd.isna(itch["percent_change"])) == (-5, True)  # a grade: no percent
    assert frame["value"].dtype.kind == "f" and frame["change"].dtype.kind == "f"

    theirs = frame[frame["subject"] == subject_of(no_baseline.patient_id)]
    density = theirs[theirs["measure"] == "hair_density"].iloc[0]
    assert pd.isna(density["baseline"]) and pd.isna(density["change"])  # no baseline: never the next value


def test_cells_a_spreadsheet_would_run_are_neutralised(client_as, manager, course_protocol, make_course, receptionist):
    course_protocol.name = "=cmd|' /C calc'!A0"
    course_protocol.save()
    course_protocol.steps.filter(position=1).update(name="-2+3+cmd|' /C calc'!A0")
    enrolment = make_course({"hair_density": 100}, {"hair_density": 80})
    consent(enrolment.patient, receptionist)
    frame = pd.read_csv(io.StringIO(export(client_as(manager))))
    assert set(frame["protocol"]) == {"'=cmd|' /C calc'!A0"}
    assert "'-2+3+cmd|' /C calc'!A0" in set(frame["step_name"])
    assert Decimal(str(frame["change"].min())) == Decimal(-20)  # numbers stay numbers, minus sign and all


def test_only_a_manager_exports(client_as, receptionist, clinician, outsider, cohort):
    with time_machine.travel(ASKED, tick=False):
        assert client_as(receptionist).get("/api/v1/exports/outcomes.csv").status_code == 403
        assert client_as(clinician).get("/api/v1/exports/outcomes.csv").status_code == 403
        assert client_as(None).get("/api/v1/exports/outcomes.csv").status_code == 401
    assert export(client_as(outsider)).count("\n") == 1  # the header only


def test_withdrawing_registry_consent_removes_the_patient_from_the_next_export(client_as, manager, cohort, receptionist):
    consenting = cohort[0]
    assert subject_of(consenting.patient_id) in export(client_as(manager))
    with time_machine.travel(at(dt.date(2026, 5, 1), 9), tick=False):
        change_consent(patient=consenting.patient, kind="registry", given=False, by=receptionist)
    assert subject_of(consenting.patient_id) not in export(client_as(manager))
