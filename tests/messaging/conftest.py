"""Real parts for the reminder tests: an SMTP server (aiosmtpd) in this
process, Redis, and Celery worker processes started and always stopped here.

Every wait has a timeout and fails loudly, with what arrived so far and the
tail of the worker's log."""

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.db import connection, transaction

from clinics.models import Role
from core.timezones import at_local
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import PatientFactory, UserFactory, make_protocol, step

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, details: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    if predicate():
        return
    pytest.fail(f"Timed out after {timeout:.0f}s waiting for {what}.\n{details()}", pytrace=False)


# --- SMTP ----------------------------------------------------------------------------------------


@dataclass
class Inbox:
    """The SMTP server's behaviour and what it received.

    `delay` slows every DATA reply; `replies` maps a piece of a recipient's
    address to the next DATA replies to give them instead of accepting (e.g.
    ["451 ..."] * 2); `refuse` maps one to an RCPT reply (e.g. "550 ...");
    `on_data`, if set, is called with each message's envelope once its data
    has ended, before the server answers (in the server's thread)."""

    messages: list = field(default_factory=list)
    raw: list = field(default_factory=list)  # each accepted message's bytes, as they arrived
    delay: float = 0.0
    replies: dict = field(default_factory=dict)
    refuse: dict = field(default_factory=dict)
    on_data: Callable | None = None
    data_commands: int = 0
    peers: set = field(default_factory=set)  # one (host, port) per SMTP connection that sent DATA
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        for needle, reply in self.refuse.items():
            if needle in address:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.on_data:
            self.on_data(envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.data_commands += 1
            self.peers.add(session.peer)
            for needle, replies in self.replies.items():
                if replies and any(needle in rcpt for rcpt in envelope.rcpt_tos):
                    return replies.pop(0)
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.raw.append(envelope.original_content)
        return "250 Message accepted for delivery"

    # Reading what arrived ------------------------------------------------------------------------

    def snapshot(self) -> list:
        with self.lock:
            return list(self.messages)

    def reminder_ids(self) -> Counter:
        return Counter(int(m["X-Regimen-Reminder"]) for m in self.snapshot())

    def to(self, address: str) -> list:
        return [m for m in self.snapshot() if address in str(m["To"])]

    def wait_for(self, count: int, *, timeout: float = 20, details: Callable[[], str] = str) -> list:
        wait_until(
            lambda: len(self.snapshot()) >= count,
            timeout=timeout,
            what=f"{count} email(s), got {len(self.snapshot())}",
            details=details,
        )
        return self.snapshot()


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free port of 127.0.0.1; Django's SMTP backend
    points at it for this test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def parts(message) -> dict:
    """content type -> decoded content, for every leaf part."""
    found = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        found[part.get_content_type()] = part.get_content()
    return found


# --- Data ----------------------------------------------------------------------------------------

QUICK_STEPS = [step("Injection", repeat=1, interval_days=0, window_after_days=30, duration_minutes=15)]


@pytest.fixture
def quick_protocol(clinic):
    """One bookable 15-minute treatment, window open for 30 days from the start."""
    return make_protocol(clinic, steps=QUICK_STEPS, name="Scalp secretome")


def quarter_hours(clinic, *, after: dt.datetime, until: dt.datetime):
    """Quarter-hour starts in (after, until) inside the clinic's 08:00–20:00
    (ClinicFactory's hours), in order."""
    moment = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=15 - after.minute % 15)
    while moment < until:
        local = moment.astimezone(clinic.tz)
        if dt.time(8) <= local.time() <= dt.time(19, 45):
            yield moment
        moment += dt.timedelta(minutes=15)


def book_due_now(clinic, protocol, count: int, *, by, practitioner, now: dt.datetime, prefix="p") -> list[int]:
    """`count` patients, each with a session booked less than the clinic's
    smallest reminder offset ahead: each gets one reminder, due at once (the
    last one before the session, SPEC §5). Returns the reminder ids."""
    horizon = now + dt.timedelta(hours=min(clinic.reminder_offsets_hours) - 1)
    starts = list(quarter_hours(clinic, after=now + dt.timedelta(minutes=30), until=horizon))
    assert len(starts) >= count, "not enough free quarter-hours before the reminder horizon"
    today = now.astimezone(clinic.tz).date()
    for index, start in zip(range(count), starts, strict=False):
        patient = PatientFactory(clinic=clinic, email=f"{prefix}{index}@patients.example")
        enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=today, by=by)
        services.book_session(session=enrolment.sessions.get(), start=start, practitioner=practitioner, by=by)
    confirmations_delivered(clinic, now)
    return due_ids(clinic, now, count)


DAILY = 10


def book_many_due_now(clinic, count: int, *, by, practitioner, now: dt.datetime) -> list[int]:
    """`count` booked sessions whose one reminder each is due at once: patients
    on a course of DAILY sessions (days 1..DAILY), each patient at their own
    quarter-hour of the morning, every session booked within the clinic's
    reminder offset (set here to two weeks)."""
    clinic.reminder_offsets_hours = [24 * 14]
    clinic.save(update_fields=["reminder_offsets_hours"])
    protocol = make_protocol(
        clinic,
        steps=[step("Daily infusion", repeat=DAILY, interval_days=1, anchor="start", duration_minutes=15)],
        name="Daily course",
    )
    today = now.astimezone(clinic.tz).date()
    patients = -(-count // DAILY)
    assert patients <= 40, "the morning has 40 quarter-hours from 08:00"
    # One commit for the lot (the services nest as savepoints): the worker
    # sees all or nothing, and the setup is not a thousand fsyncs long.
    with transaction.atomic():
        for index in range(patients):
            patient = PatientFactory(clinic=clinic, email=f"daily{index}@patients.example")
            enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=today, by=by)
            wall = (dt.datetime.combine(today, dt.time(8)) + dt.timedelta(minutes=15 * index)).time()
            for session in list(enrolment.sessions.order_by("sequence"))[: count - index * DAILY]:
                start = at_local(session.target_date, wall, clinic.tz)
                services.book_session(session=session, start=start, practitioner=practitioner, by=by)
        confirmations_delivered(clinic, now)
    return due_ids(clinic, now, count)


def confirmations_delivered(clinic, when: dt.datetime) -> None:
    """Booking plans a confirmation, due at once (SPEC §13; its own tests are
    in test_notices.py). Tests about the reminders that follow count it as
    delivered at booking, so what they count is the reminders."""
    Reminder.objects.filter(clinic=clinic, kind=ReminderKind.CONFIRMATION, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.SENT, sent_at=when
    )


def due_ids(clinic, now: dt.datetime, count: int) -> list[int]:
    ids = list(
        Reminder.objects.filter(clinic=clinic, status=ReminderStatus.PENDING, due_at__lte=now + dt.timedelta(seconds=5))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == count
    return ids


# --- Redis and the worker ------------------------------------------------------------------------

CELERY_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


def clean_broker(url: str) -> None:
    client = redis.Redis.from_url(url)
    client.delete(*CELERY_KEYS)
    for key in client.scan_iter("_kombu.binding.*"):
        client.delete(key)


@pytest.fixture
def redis_url():
    """The test Redis (REDIS_URL). Unreachable is a failure, never a skip."""
    url = django_settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.fail(f"The Celery tests need Redis; the broker is {url!r}. Set REDIS_URL.", pytrace=False)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {url} is unreachable: {error}", pytrace=False)
    clean_broker(url)
    yield url
    clean_broker(url)


class Worker:
    """A `celery worker --beat` process group running against the test database."""

    def __init__(self, env: dict, log_path: Path, schedule: Path):
        self.log_path = log_path
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--schedule", str(schedule),
            "--concurrency", "2", "--pool", "prefork", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"reminders-test-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "--- worker log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(
            lambda: self.process.poll() is not None or b" ready." in self.log_path.read_bytes(),
            timeout=timeout,
            what="the Celery worker to start",
            details=self.tail,
        )
        if self.process.poll() is not None:
            pytest.fail(f"The Celery worker exited with {self.process.returncode}.\n{self.tail()}", pytrace=False)

    def kill(self) -> None:
        """SIGKILL the whole group (main process, pool processes, beat) at once."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reap_group()

    def stop(self) -> None:
        # The test is over and the rows are its record: nothing needs a
        # graceful shutdown, and a killed group cannot linger.
        self.kill()
        self.log.close()

    def _reap_group(self) -> None:
        # Pool processes orphaned by a killed parent must not outlive the test.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            time.sleep(0.1)


from tests.db import database_url  # noqa: E402  (re-exported for the worker tests)


@pytest.fixture
def start_worker(transactional_db, smtp, redis_url, tmp_path):
    """Start real Celery workers (2 prefork processes plus beat, scanning
    every second) on the test database, the test SMTP server and Redis.
    Every worker started is stopped at the end, whatever happened."""
    workers: list[Worker] = []

    def start(*, broker: str | None = None, **overrides) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker or redis_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_TIMEOUT": "2",
            "REGIMEN_VAR_DIR": str(tmp_path / "var"),
            "REMINDER_SCAN_SECONDS": "1",
            "REMINDER_RETRY_BASE_SECONDS": "0",
            "REMINDER_SENDING_TIMEOUT_SECONDS": "30",
            "PYTHONUNBUFFERED": "1",
            **{k: str(v) for k, v in overrides.items()},
        }
        number = len(workers) + 1
        worker = Worker(env, tmp_path / f"worker{number}.log", tmp_path / f"beat{number}")
        workers.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
        # The worker's connections must be gone before the test database is
        # flushed and, at the end of the run, dropped.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )


@pytest.fixture
def staff(clinic):
    """Reception books; a clinician treats."""
    return (
        UserFactory(clinic=clinic, role=Role.RECEPTION, username="desk"),
        UserFactory(clinic=clinic, role=Role.CLINICIAN, username="doc"),
    )


def statuses(ids) -> Counter:
    return Counter(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True))
