"""The outbox in this process (scan, send_due_reminders) against a real SMTP
server: what is sent when, what is voided, retries and failures."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from core.exceptions import Conflict
from messaging import outbox
from sessions import services
from sessions.models import NOTICE_KINDS, Reminder, ReminderKind, ReminderStatus
from sessions.patients.changes import update_patient
from tests.factories import PatientFactory
from tests.messaging.conftest import book_due_now, confirmations_delivered

UTC = dt.UTC
BERLIN_MONDAY_0900 = dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST, after the change on Sunday 29 March


def enrol_and_book(patient, protocol, start, *, receptionist, clinician, when):
    with time_machine.travel(when, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=when.astimezone(patient.clinic.tz).date(), by=receptionist
        )
        session = enrolment.sessions.get()
        session = services.book_session(session=session, start=start, practitioner=clinician, by=receptionist)
    confirmations_delivered(patient.clinic, when)
    return session


def rows(session):
    """The session's reminders (the notices about its bookings aside)."""
    return sorted(
        (r.kind, r.offset_hours, r.due_at, r.status)
        for r in Reminder.objects.filter(session=session).exclude(kind__in=NOTICE_KINDS).order_by("due_at")
    )


def test_dst_24h_reminder_goes_out_at_0700_utc_on_the_sunday(smtp, patient, quick_protocol, receptionist, clinician):
    session = enrol_and_book(
        patient, quick_protocol, BERLIN_MONDAY_0900, receptionist=receptionist, clinician=clinician,
        when=dt.datetime(2026, 3, 20, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    assert outbox.scan(now=dt.datetime(2026, 3, 27, 7, 0, tzinfo=UTC))["sent"] == 1  # the 72-hour one
    assert outbox.scan(now=dt.datetime(2026, 3, 29, 6, 59, 59, tzinfo=UTC))["sent"] == 0
    with time_machine.travel(dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC), tick=False):
        assert outbox.scan()["sent"] == 1
    day_before = Reminder.objects.get(session=session, offset_hours=24)
    # 24 elapsed hours before Monday 09:00 CEST is Sunday 09:00 CEST, 07:00 UTC
    # (not 08:00 UTC, which a local "day before at the same time" on the
    # Saturday's offset would give).
    assert day_before.due_at == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert day_before.sent_at == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert day_before.status == ReminderStatus.SENT
    assert len(smtp.messages) == 2
    assert "Monday 30 March 2026, 09:00" in smtp.messages[1]["Subject"]


def test_72h_reminder_never_sent_for_a_booking_23h_ahead_but_the_24h_one_is(
    smtp, patient, quick_protocol, receptionist, clinician
):
    booked_at = dt.datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    start = booked_at + dt.timedelta(hours=23)  # 07:00 UTC = 09:00 Berlin
    session = enrol_and_book(
        patient, quick_protocol, start, receptionist=receptionist, clinician=clinician, when=booked_at
    )
    assert outbox.scan(now=booked_at)["sent"] == 1
    for hour in range(1, 23):
        assert outbox.scan(now=booked_at + dt.timedelta(hours=hour))["claimed"] == 0
    assert [(kind, offset, status) for kind, offset, _, status in rows(session)] == [
        (ReminderKind.BOOKED, 24, ReminderStatus.SENT)
    ]
    assert len(smtp.messages) == 1
    assert "Tuesday 5 May 2026, 09:00" in smtp.messages[0]["Subject"]


def test_rebooking_voids_the_old_times_reminders_and_only_the_new_time_is_emailed(
    smtp, patient, quick_protocol, receptionist, clinician
):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    first = dt.datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # 10:00 Berlin
    session = enrol_and_book(
        patient, quick_protocol, first, receptionist=receptionist, clinician=clinician, when=booked_at
    )
    with time_machine.travel(booked_at + dt.timedelta(hours=1), tick=False):
        services.book_session(
            session=session, start=dt.datetime(2026, 6, 9, 12, 30, tzinfo=UTC), practitioner=clinician, by=receptionist
        )
    statuses = {(offset, due.day, status) for _, offset, due, status in rows(session)}
    assert statuses == {
        (72, 5, ReminderStatus.VOID), (24, 7, ReminderStatus.VOID),
        (72, 6, ReminderStatus.PENDING), (24, 8, ReminderStatus.PENDING),
    }  # fmt: skip
    for day in range(2, 10):
        outbox.scan(now=dt.datetime(2026, 6, day, 13, 0, tzinfo=UTC))
    moved, *reminders = smtp.messages
    assert "has moved to Tuesday 9 June 2026, 14:30" in moved["Subject"]
    assert len(reminders) == 2
    for message in reminders:
        assert "Tuesday 9 June 2026, 14:30" in message["Subject"]
        assert "10:00" not in message.get_body(("plain",)).get_content()


def test_cancellation_voids_its_reminders(smtp, patient, quick_protocol, receptionist, clinician):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    start = dt.datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
    session = enrol_and_book(
        patient, quick_protocol, start, receptionist=receptionist, clinician=clinician, when=booked_at
    )
    with time_machine.travel(booked_at + dt.timedelta(hours=1), tick=False):
        services.cancel_booking(session=session, by=receptionist)
    assert {status for *_, status in rows(session)} == {ReminderStatus.VOID}
    assert outbox.scan(now=booked_at + dt.timedelta(hours=1))["sent"] == 1  # the cancellation notice
    for day in range(2, 10):
        assert outbox.scan(now=dt.datetime(2026, 6, day, 13, 0, tzinfo=UTC))["claimed"] == 0
    [cancelled] = smtp.messages
    assert "is cancelled" in cancelled["Subject"]


def test_no_consent_no_email(smtp, clinic, quick_protocol, receptionist, clinician):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    start = dt.datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
    refused = PatientFactory(clinic=clinic, reminder_consent=False)
    no_address = PatientFactory(clinic=clinic, email="")
    later_withdrawn = PatientFactory(clinic=clinic)
    for offset, patient in enumerate((refused, no_address, later_withdrawn)):
        enrol_and_book(
            patient, quick_protocol, start + dt.timedelta(hours=offset), receptionist=receptionist,
            clinician=clinician, when=booked_at,
        )  # fmt: skip
    assert Reminder.objects.filter(session__patient__in=(refused, no_address)).count() == 0
    with time_machine.travel(booked_at + dt.timedelta(minutes=5), tick=False):
        update_patient(patient=later_withdrawn, data={"reminder_consent": False}, by=receptionist)
    assert set(Reminder.objects.exclude(kind__in=NOTICE_KINDS).values_list("status", flat=True)) == {
        ReminderStatus.VOID
    }
    assert outbox.scan(now=start + dt.timedelta(hours=5))["claimed"] == 0
    assert smtp.messages == []


def test_consent_withdrawn_after_the_claim_voids_at_send_time(smtp, patient, quick_protocol, receptionist, clinician):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    [claim] = outbox.claim_due(booked_at)
    # The service only voids pending rows; this one is already claimed.
    update_patient(patient=patient, data={"reminder_consent": False}, by=receptionist, now=booked_at)
    assert outbox.send_one(claim.reminder_id, claimed_at=claim.claimed_at, now=booked_at) == outbox.VOID
    reminder = Reminder.objects.get(pk=claim.reminder_id)
    assert reminder.status == ReminderStatus.VOID
    assert "consent" in reminder.last_error
    assert smtp.messages == []


def test_a_claim_token_is_used_once(smtp, patient, quick_protocol, receptionist, clinician):
    """A duplicated send message (the same claim twice) sends one email."""
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    [claim] = outbox.claim_due(booked_at)
    assert outbox.claim_due(booked_at) == []
    assert outbox.send_one(claim.reminder_id, claimed_at=claim.claimed_at, now=booked_at) == outbox.SENT
    assert outbox.send_one(claim.reminder_id, claimed_at=claim.claimed_at, now=booked_at) == outbox.SKIPPED
    assert len(smtp.messages) == 1


def test_a_claim_abandoned_by_a_dead_worker_is_released_after_the_timeout(
    smtp, settings, patient, quick_protocol, receptionist, clinician
):
    settings.REMINDER_SENDING_TIMEOUT_SECONDS = 300
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    [lost] = outbox.claim_due(booked_at)  # ... and the worker that claimed it dies
    assert outbox.scan(now=booked_at + dt.timedelta(seconds=299))["claimed"] == 0
    counts = outbox.scan(now=booked_at + dt.timedelta(seconds=301))
    assert (counts["released"], counts["sent"]) == (1, 1)
    # The dead worker's message, delivered late, finds its claim gone.
    assert outbox.send_one(lost.reminder_id, claimed_at=lost.claimed_at) == outbox.SKIPPED
    assert len(smtp.messages) == 1


def test_451_twice_then_accepted_is_one_delivery_after_three_attempts(
    smtp, settings, patient, quick_protocol, receptionist, clinician
):
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    smtp.replies = {patient.email: ["451 4.3.0 Mailbox busy, try again later"] * 2}
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    assert outbox.scan(now=booked_at)["retry"] == 1
    reminder = Reminder.objects.get(status=ReminderStatus.PENDING, kind=ReminderKind.BOOKED)
    assert (reminder.attempts, reminder.next_attempt_at) == (1, booked_at + dt.timedelta(seconds=60))
    assert outbox.scan(now=booked_at + dt.timedelta(seconds=59))["claimed"] == 0  # backing off
    assert outbox.scan(now=booked_at + dt.timedelta(seconds=60))["retry"] == 1
    reminder.refresh_from_db()
    assert (reminder.attempts, reminder.next_attempt_at) == (2, booked_at + dt.timedelta(seconds=180))
    assert outbox.scan(now=booked_at + dt.timedelta(seconds=179))["claimed"] == 0
    assert outbox.scan(now=booked_at + dt.timedelta(seconds=180))["sent"] == 1
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SENT
    assert reminder.attempts == 3
    assert reminder.last_error.count("451 4.3.0 Mailbox busy") == 2
    assert smtp.data_commands == 3
    assert len(smtp.messages) == 1


def test_an_unreachable_server_is_retried_until_the_last_attempt_then_failed(
    smtp, settings, patient, quick_protocol, receptionist, clinician
):
    from tests.messaging.conftest import free_port

    settings.EMAIL_PORT = free_port()  # nothing listens there: connection refused
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_RETRY_BASE_SECONDS = 10
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    outcomes = [outbox.scan(now=booked_at + dt.timedelta(minutes=n)) for n in range(4)]
    assert [(c["retry"], c["failed"]) for c in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    reminder = Reminder.objects.get(kind=ReminderKind.BOOKED)
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 3)
    assert "ConnectionRefusedError" in reminder.last_error


def test_550_fails_at_once_is_listed_and_a_manager_can_resend_it(
    smtp, client, patient, quick_protocol, receptionist, clinician, manager
):
    smtp.refuse = {"@bounce.example": "550 5.1.1 No such user here"}
    patient.email = "nobody@bounce.example"
    patient.save()
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    assert outbox.scan(now=booked_at)["failed"] == 1
    reminder = Reminder.objects.get(kind=ReminderKind.BOOKED)
    assert (reminder.status, reminder.attempts) == (ReminderStatus.FAILED, 1)
    assert "550 5.1.1 No such user here" in reminder.last_error
    assert smtp.messages == []

    client.force_login(manager)
    response = client.get("/api/v1/reminders/", {"status": "failed"})
    assert response.status_code == 200, response.content
    body = response.json()
    listed = body["results"] if isinstance(body, dict) else body
    assert [r["id"] for r in listed] == [reminder.pk]
    assert listed[0]["status"] == "failed"
    sent = client.get("/api/v1/reminders/", {"status": "sent"}).json()["results"]
    assert [r["kind"] for r in sent] == ["confirmation"]

    with pytest.raises(PermissionDenied):
        outbox.resend_reminder(reminder=reminder, by=receptionist)
    smtp.refuse = {}
    outbox.resend_reminder(reminder=reminder, by=manager, now=booked_at)
    with pytest.raises(Conflict):
        outbox.resend_reminder(reminder=reminder, by=manager, now=booked_at)
    assert outbox.scan(now=booked_at + dt.timedelta(minutes=1))["sent"] == 1
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 1)
    assert len(smtp.messages) == 1


def test_send_due_reminders_runs_one_scan_and_prints_counts(smtp, patient, quick_protocol, receptionist, clinician):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    enrol_and_book(
        patient, quick_protocol, booked_at + dt.timedelta(hours=6), receptionist=receptionist, clinician=clinician,
        when=booked_at,
    )  # fmt: skip
    out = io.StringIO()
    with time_machine.travel(booked_at + dt.timedelta(minutes=1), tick=False):
        call_command("send_due_reminders", stdout=out)
        call_command("send_due_reminders", stdout=out)
    first, second = out.getvalue().splitlines()
    assert "claimed 1" in first and "sent 1" in first
    assert "claimed 0" in second and "sent 0" in second
    assert len(smtp.messages) == 1


def test_after_an_outage_only_the_latest_due_reminder_of_a_booking_goes_out(
    smtp, patient, quick_protocol, receptionist, clinician
):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    start = dt.datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
    session = enrol_and_book(
        patient, quick_protocol, start, receptionist=receptionist, clinician=clinician, when=booked_at
    )
    # No scan ran for days; at 09:00 on the day both reminders are due.
    counts = outbox.scan(now=start - dt.timedelta(hours=1))
    assert (counts["sent"], counts["void"]) == (1, 1)
    assert {offset: status for _, offset, _, status in rows(session)} == {
        72: ReminderStatus.VOID,
        24: ReminderStatus.SENT,
    }
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_take_different_rows_without_waiting(clinic, quick_protocol, receptionist, clinician):
    """SKIP LOCKED: a second scan passes over rows a first one is claiming
    (its transaction still open) instead of waiting for them or taking them."""
    import threading

    from django.db import connection, transaction

    from tests.messaging.conftest import book_due_now

    now = timezone.now()
    ids = book_due_now(clinic, quick_protocol, 4, by=receptionist, practitioner=clinician, now=now)
    first_claimed, release, second = threading.Event(), threading.Event(), {}

    def first_scan():
        try:
            with transaction.atomic():
                second["first"] = outbox.claim_due(now, limit=2)
                first_claimed.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first_scan)
    thread.start()
    try:
        assert first_claimed.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # waiting would fail this test, not hang it
        second["second"] = outbox.claim_due(now, limit=4)
    finally:
        release.set()
        thread.join(10)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    taken_first = {c.reminder_id for c in second["first"]}
    taken_second = {c.reminder_id for c in second["second"]}
    assert len(taken_first) == 2 and len(taken_second) == 2
    assert taken_first | taken_second == set(ids)
    assert Reminder.objects.filter(status=ReminderStatus.SENDING).count() == 4


def test_a_scan_sends_its_batch_over_one_smtp_connection_and_reconnects_after_a_failure(
    smtp, clinic, quick_protocol, receptionist, clinician, settings
):
    booked_at = dt.datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    for n in range(4):
        patient = PatientFactory(clinic=clinic, email=f"p{n}@example.org", reminder_consent=True)
        enrol_and_book(
            patient, quick_protocol, booked_at + dt.timedelta(hours=6 + n), receptionist=receptionist,
            clinician=clinician, when=booked_at,
        )  # fmt: skip
    # The third patient's message is refused once (451): the connection is
    # dropped and the fourth goes over a fresh one.
    smtp.replies["p2@"] = ["451 try again later"]
    with time_machine.travel(booked_at + dt.timedelta(minutes=1), tick=False):
        counts = outbox.scan()
    assert (counts["sent"], counts["retry"]) == (3, 1)
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp.messages) == ["p0@example.org", "p1@example.org", "p3@example.org"]
    assert len(smtp.peers) == 2


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_a_slow_server_renews_its_claims_so_none_is_taken_back_and_sent_twice(
    smtp, clinic, quick_protocol, receptionist, clinician, settings
):
    """Four messages at 1.2 s each outlast a 3-second stale timeout: the
    batch renews the claims it has yet to send after a third of it, so a
    concurrent scan's release_stale never takes one back."""
    import threading
    import time

    from tests.messaging.conftest import book_due_now

    settings.REMINDER_SENDING_TIMEOUT_SECONDS = 3
    ids = book_due_now(clinic, quick_protocol, 4, by=receptionist, practitioner=clinician, now=timezone.now())
    smtp.delay = 1.2
    claims = outbox.claim_due(timezone.now(), limit=4)
    outcomes, released = {}, []

    def send():
        try:
            outcomes.update(outbox.send_batch(claims))
        finally:
            from django.db import connection

            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    while sender.is_alive():
        released.append(outbox.release_stale())
        time.sleep(0.2)
    sender.join()
    assert outcomes == dict.fromkeys(ids, outbox.SENT)
    assert sum(released) == 0
    assert smtp.reminder_ids() == dict.fromkeys(ids, 1)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("status", "attempts")) == {(ReminderStatus.SENT, 1)}
    assert len(smtp.peers) == 1


def test_a_broker_refusal_gives_back_only_the_batches_not_yet_queued(
    monkeypatch, smtp, clinic, quick_protocol, receptionist, clinician
):
    """tasks.enqueue sends one task per claim token. When the broker refuses
    one, the batches already queued keep their claims (their task will send
    them) and the rest are pending again for the next scan."""
    from messaging import tasks

    now = timezone.now()
    ids = book_due_now(clinic, quick_protocol, 4, by=receptionist, practitioner=clinician, now=now)
    first = outbox.claim_due(now, limit=2)
    later = now + dt.timedelta(seconds=1)
    second = outbox.claim_due(later, limit=2)
    assert {c.reminder_id for c in first + second} == set(ids)

    queued = []

    def delay(reminder_ids, claimed_at):
        if queued:
            raise ConnectionError("broker unreachable")
        queued.append(reminder_ids)

    monkeypatch.setattr(tasks.send_reminders, "delay", delay)
    with pytest.raises(ConnectionError):
        tasks.enqueue(first + second)
    statuses = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert queued == [[c.reminder_id for c in first]]
    assert {statuses[c.reminder_id] for c in first} == {ReminderStatus.SENDING}
    assert {statuses[c.reminder_id] for c in second} == {ReminderStatus.PENDING}


# --- Marks after each message, never one message ahead -------------------------------------------


def sent_statuses(ids: list[int]) -> dict[int, str]:
    """The rows' statuses as another connection sees them: what has committed."""
    import psycopg

    from tests.db import conninfo

    with psycopg.connect(**conninfo(), autocommit=True) as other:
        return dict(other.execute("SELECT id, status FROM treatment_sessions_reminder WHERE id = ANY(%s)", [ids]))


def mark_trigger(body: str):
    """A trigger on every `sent` mark, running `body` (PL/pgSQL) in PostgreSQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION on_mark() RETURNS trigger AS $$
            BEGIN {body} RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER on_mark BEFORE UPDATE ON treatment_sessions_reminder
            FOR EACH ROW WHEN (NEW.status = 'sent') EXECUTE FUNCTION on_mark();
        """)


@pytest.fixture
def marks_with(transactional_db):
    from django.db import connection

    yield mark_trigger
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS on_mark ON treatment_sessions_reminder; DROP FUNCTION IF EXISTS on_mark();")


@pytest.mark.django_db(transaction=True)
def test_each_message_goes_out_only_once_the_row_before_it_is_marked_sent(
    marks_with, smtp, clinic, quick_protocol, receptionist, clinician
):
    """Each mark takes 0.2 s in PostgreSQL (a trigger sleeps): when the
    server takes in a message, every message before it is `sent` in the
    database, so a worker dying at any moment leaves at most one delivered
    message unmarked."""
    ids = book_due_now(clinic, quick_protocol, 4, by=receptionist, practitioner=clinician, now=timezone.now())
    marks_with("PERFORM pg_sleep(0.2);")
    seen = []

    def check(envelope):
        delivered = [int(m["X-Regimen-Reminder"]) for m in smtp.snapshot()]
        seen.append((delivered, sent_statuses(delivered) if delivered else {}))

    smtp.on_data = check
    counts = outbox.scan()
    assert counts["sent"] == 4
    assert [len(delivered) for delivered, _ in seen] == [0, 1, 2, 3]
    for delivered, statuses in seen:
        assert statuses == dict.fromkeys(delivered, ReminderStatus.SENT)
    assert sent_statuses(ids) == dict.fromkeys(ids, ReminderStatus.SENT)


@pytest.mark.django_db(transaction=True)
def test_a_mark_that_fails_stops_the_batch_before_the_next_message_goes_out(
    marks_with, smtp, clinic, quick_protocol, receptionist, clinician
):
    """PostgreSQL refuses the first message's mark: the batch raises before
    the second message is sent. The rows stay `sending` for release_stale:
    the first message is the one allowed duplicate."""
    from django.db import DataError

    ids = book_due_now(clinic, quick_protocol, 3, by=receptionist, practitioner=clinician, now=timezone.now())
    marks_with("PERFORM 1 / 0;")  # division by zero
    claims = outbox.claim_due(timezone.now(), limit=3)
    with pytest.raises(DataError):
        outbox.send_batch(claims)
    assert len(smtp.snapshot()) == 1
    assert smtp.data_commands == 1
    assert sent_statuses(ids) == dict.fromkeys(ids, ReminderStatus.SENDING)


def test_an_email_that_cannot_be_built_fails_its_row_and_the_batch_goes_on(
    monkeypatch, smtp, clinic, quick_protocol, receptionist, clinician
):
    from messaging import emails

    ids = book_due_now(clinic, quick_protocol, 3, by=receptionist, practitioner=clinician, now=timezone.now())
    broken = ids[1]
    real = emails.build_email

    def build_email(reminder, **kwargs):
        if reminder.pk == broken:
            raise ValueError("a template bug")
        return real(reminder, **kwargs)

    monkeypatch.setattr(outbox, "build_email", build_email)
    counts = outbox.scan()
    assert (counts["sent"], counts["failed"]) == (2, 1)
    assert smtp.reminder_ids() == {ids[0]: 1, ids[2]: 1}
    row = Reminder.objects.get(pk=broken)
    assert row.status == ReminderStatus.FAILED
    assert "could not build the email: ValueError('a template bug')" in row.last_error


def test_a_failure_in_the_middle_of_a_message_drops_the_connection_without_waiting_for_the_server(
    monkeypatch, smtp, clinic, quick_protocol, receptionist, clinician, settings
):
    """The server has answered DATA and is reading the message when the
    network fails half-way through it: the socket is dropped (a QUIT would
    be read as part of the message, and the client would wait EMAIL_TIMEOUT
    for an answer that never comes), the row is retried and the next
    message goes over a fresh connection."""
    import smtplib
    import time

    settings.EMAIL_TIMEOUT = 3
    ids = book_due_now(clinic, quick_protocol, 2, by=receptionist, practitioner=clinician, now=timezone.now())
    real_send = smtplib.SMTP.send
    failures = []

    def send(self, data):
        if not failures and isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            failures.append(data)
            real_send(self, data[: len(data) // 2])
            raise ConnectionResetError("the network went away")
        return real_send(self, data)

    monkeypatch.setattr(smtplib.SMTP, "send", send)
    began = time.monotonic()
    counts = outbox.scan()
    assert time.monotonic() - began < settings.EMAIL_TIMEOUT  # no wait for an answer to a QUIT read as data
    assert (counts["sent"], counts["retry"]) == (1, 1)
    assert smtp.reminder_ids() == {ids[1]: 1}
    assert Reminder.objects.get(pk=ids[0]).status == ReminderStatus.PENDING
    assert len(smtp.peers) == 1  # the first connection never ended a message


def test_a_batch_reads_its_rows_once_whatever_their_number_and_kind(
    smtp, clinic, quick_protocol, hair_protocol, receptionist, clinician
):
    """The rows of a batch come with everything composing and checking read
    (outbox.BATCH_READS, a few columns of six tables) in one query: a column
    left out would cost a query per email here. What grows with the batch is
    the mark of each email, one UPDATE."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.messaging.conftest import book_due_now

    def scanned(day: int, count: int) -> tuple[int, int]:
        now = dt.datetime(2026, 6, day, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
        with time_machine.travel(now, tick=False):
            book_due_now(clinic, quick_protocol, count, by=receptionist, practitioner=clinician, now=now,
                         prefix=f"d{day}-")
        with time_machine.travel(now - dt.timedelta(days=1), tick=False):
            for index in range(count):  # enrolled the day before the first window opens: "time to book"
                patient = PatientFactory(clinic=clinic, email=f"w{day}-{index}@patients.example", reminder_consent=True)
                services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=now.date(), by=receptionist)
        with CaptureQueriesContext(connection) as queries:
            counts = outbox.scan(now=now)
        assert counts["sent"] == 2 * count, counts
        marks = [q for q in queries if q["sql"].startswith("UPDATE") and "'sent'" in q["sql"] and "sent_at" in q["sql"]]
        assert len(marks) == 2 * count
        return len(queries) - len(marks)

    scanned(1, 1)  # what a process does once
    assert scanned(2, 1) == scanned(3, 4)
    kinds = {m["X-Regimen-Reminder"]: m for m in smtp.messages}
    assert len(kinds) == 12
    assert {Reminder.objects.get(pk=pk).kind for pk in kinds} == {ReminderKind.BOOKED, ReminderKind.WINDOW_OPEN}
