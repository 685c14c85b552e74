import datetime as dt

import pytest
import time_machine

from clinics.models import Closure, Role
from sessions import services
from tests.factories import PatientFactory, RoomFactory, UserFactory, make_protocol

SUNDAY = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def history_of(clinic, patient, *, clinician, receptionist):
    """An enrolment with a completed session (outcomes, an adverse event), a
    no-show (a deviation, a missed reminder) and booked reminders."""
    protocol = make_protocol(clinic)
    room = RoomFactory(clinic=clinic, name=f"Room of {clinic.slug}")
    Closure.objects.create(clinic=clinic, date=dt.date(2026, 12, 25), reason="Christmas Day")
    first_start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=clinic.tz)
    second_start = dt.datetime(2026, 3, 16, 10, 0, tzinfo=clinic.tz)
    with time_machine.travel(SUNDAY, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=dt.date(2026, 3, 2), by=receptionist, clinician=clinician
        )
        first, second = enrolment.sessions.order_by("sequence")[:2]
        services.book_session(session=first, start=first_start, practitioner=clinician, room=room, by=receptionist)
        services.book_session(session=second, start=second_start, practitioner=clinician, room=room, by=receptionist)
    with time_machine.travel(first_start + dt.timedelta(hours=1), tick=False):
        services.complete_session(
            session=first, by=clinician, outcomes=[{"measure": "hair_density", "value": 100}],
            adverse_events=[{"description": "Erythema", "severity": "mild", "related_to_treatment": "yes"}],
        )
    with time_machine.travel(second_start + dt.timedelta(hours=1), tick=False):
        services.mark_no_show(session=second, by=receptionist, reason="Did not come")
    return enrolment


@pytest.fixture
def clinic_history(clinic, patient, clinician, receptionist):
    return history_of(clinic, patient, clinician=clinician, receptionist=receptionist)


@pytest.fixture
def other_history(other_clinic, outsider):
    patient = PatientFactory(clinic=other_clinic, first_name="Olga", last_name="Otherclinic")
    clinician = UserFactory(clinic=other_clinic, role=Role.CLINICIAN, username="oscar")
    reception = UserFactory(clinic=other_clinic, role=Role.RECEPTION, username="orla")
    return history_of(other_clinic, patient, clinician=clinician, receptionist=reception)


@pytest.fixture
def admin_manager(manager):
    """The clinic's manager, allowed into the admin (create_staff sets is_staff for managers)."""
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    return manager
