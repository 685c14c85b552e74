"""`make load`: the product under 50 simulated staff and 200 patients following
their emails' links for 5 minutes (SPEC §15, §18).

Everything on loopback: a fresh PostgreSQL database (LOAD_DATABASE_URL,
default regimen_load) with a generated clinic, gunicorn with 4 workers, a
Celery worker with beat (scanning every 5 s), a counting SMTP server
(bench/smtp_counter.py) and Locust headless (bench/locustfile.py). Afterwards
it waits for the due reminders to go out, then checks: no 5xx, no double
booking (a query over every practitioner, room and patient), no reminder
delivered twice. Writes the numbers between the load markers of
docs/benchmarks.md; exits 1 when a check fails.

    make load                                  # 50 staff + 200 patients, 5 minutes
    LOAD_USERS=10 LOAD_PATIENTS=40 LOAD_TIME=1m make load       # a quick run

The patients (bench/locustfile.py, Patient) open links made with the
server's key by bench/patient_links.py: the confirm page of a booking ("I'll
come") and the self-booking page (pick a time). All of them come from
127.0.0.1, so the per-address limit of patient links is lifted for the run
(PATIENT_LINK_RATE_PER_MINUTE); tests/messaging/test_self_booking.py tests it.
"""

import csv
import datetime as dt
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import zoneinfo
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("LOAD_USERS", "50"))
PATIENTS = int(os.environ.get("LOAD_PATIENTS", "200"))
RUN_TIME = os.environ.get("LOAD_TIME", "5m")
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/regimen_load")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
PRACTITIONERS = 20
OUT = ROOT / "var" / "load"
DOC = ROOT / "docs" / "benchmarks.md"
START_MARK, END_MARK = "<!-- load:results -->", "<!-- /load:results -->"

DOUBLE_BOOKINGS = """
SELECT count(*) FROM treatment_sessions_session a JOIN treatment_sessions_session b
  ON a.id < b.id
 AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id OR a.patient_id = b.patient_id)
 AND tstzrange(a.start, a."end", '[)') && tstzrange(b.start, b."end", '[)')
WHERE a.status IN ('booked', 'completed') AND b.status IN ('booked', 'completed')
  AND a.start IS NOT NULL AND b.start IS NOT NULL
"""


ZONES = ["Pacific/Auckland", "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai", "Asia/Bangkok", "Asia/Kolkata",
         "Asia/Dubai", "Europe/Moscow", "Europe/Berlin", "Europe/London", "Atlantic/Azores", "America/Sao_Paulo",
         "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu"]


def afternoon_zone() -> str:
    """The zone of ZONES whose wall clock is nearest 13:30 now."""
    now = dt.datetime.now(dt.UTC)

    def distance(name: str) -> float:
        local = now.astimezone(zoneinfo.ZoneInfo(name))
        return abs(local.hour + local.minute / 60 - 13.5)

    return min(ZONES, key=distance)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start on port {port}")


def warm_up(port: int, timeout: float = 120) -> None:
    """Until gunicorn's workers answer: the port is bound before they have
    booted, and the first requests would measure their start-up."""
    import urllib.error
    import urllib.request

    deadline, answered = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and answered < 8:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/protocols/", timeout=30)
        except urllib.error.HTTPError:
            answered += 1  # 401: a worker answered
        except OSError:
            time.sleep(0.5)


def fresh_database(env: dict) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(DATABASE_URL)
    with psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], dbname="postgres",
                         autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "generate_load", "--patients", "2000", "--sessions", "15000", "--slug", "load",
                    "--practitioners", str(PRACTITIONERS), f"--password={env['LOAD_PASSWORD']}",
                    "--timezone", env["LOAD_ZONE"], "--open-weekdays", "0123456"],
                   cwd=ROOT, env=env, check=True)
    # Staff log in once a day; 50 logins hashing their passwords at the same
    # second would measure PBKDF2, not the product. Each gets a token up front.
    import hashlib
    import json

    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://")) as conn:
        tokens = {}
        for user_id, username in conn.execute("SELECT id, username FROM clinics_user").fetchall():
            tokens[username] = secrets.token_hex(20)
            key = tokens[username]  # stored hashed, as clinics.tokens.issue_token does
            conn.execute("INSERT INTO clinics_apitoken (user_id, prefix, digest, created, user_agent) "
                         "VALUES (%s, %s, %s, now(), '')",
                         [user_id, key[:8], hashlib.sha256(key.encode()).hexdigest()])
    (OUT / "tokens.json").write_text(json.dumps(tokens))


def start(command: list[str], env: dict, log: str) -> subprocess.Popen:
    handle = open(OUT / log, "wb")  # noqa: SIM115 - the process owns it until the end of the run
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def query(env: dict, sql: str) -> int:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://")) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    smtp_port, web_port = free_port(), free_port()
    delivered = OUT / "delivered.txt"
    delivered.touch()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "false",
        "REGIMEN_DEMO": "true",  # generate_load is a demo command; production settings leave the app out
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "REMINDER_SCAN_SECONDS": "5",
        "REGIMEN_VAR_DIR": str(OUT / "var"),
        "LOAD_PASSWORD": secrets.token_urlsafe(16),
        "LOAD_PRACTITIONERS": str(PRACTITIONERS),
        "LOAD_TOKENS": str(OUT / "tokens.json"),
        "PYTHONUNBUFFERED": "1",
        "LOAD_PATIENTS": str(PATIENTS),
        "LOAD_PATIENT_LINKS": str(OUT / "patient_links.json"),
        "PATIENT_LINK_RATE_PER_MINUTE": "1000000",
    }
    # The clinic opens every day, in a zone where it is early afternoon now,
    # whatever the day and hour of the run: the day's first visits have begun
    # (clinicians complete them) and the rest lie ahead (reception books and
    # rebooks).
    env["LOAD_ZONE"] = afternoon_zone()
    env["LOAD_TODAY"] = str(dt.datetime.now(zoneinfo.ZoneInfo(env["LOAD_ZONE"])).date())
    began = time.perf_counter()
    fresh_database(env)
    subprocess.run([sys.executable, "bench/patient_links.py", env["LOAD_PATIENT_LINKS"], str(2 * PATIENTS)],
                   cwd=ROOT, env=env, check=True)
    print(f"data ready in {time.perf_counter() - began:.0f} s (clinic in {env['LOAD_ZONE']})", flush=True)
    processes = [
        start([sys.executable, "bench/smtp_counter.py", str(smtp_port), str(delivered)], env, "smtp.log"),
        start([sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "4", "--bind",
               f"127.0.0.1:{web_port}", "--access-logfile", "-"], env, "gunicorn.log"),
        start([sys.executable, "-m", "celery", "-A", "config", "worker", "--beat", "--schedule",
               str(OUT / "beat-schedule"), "--concurrency", "2", "--loglevel", "INFO"], env, "celery.log"),
    ]
    try:
        wait_for_port(smtp_port, "the SMTP server")
        wait_for_port(web_port, "gunicorn")
        warm_up(web_port)
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", "bench/locustfile.py", "--headless", "--users", str(USERS + PATIENTS),
             "--spawn-rate", "25", "--run-time", RUN_TIME, "--host", f"http://127.0.0.1:{web_port}",
             "--csv", str(OUT / "locust"), "--only-summary", "--exit-code-on-error", "0"],
            cwd=ROOT, env=env,
        )
        # Let the outbox catch up with what the run booked.
        deadline = time.monotonic() + 120
        due_sql = ("SELECT count(*) FROM treatment_sessions_reminder WHERE status IN ('pending', 'sending') "
                   "AND due_at <= now() - interval '10 seconds'")
        while time.monotonic() < deadline and query(env, due_sql):
            time.sleep(2)
    finally:
        for process in reversed(processes):
            stop(process)
    return report(env, locust.returncode)


def report(env: dict, locust_code: int) -> int:
    with open(OUT / "locust_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    server_errors = unreachable = 0
    if (OUT / "locust_failures.csv").exists():
        with open(OUT / "locust_failures.csv") as handle:
            for row in csv.DictReader(handle):
                status = re.search(r"CatchResponseError\('(\d{3}):", row["Error"])
                if status is None:
                    unreachable += int(row["Occurrences"])  # no answer at all: counted as an error too
                elif int(status.group(1)) >= 500:
                    server_errors += int(row["Occurrences"])
    double = query(env, DOUBLE_BOOKINGS)
    ids = [line.strip() for line in (OUT / "delivered.txt").read_text().splitlines() if line.strip()]
    twice = sum(1 for n in Counter(ids).values() if n > 1)
    sent_rows = query(env, "SELECT count(*) FROM treatment_sessions_reminder WHERE status = 'sent'")
    left = query(env, "SELECT count(*) FROM treatment_sessions_reminder WHERE status IN ('pending', 'sending') "
                      "AND due_at <= now() - interval '10 seconds'")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    lines = [
        START_MARK,
        f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {USERS} staff and {PATIENTS} patients (confirm "
        f"and self-booking pages; no questionnaire pages yet) for {RUN_TIME} against gunicorn "
        f"(4 workers), a Celery worker (2 processes) with beat, PostgreSQL and Redis, all on this machine "
        f"(load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        f"**{float(total['Requests/s']):.1f} requests/s**, {int(total['Request Count']):,} requests, "
        f"{int(total['Failure Count'])} failed ({server_errors} with a 5xx, {unreachable} unanswered); double bookings found afterwards: "
        f"{double}; reminders delivered twice: {twice} ({len(ids)} delivered, {sent_rows} rows sent, {left} due "
        "left unsent).",
        "",
        "| endpoint | requests | failures | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['Type']} {row['Name']} | {row['Request Count']} | {row['Failure Count']} | "
                     f"{row['50%']} ms | {row['95%']} ms | {row['99%']} ms |")
    lines.append(END_MARK)
    text = DOC.read_text()
    start_at, end_at = text.index(START_MARK), text.index(END_MARK) + len(END_MARK)
    DOC.write_text(text[:start_at] + "\n".join(lines) + text[end_at:])
    print("\n".join(lines))
    failed = server_errors or unreachable or double or twice or left or locust_code not in (0, 1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
