"""Notices with every real part (SPEC §13): a Celery worker with beat in its
own processes, Redis, PostgreSQL and an SMTP server. Staff book, rebook and
cancel in this process; the patient's mailbox receives the confirmation, the
moved notice and the cancellation, one each, with one calendar entry."""

import datetime as dt
import time

import icalendar
import pytest
from django.utils import timezone

from sessions import services
from sessions.models import Reminder, ReminderKind
from tests.messaging.conftest import parts, quarter_hours, wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_book_rebook_cancel_each_reach_the_patient_once_and_update_one_calendar_entry(
    start_worker, smtp, clinic, patient, quick_protocol, staff
):
    receptionist, clinician = staff
    now = timezone.now()
    today = now.astimezone(clinic.tz).date()
    # Two and three days ahead: no reminder falls due during the test.
    first, second = (
        next(quarter_hours(clinic, after=now + dt.timedelta(days=d), until=now + dt.timedelta(days=d + 1)))
        for d in (2, 3)
    )
    worker = start_worker()
    enrolment = services.enrol_patient(patient=patient, protocol=quick_protocol, start_date=today, by=receptionist)
    session = enrolment.sessions.get()

    def details():
        rows = list(Reminder.objects.values_list("kind", "status", "due_at", "last_error"))
        return f"rows: {rows}\n{worker.tail()}"

    def arrived(count):
        smtp.wait_for(count, timeout=30, details=details)
        return smtp.snapshot()[count - 1]

    services.book_session(session=session, start=first, practitioner=clinician, by=receptionist)
    confirmation = arrived(1)
    services.book_session(session=session, start=second, practitioner=clinician, by=receptionist)
    moved = arrived(2)
    services.cancel_booking(session=session, by=receptionist)
    cancelled = arrived(3)
    time.sleep(2)  # two more scans: nothing more may arrive
    assert len(smtp.snapshot()) == 3

    kinds = [Reminder.objects.get(pk=int(m["X-Regimen-Reminder"])).kind for m in (confirmation, moved, cancelled)]
    assert kinds == [ReminderKind.CONFIRMATION, ReminderKind.MOVED, ReminderKind.CANCELLED]
    events = [icalendar.Calendar.from_ical(parts(m)["text/calendar"]) for m in (confirmation, moved, cancelled)]
    assert [cal["METHOD"] for cal in events] == ["PUBLISH", "PUBLISH", "CANCEL"]
    vevents = [cal.walk("VEVENT")[0] for cal in events]
    assert len({str(e["UID"]) for e in vevents}) == 1
    assert [e["SEQUENCE"] for e in vevents] == [1, 2, 3]
    assert [str(e["STATUS"]) for e in vevents] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert [e.decoded("DTSTART") for e in vevents] == [first, second, second]
    for message in (confirmation, moved, cancelled):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    wait_until(
        lambda: not Reminder.objects.filter(kind__in=kinds, status__in=("pending", "sending")).exists(),
        timeout=10,
        what="every notice marked",
    )
