"""Reminder throughput with 1, 2 and 4 Celery worker processes (SPEC §15):
the same due reminders in the benchmark's big clinic, sent through beat, the
scan task and the worker pool to a local SMTP server in its own process.
Writes the table between the worker markers of docs/benchmarks.md.

    python bench/workers.py       # after make bench made the data (same BENCH_SCALE)
"""

import os
import subprocess
import sys
import time
import uuid

import run as bench
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from clinics.models import Clinic
from sessions.models import Reminder, ReminderStatus

COUNT = int(os.environ.get("BENCH_WORKER_REMINDERS", "1200"))
START_MARK, END_MARK = "<!-- bench:workers -->", "<!-- /bench:workers -->"


def measure(clinic: Clinic, sessions, processes: int, run: int, runs: int, smtp_port: int) -> tuple[float, float]:
    """Seconds from the worker's start until every row is sent, and from the
    first email to the last (the sending itself, without the worker's boot
    and the wait for beat's first scan)."""
    planted = [r.pk for r in bench.plant(clinic, sessions, run, runs)]
    env = {
        **os.environ,
        "DATABASE_URL": bench.DATABASE_URL,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "REMINDER_SCAN_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = bench.ROOT / "var" / f"bench-worker-{processes}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--schedule",
        str(log.with_suffix(".schedule")), "--concurrency", str(processes), "--pool", "prefork",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING",
        "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with open(log, "wb") as out:
        worker = subprocess.Popen(command, cwd=bench.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        began = time.perf_counter()
        deadline = began + 600
        while time.perf_counter() < deadline:
            done = Reminder.objects.filter(pk__in=planted).exclude(status__in=(ReminderStatus.PENDING,
                                                                               ReminderStatus.SENDING)).count()
            if done == len(planted):
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - began
        sent = Reminder.objects.filter(pk__in=planted, status=ReminderStatus.SENT)
        assert sent.count() == len(planted), f"{sent.count()} of {len(planted)} sent; see {log}"
        span = sent.aggregate(first=Min("sent_at"), last=Max("sent_at"))
        return elapsed, (span["last"] - span["first"]).total_seconds()
    finally:
        os.killpg(worker.pid, 9)
        worker.wait(10)
        connection.close()


def main() -> int:
    clinic = Clinic.objects.get(slug=f"bench-{bench.BIG}")
    sessions = bench.due_reminder_sessions(clinic, COUNT)
    process, port = bench.smtp_server()
    rows = []
    try:
        for run, processes in enumerate((1, 2, 4)):
            elapsed, sending = measure(clinic, sessions, processes, run, 3, port)
            rows.append((processes, elapsed, sending))
            print(f"{processes} process(es): {len(sessions)} reminders in {elapsed:.1f} s, "
                  f"sending {sending:.1f} s", flush=True)
    finally:
        process.terminate()
        process.wait(10)
    lines = [
        START_MARK,
        f"{len(sessions)} due reminders in batches of {settings.REMINDER_BATCH_SIZE}, sent by a Celery worker (beat scanning every second) "
        f"to one aiosmtpd process, PostgreSQL, the worker and aiosmtpd sharing the machine's "
        f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end. *Wall*: from the worker's "
        "start until every row is `sent`; *sending*: from the first email to the last.",
        "",
        "| worker processes | wall s | sending s | emails/s while sending |",
        "|---|---|---|---|",
        *(f"| {n} | {wall:.1f} | {sending:.1f} | {len(sessions) / sending:.0f} |" for n, wall, sending in rows),
        END_MARK,
    ]
    text = bench.DOC.read_text()
    start, end = text.index(START_MARK), text.index(END_MARK) + len(END_MARK)
    bench.DOC.write_text(text[:start] + "\n".join(lines) + text[end:])
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
