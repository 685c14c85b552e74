"""SPEC §14: /healthz (the process) and /readyz (database, broker, the beat's
last scan, the outbox backlog) answer JSON."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from core.health import last_beat
from messaging.tasks import scan_due_reminders
from sessions.models import Reminder, ReminderStatus

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def booked_session_with_reminders(patient, hair_protocol, receptionist, clinician):
    from sessions import services
    from tests.api.conftest import at

    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        enrolment = services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=NOW.date(),
                                           by=receptionist)
        session = enrolment.sessions.get(sequence=2)
        return services.book_session(session=session, start=at(session.target_date, 10), practitioner=clinician,
                                     by=receptionist)


def test_healthz_answers_without_touching_anything(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_readyz_with_everything_up(client, db):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["beat"] == {**body["checks"]["beat"], "ok": True, "last_scan": None}
    assert body["checks"]["outbox"]["backlog"] == 0


def test_readyz_with_the_broker_down_is_503_naming_it(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False and "error" in body["checks"]["broker"]
    assert body["checks"]["database"]["ok"] is True


def test_readyz_reports_the_beats_last_scan_and_goes_stale(client, db):
    with time_machine.travel(NOW, tick=False):
        scan_due_reminders()
        assert last_beat() == NOW
        beat = client.get("/readyz").json()["checks"]["beat"]
        assert beat["ok"] and beat["last_scan"] == NOW.isoformat()
    later = NOW + dt.timedelta(seconds=settings.BEAT_STALE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["beat"]["ok"] is False


def test_readyz_reports_the_outbox_backlog_and_its_oldest_row(client, booked_session_with_reminders):
    pending = Reminder.objects.filter(session=booked_session_with_reminders, status=ReminderStatus.PENDING)
    dues = sorted(pending.values_list("due_at", flat=True))
    assert len(dues) >= 2
    later = dues[-1] + dt.timedelta(hours=1)
    every_due = sorted(
        Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=later).values_list("due_at", flat=True)
    )
    assert len(every_due) > len(dues) - 1
    with time_machine.travel(later, tick=False):
        outbox = client.get("/readyz").json()["checks"]["outbox"]
    assert outbox["backlog"] == len(every_due)
    assert outbox["oldest_due"] == every_due[0].isoformat()
    assert outbox["oldest_waited_seconds"] == (later - every_due[0]).total_seconds() and "warning" in outbox
