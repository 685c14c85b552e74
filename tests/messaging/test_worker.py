"""The whole path with real parts: Celery beat and a 2-process worker
(separate processes, not eager), Redis, PostgreSQL and an SMTP server.
Reminders here are due now; the worker's beat scans every second."""

import datetime as dt
import re
import subprocess
import time

import pytest
from django.utils import timezone

from sessions.models import Reminder, ReminderStatus
from tests.messaging.conftest import book_due_now, book_many_due_now, free_port, parts, statuses, wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def all_sent(ids):
    return lambda: statuses(ids) == {ReminderStatus.SENT: len(ids)}


def report(smtp, ids, worker=None):
    def details():
        text = f"statuses: {dict(statuses(ids))}; emails: {len(smtp.snapshot())}"
        return text + ("\n" + worker.tail() if worker else "")

    return details


def test_due_reminders_are_delivered_once_with_all_parts_and_451s_retried(
    start_worker, smtp, clinic, quick_protocol, staff
):
    """Two patients with a reminder due now; the second one's mailbox
    answers 451 twice before it accepts."""
    receptionist, clinician = staff
    now = timezone.now()
    plain, busy = book_due_now(clinic, quick_protocol, 2, by=receptionist, practitioner=clinician, now=now)
    busy_address = Reminder.objects.get(pk=busy).session.patient.email
    smtp.replies = {busy_address: ["451 4.3.0 Try again later"] * 2}
    worker = start_worker()
    wait_until(
        all_sent([plain, busy]), timeout=30, what="both reminders sent", details=report(smtp, [plain, busy], worker)
    )
    time.sleep(2)  # two more scans: nothing more may arrive
    assert smtp.reminder_ids() == {plain: 1, busy: 1}

    message = next(m for m in smtp.snapshot() if m["X-Regimen-Reminder"] == str(plain))
    reminder = Reminder.objects.select_related("session").get(pk=plain)
    local = reminder.session.start.astimezone(clinic.tz)
    assert clinic.name in message["Subject"]
    found = parts(message)
    assert set(found) == {"text/plain", "text/html", "text/calendar"}
    for body in (found["text/plain"], found["text/html"]):
        assert clinic.name in body
        assert f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}" in body
    assert f"DTSTART:{reminder.session.start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in found["text/calendar"]
    assert (reminder.attempts, reminder.sent_at is not None) == (1, True)

    retried = Reminder.objects.get(pk=busy)
    assert retried.attempts == 3
    assert retried.last_error.count("451 4.3.0 Try again later") == 2
    assert smtp.data_commands == 4


def test_200_due_reminders_over_a_2_process_worker_arrive_exactly_once(start_worker, smtp, clinic, staff):
    receptionist, clinician = staff
    ids = book_many_due_now(clinic, 200, by=receptionist, practitioner=clinician, now=timezone.now())
    smtp.delay = 0.005
    worker = start_worker(REMINDER_BATCH_SIZE=25)
    wait_until(all_sent(ids), timeout=60, what="200 reminders sent", details=report(smtp, ids, worker))
    time.sleep(1.5)
    received = smtp.reminder_ids()
    assert set(received) == set(ids)
    assert max(received.values()) == 1, [pk for pk, n in received.items() if n > 1]
    assert len(smtp.snapshot()) == 200
    # Both pool processes took part, each batch of 25 over one SMTP connection.
    senders = set(
        re.findall(
            r"/(ForkPoolWorker-\d+)\] sessions.send_reminders\[[^]]+\]: reminder \d+: sent", worker.log_path.read_text()
        )
    )
    assert len(senders) == 2, senders
    assert len(smtp.peers) == 200 // 25, len(smtp.peers)


def test_a_worker_killed_mid_batch_and_restarted_delivers_everything(start_worker, smtp, clinic, staff):
    receptionist, clinician = staff
    ids = book_many_due_now(clinic, 60, by=receptionist, practitioner=clinician, now=timezone.now())
    smtp.delay = 0.05  # slow enough for the kill to land mid-batch
    first = start_worker(REMINDER_SENDING_TIMEOUT_SECONDS=5)
    wait_until(lambda: len(smtp.snapshot()) >= 15, timeout=30, what="the first 15 emails", details=first.tail)
    first.kill()  # SIGKILL to the main process, its 2 pool processes and beat at once
    delivered_before = len(smtp.snapshot())
    assert delivered_before < len(ids), "the batch finished before the kill; make the SMTP server slower"
    assert Reminder.objects.filter(pk__in=ids, status=ReminderStatus.SENDING).exists()

    second = start_worker(REMINDER_SENDING_TIMEOUT_SECONDS=5)
    wait_until(
        all_sent(ids), timeout=60, what="every reminder sent after the restart", details=report(smtp, ids, second)
    )
    time.sleep(1.5)
    received = smtp.reminder_ids()
    assert set(received) == set(ids), "a reminder was lost"
    duplicates = sum(n - 1 for n in received.values())
    # Only the messages in flight when the 2 pool processes died (one each
    # at most) may arrive twice.
    assert duplicates <= 2, received.most_common(5)
    assert all(n <= 2 for n in received.values())


def test_a_redis_restart_mid_run_loses_nothing(start_worker, smtp, clinic, staff, tmp_path):
    receptionist, clinician = staff
    ids = book_many_due_now(clinic, 40, by=receptionist, practitioner=clinician, now=timezone.now())
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    log = open(tmp_path / "redis.log", "ab")  # noqa: SIM115 - closed below
    redis_process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_redis(port)
        smtp.delay = 0.05
        worker = start_worker(broker=f"redis://127.0.0.1:{port}/0", REMINDER_SENDING_TIMEOUT_SECONDS=5)
        wait_until(lambda: len(smtp.snapshot()) >= 10, timeout=30, what="the first 10 emails", details=worker.tail)
        redis_process.kill()  # with --save "" the queued messages die with it
        redis_process.wait(timeout=10)
        time.sleep(1)
        redis_process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_redis(port)
        wait_until(
            all_sent(ids),
            timeout=60,
            what="every reminder sent after Redis came back",
            details=report(smtp, ids, worker),
        )
        time.sleep(1.5)
        received = smtp.reminder_ids()
        assert set(received) == set(ids), "a reminder was lost"
        assert max(received.values()) == 1, "no worker died, so nothing may arrive twice"
        assert "Connection to broker lost" in worker.log_path.read_text()
    finally:
        if redis_process.poll() is None:
            redis_process.kill()
            redis_process.wait(timeout=10)
        log.close()


def _wait_for_redis(port: int) -> None:
    import redis

    def up():
        try:
            return redis.Redis(port=port, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    wait_until(up, timeout=10, what=f"redis-server on port {port}")
