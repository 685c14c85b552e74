"""Bulk enrolment (SPEC §15): a manager's CSV of new patients with their
protocol and start date; every row checked, errors by line, nothing written
on any error; the rows written are those enrol_patient would write."""

import io

import pytest
from django.core.management import CommandError, call_command

from patients.models import Enrolment, Patient
from sessions import services
from sessions.enrolments.bulk import import_enrolments
from sessions.models import Reminder, Session
from tests.factories import PatientFactory

from .conftest import START

HEADER = "record_number,first_name,last_name,date_of_birth,email,reminder_consent,protocol,start_date,clinician\n"


def _csv(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


def _counts():
    return (Patient.objects.count(), Patient.history.count(), Enrolment.objects.count(), Session.objects.count(),
            Reminder.objects.count())


def _schedule(enrolment):
    return [
        (s.sequence, s.step.name, s.status, s.target_date, s.window_start, s.window_end)
        for s in enrolment.sessions.select_related("step").order_by("sequence")
    ]


def _reminders(enrolment):
    return sorted(
        (r.session.sequence, r.kind, r.due_at, r.status)
        for r in Reminder.objects.filter(session__enrolment=enrolment).select_related("session")
    )


def test_a_manager_imports_patients_with_the_rows_enrol_patient_would_make(
    client_as, frozen, manager, clinician, receptionist, clinic, hair_protocol
):
    text = _csv(
        f"IMP-1,Ida,Import,1985-02-03,ida@example.org,true,{hair_protocol.name},{START},claire",
        f"IMP-2,Jan,Import,1990-12-24,,false,{hair_protocol.name.upper()},2026-03-16,",
    )
    answer = client_as(manager).post("/api/v1/enrolments/import/", {"csv": text}, format="json")

    assert answer.status_code == 201, answer.content
    assert answer.json() == {"patients": 2, "enrolments": 2, "sessions": 14, "reminders": 7}
    ida = Patient.objects.get(clinic=clinic, record_number="IMP-1")
    assert (ida.first_name, ida.email, ida.reminder_consent, ida.history.get().history_user) == (
        "Ida", "ida@example.org", True, manager,
    )
    imported = Enrolment.objects.get(patient=ida)
    assert (imported.protocol, imported.clinician, imported.created_by, imported.history.count()) == (
        hair_protocol, clinician, manager, 1,
    )
    # The same patient enrolled through the service, one by one, gets the same rows.
    twin = PatientFactory(clinic=clinic, email="twin@example.org", reminder_consent=True)
    by_service = services.enrol_patient(patient=twin, protocol=hair_protocol, start_date=START, by=receptionist)
    assert _schedule(imported) == _schedule(by_service)
    assert _reminders(imported) == _reminders(by_service) != []
    # No consent, no email: no reminders.
    assert not Reminder.objects.filter(session__patient__record_number="IMP-2").exists()


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(client_as, frozen, manager, clinic, hair_protocol):
    PatientFactory(clinic=clinic, record_number="TAKEN")
    before = _counts()
    text = _csv(
        f"OK-1,Ada,Fine,1980-01-01,ada@example.org,true,{hair_protocol.name},{START},",
        f"OK-2,Bea,Mail,1980-01-01,not-an-email,true,{hair_protocol.name},{START},",
        f"OK-3,Cem,Proto,1980-01-01,,false,No such protocol,{START},",
        f"OK-1,Dan,Twice,1980-01-01,,false,{hair_protocol.name},{START},",
        f"TAKEN,Eva,Exists,1980-01-01,,false,{hair_protocol.name},{START},",
        f"OK-6,Fay,Far,1980-01-01,,maybe,{hair_protocol.name},2031-01-01,nobody",
        f"OK-7,Gil,Born,2999-01-01,,false,{hair_protocol.name},31.12.2026,",
    )
    answer = client_as(manager).post("/api/v1/enrolments/import/", {"csv": text}, format="json")

    assert answer.status_code == 400, answer.content
    errors = answer.json()["csv"]
    assert errors == [
        "line 3: email: Enter a valid email address.",
        "line 4: protocol: No current protocol of this clinic has this library key or name.",
        "line 5: record_number: The record number is on line 2 too.",
        "line 6: record_number: A patient with this record number already exists.",
        "line 7: reminder_consent: Select a valid choice. maybe is not one of the available choices.",
        "line 7: clinician: No staff member of this clinic has this username.",
        "line 8: date_of_birth: A date of birth cannot be in the future.",
        "line 8: start_date: Enter a valid date.",
    ]
    assert _counts() == before


def test_the_enrolment_rules_are_those_of_enrol_patient(client_as, frozen, manager, clinic, hair_protocol):
    hair_protocol.active = False
    hair_protocol.save(update_fields=["active"])
    text = _csv(f"R-1,Ada,Rule,1980-01-01,,false,{hair_protocol.name},{START},",
                "R-2,Bo,Rule,1980-01-01,,false,Hair regeneration,2029-03-02,")
    answer = client_as(manager).post("/api/v1/enrolments/import/", {"csv": text}, format="json")
    assert answer.status_code == 400
    assert answer.json()["csv"] == [
        "line 2: protocol: Enrol only in the current version of an active protocol.",
        "line 3: protocol: Enrol only in the current version of an active protocol.",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("record_number,first_name\nA,B\n", "line 1: missing column(s): last_name, date_of_birth, protocol, start_date"),
        (HEADER.replace("clinician", "surprise"), "line 1: unknown column(s): surprise"),
        (HEADER, "The file has no rows."),
        (_csv("A,B,C,1980-01-01,,false,P,2026-03-02,,extra"), "line 2: more values than columns."),
        ("a\x00b", "Null characters are not allowed."),  # DRF refuses it before the import reads it
    ],
)
def test_a_malformed_file_is_a_400_naming_csv(client_as, frozen, manager, hair_protocol, text, message):
    answer = client_as(manager).post("/api/v1/enrolments/import/", {"csv": text}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"csv": [message]}


def test_only_a_manager_may_import(client_as, frozen, clinician, hair_protocol):
    text = _csv(f"X-1,Ada,Role,1980-01-01,,false,{hair_protocol.name},{START},")
    answer = client_as(clinician).post("/api/v1/enrolments/import/", {"csv": text}, format="json")
    assert answer.status_code == 403
    assert not Patient.objects.filter(record_number="X-1").exists()


def test_the_command_imports_a_file_or_lists_the_errors(tmp_path, frozen, manager, hair_protocol):
    good = tmp_path / "good.csv"
    good.write_text(_csv(f"C-1,Ada,Cmd,1980-01-01,ada@example.org,yes,{hair_protocol.name},{START},"))
    out = io.StringIO()
    call_command("import_enrolments", str(good), "--by", manager.username, stdout=out)
    assert "Imported 1 patients, 1 enrolments, 7 sessions" in out.getvalue()
    assert Enrolment.objects.get(patient__record_number="C-1").sessions.count() == 7

    bad = tmp_path / "bad.csv"
    bad.write_text(_csv(f"C-1,Ada,Again,1980-01-01,,no,{hair_protocol.name},{START},"))
    with pytest.raises(CommandError, match="line 2: record_number: A patient with this record number already exists"):
        call_command("import_enrolments", str(bad), "--by", manager.username)


def test_the_service_refuses_a_clinician(frozen, clinician, clinic, hair_protocol):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_enrolments(clinic=clinic, text=_csv(f"S-1,A,B,1980-01-01,,no,{hair_protocol.name},{START},"),
                          by=clinician)


def test_a_row_whose_schedule_meets_a_closure_is_refused_by_its_line(frozen, manager, clinic, hair_protocol):
    """The import reads the clinic's open days once for the whole file: a
    closure on one row's baseline day (a 0-day window) refuses that row,
    naming the next start that works, and the others are not written."""
    import datetime as dt

    from django.core.exceptions import ValidationError

    from clinics.models import Closure

    Closure.objects.create(clinic=clinic, date=START + dt.timedelta(days=7), reason="Staff training")
    before = _counts()
    text = _csv(
        f"CL-1,Ida,Import,1985-02-03,,false,{hair_protocol.name},{START},",
        f"CL-2,Jan,Import,1990-12-24,,false,{hair_protocol.name},{START + dt.timedelta(days=7)},",
    )
    with pytest.raises(ValidationError) as raised:
        import_enrolments(clinic=clinic, text=text, by=manager)
    [message] = raised.value.message_dict["csv"]
    assert message.startswith("line 3: start_date: The clinic is closed on every day of the window of visit #1")
    assert f"({START + dt.timedelta(days=8)})" in message
    assert _counts() == before


def test_an_optional_language_column_and_else_the_clinics_language(client_as, frozen, manager, clinic, hair_protocol):
    """SPEC §20: a row's `language`, or the clinic's; a language we lack is a row error."""
    clinic.language = "de"
    clinic.save()
    manager.clinic.refresh_from_db()
    header = "record_number,first_name,last_name,date_of_birth,protocol,start_date,language\n"
    rows = f"L-1,Ida,Import,1985-02-03,{hair_protocol.name},{START},\nL-2,Jan,Import,1990-12-24,{hair_protocol.name},{START},en\n"
    bad = client_as(manager).post("/api/v1/enrolments/import/", {"csv": header + rows + "L-3,Eve,X,1990-1-1,x,y,fr\n"},
                                  format="json")  # fmt: skip
    assert bad.status_code == 400 and any("language" in line for line in bad.json()["csv"])
    answer = client_as(manager).post("/api/v1/enrolments/import/", {"csv": header + rows}, format="json")
    assert answer.status_code == 201, answer.content
    assert dict(Patient.objects.filter(record_number__startswith="L-").values_list("record_number", "language")) == {
        "L-1": "de", "L-2": "en",
    }
