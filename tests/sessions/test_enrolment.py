"""enrol_patient: a course's sessions and first reminders in one transaction."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from clinics.models import Role
from sessions import services
from sessions.models import Reminder, ReminderKind, Session, SessionStatus
from tests.factories import PatientFactory, UserFactory, make_protocol, step
from tests.sessions.conftest import BEFORE_ALL, clock, enrol, sessions_of, utc


def test_enrolment_generates_the_schedule_and_time_to_book_emails(patient, hair_protocol, receptionist, clinician):
    enrolment = enrol(patient, hair_protocol, "2026-03-02", receptionist, clinician=clinician, area="Vertex")
    assert (enrolment.status, enrolment.clinician, enrolment.area, enrolment.created_by) == (
        "active", clinician, "Vertex", receptionist,
    )
    sessions = sessions_of(enrolment)
    assert [(s.sequence, s.occurrence, s.step.name, s.status) for s in sessions] == [
        (1, 1, "Baseline assessment", SessionStatus.PLANNED),
        *[(n + 2, n + 1, "Injection", SessionStatus.PLANNED) for n in range(6)],
    ]
    assert {(s.clinic_id, s.patient_id) for s in sessions} == {(patient.clinic_id, patient.pk)}
    # One "time to book" email per session, at 08:00 Berlin time on the day its window opens.
    due = sorted(Reminder.objects.filter(session__enrolment=enrolment).values_list("kind", "due_at"))
    assert due[:3] == [
        (ReminderKind.WINDOW_OPEN, utc(2026, 3, 2, 7, 0)),
        (ReminderKind.WINDOW_OPEN, utc(2026, 3, 16, 7, 0)),
        (ReminderKind.WINDOW_OPEN, utc(2026, 3, 30, 6, 0)),  # 08:00 CEST
    ]
    assert len(due) == 7


def test_windows_already_open_get_no_time_to_book_email(patient, hair_protocol, receptionist):
    with clock("2026-03-17T12:00:00+00:00"):
        enrolment = services.enrol_patient(
            patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist
        )
    assert Reminder.objects.filter(session__enrolment=enrolment).count() == 5  # not sessions 1 and 2


@pytest.mark.parametrize("patient_fields", [{"reminder_consent": False}, {"email": ""}])
def test_no_reminders_without_consent_and_an_address(clinic, hair_protocol, receptionist, patient_fields):
    patient = PatientFactory(clinic=clinic, **patient_fields)
    enrolment = enrol(patient, hair_protocol, "2026-03-02", receptionist)
    assert enrolment.sessions.count() == 7
    assert not Reminder.objects.filter(session__enrolment=enrolment).exists()


def test_home_steps_get_a_morning_email_on_their_target_date(clinic, patient, receptionist):
    protocol = make_protocol(
        clinic, name="Home serum", steps=[step("Serum", "home", repeat=2, interval_days=3, duration_minutes=0)]
    )
    enrolment = enrol(patient, protocol, "2026-03-26", receptionist)
    assert sorted(Reminder.objects.filter(session__enrolment=enrolment).values_list("kind", "due_at")) == [
        (ReminderKind.HOME, utc(2026, 3, 29, 6, 0)),  # 08:00 CEST, the morning after the change
        (ReminderKind.HOME, utc(2026, 4, 1, 6, 0)),
    ]


def test_enrolment_checks_its_inputs_and_changes_nothing(clinic, patient, hair_protocol, receptionist, outsider):
    def attempt(**changes):
        arguments = {
            "patient": patient, "protocol": hair_protocol, "start_date": dt.date(2026, 3, 2), "by": receptionist,
            **changes,
        }
        with clock(BEFORE_ALL):
            return services.enrol_patient(**arguments)

    cases = [
        ({"clinician": receptionist}, "clinician"),
        ({"clinician": outsider}, "clinician"),
        ({"start_date": dt.date(2028, 3, 2)}, "start_date"),  # more than two years ahead
        ({"start_date": dt.date(2023, 3, 2)}, "start_date"),
        ({"patient": PatientFactory(clinic=outsider.clinic)}, "patient"),
        ({"protocol": make_protocol(outsider.clinic, name="Theirs")}, "protocol"),
    ]
    for changes, field in cases:
        with pytest.raises(ValidationError) as error:
            attempt(**changes)
        assert list(error.value.message_dict) == [field], changes
    hair_protocol.active = False
    hair_protocol.save()
    with pytest.raises(ValidationError) as error:
        attempt()
    assert list(error.value.message_dict) == ["protocol"]
    with pytest.raises(PermissionDenied):
        attempt(by=UserFactory(clinic=clinic, role=Role.RECEPTION, is_active=False))
    assert not Session.objects.exists()
    assert not Reminder.objects.exists()


def test_two_years_either_way_is_allowed(patient, hair_protocol, receptionist):
    assert enrol(patient, hair_protocol, "2028-02-20", receptionist).sessions.count() == 7
    # A second course of the same protocol for the same patient needs allow_concurrent (issue 13).
    second = enrol(patient, hair_protocol, "2024-02-21", receptionist, allow_concurrent=True)
    assert second.sessions.count() == 7
