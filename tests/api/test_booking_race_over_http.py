"""Ten receptionists book one practitioner's slot at the same instant, over
real HTTP against a live server: the database's exclusion constraint lets
exactly one win; the other nine get 409, never a 500 (SPEC §4)."""

import datetime as dt
import threading
import zoneinfo

import pytest
import requests
from django.utils import timezone

from clinics.models import Role
from clinics.tokens import issue_token
from sessions import services
from sessions.models import Session, SessionStatus
from tests.factories import ClinicFactory, PatientFactory, UserFactory, make_protocol, step

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_bookings_of_one_slot(live_server):
    clinic = ClinicFactory(slug="race", timezone="Europe/Berlin")
    desk = UserFactory(clinic=clinic, role=Role.RECEPTION)
    clinician = UserFactory(clinic=clinic, role=Role.CLINICIAN)
    protocol = make_protocol(
        clinic, steps=[step("Injection", interval_days=7, window_after_days=14, duration_minutes=30)], name="Race"
    )
    today = timezone.now().astimezone(BERLIN).date()
    sessions = []
    for _ in range(10):
        enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=today + dt.timedelta(days=1), by=desk
        )
        sessions.append(enrolment.sessions.get())
    slot = f"{today + dt.timedelta(days=8)}T10:00:00"  # clinic-local, inside every window
    token = issue_token(desk).key
    barrier = threading.Barrier(len(sessions))
    statuses: list[int] = []
    lock = threading.Lock()

    def book(session_id: int) -> None:
        barrier.wait(timeout=30)
        answer = requests.post(
            f"{live_server.url}/api/v1/sessions/{session_id}/book/",
            json={"start": slot, "practitioner": clinician.pk},
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=book, args=(s.pk,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert sorted(statuses) == [200] + [409] * 9
    booked = Session.objects.filter(practitioner=clinician, status=SessionStatus.BOOKED)
    assert booked.count() == 1
    assert Session.objects.filter(status=SessionStatus.PLANNED, pk__in=[s.pk for s in sessions]).count() == 9
