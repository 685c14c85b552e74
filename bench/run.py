"""Regimen's benchmarks (SPEC §15): each path against its floor, on the same
data, in one run. Writes bench/results.json ({"name": {"value": s, "floor":
s, "ratio": value/floor}}, medians) and the table in docs/benchmarks.md.

    make bench                      # a 1,000,000-session clinic
    BENCH_SCALE=0.02 make bench     # a quick run: 20,000 sessions, smaller batches
    BENCH_ONLY=reminder_scan BENCH_SCALE=0.01 BENCH_REMINDERS=1000 python bench/run.py
    BENCH_ONLY=self_booking_slots BENCH_SCALE=0.02 python bench/run.py
                                    # one path alone: its rows of the table and
                                    # results.json are replaced, the rest kept

The data lives in its own PostgreSQL database (BENCH_DATABASE_URL, default
regimen_bench), created and migrated when missing. The big clinic is made by
`demo.load.generate` (what `manage.py generate_load` runs) the first time a
size is asked for and reused afterwards: generating a million sessions takes
longer than every measurement together. Speed is measured here, never
asserted in tests.
"""

import datetime as dt
import gc
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/regimen_bench")
os.environ["DATABASE_URL"] = DATABASE_URL
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))

BIG = max(10_000, int(1_000_000 * SCALE))
SMALL = 10_000
BULK = max(100, int(10_000 * min(SCALE, 1) if SCALE >= 0.1 else 1_000))
REMINDERS = int(os.environ.get("BENCH_REMINDERS", 0)) or max(100, int(1_000 * min(SCALE, 1) if SCALE >= 0.1 else 200))
ONLY = os.environ.get("BENCH_ONLY", "")  # "reminder_scan" or "self_booking_slots": that path alone
SEED = 15

RESULTS = ROOT / "bench" / "results.json"
DOC = ROOT / "docs" / "benchmarks.md"
START_MARK, END_MARK = "<!-- bench:results -->", "<!-- /bench:results -->"


def create_database_if_missing() -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(DATABASE_URL)
    admin = psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                            password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


create_database_if_missing()

import django  # noqa: E402

django.setup()

from django.core.mail import get_connection  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.db.models.functions import TruncDate  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.models import Clinic, Role, User  # noqa: E402
from clinics.services import create_staff  # noqa: E402
from clinics.tokens import issue_token  # noqa: E402
from demo.load import generate  # noqa: E402
from messaging import outbox  # noqa: E402
from messaging.emails import build_email  # noqa: E402
from patients.models import Enrolment, Patient  # noqa: E402
from protocols.models import Protocol  # noqa: E402
from protocols.services import set_up_clinic  # noqa: E402
from sessions.enrolments.bulk import import_enrolments  # noqa: E402
from sessions.enrolments.services import enrol_patient  # noqa: E402
from sessions.enrolments.workable import check_schedule  # noqa: E402
from sessions.models import Reminder, ReminderKind, ReminderStatus, Session, SessionStatus  # noqa: E402


def median(fn, repeat: int = REPEAT) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def paired(path, floor, repeat: int = REPEAT) -> dict:
    """A fast path and its floor timed in turns, `repeat` times each, so that
    both meet the same moments of a busy machine; medians."""
    samples: tuple[list, list] = ([], [])
    for _ in range(repeat):
        for fn, found in ((path, samples[0]), (floor, samples[1])):
            began = time.perf_counter()
            timed = fn()
            # A function that times its own part returns the seconds.
            found.append(timed if isinstance(timed, float) else time.perf_counter() - began)
    return result(statistics.median(samples[0]), statistics.median(samples[1]))


def result(value: float, floor: float) -> dict:
    return {"value": round(value, 6), "floor": round(floor, 6), "ratio": round(value / floor, 2)}


# --- Data --------------------------------------------------------------------------------------------


def clinic_of(sessions: int, notes: dict) -> Clinic:
    slug = f"bench-{sessions}"
    found = Clinic.objects.filter(slug=slug).first()
    if found:
        # A generation that was interrupted leaves its clinic behind, short of rows.
        if Session.objects.filter(clinic=found).count() < sessions:
            raise SystemExit(f"{slug} holds fewer than {sessions:,} sessions (an interrupted generation): "
                             f"drop the database {connection.settings_dict['NAME']} and run again.")
        notes[slug] = "reused"
        return found
    began = time.perf_counter()
    summary = generate(slug=slug, patients=max(100, sessions // 10), sessions=sessions, seed=SEED)
    notes[slug] = f"generated in {time.perf_counter() - began:.0f} s ({summary.sessions:,} sessions)"
    print(f"  {slug}: {notes[slug]}", flush=True)
    return summary.clinic


def manager_of(clinic: Clinic) -> User:
    return User.objects.filter(clinic=clinic, role=Role.MANAGER).order_by("pk").first()


def api_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {issue_token(user).key}")


def today_in(clinic: Clinic) -> dt.date:
    return timezone.now().astimezone(clinic.tz).date()


def busiest_day(clinic: Clinic) -> tuple[dt.date, int]:
    """The coming day with the most bookings (the generator books three weeks ahead)."""
    today = today_in(clinic)
    row = (
        Session.objects.filter(clinic=clinic, status=SessionStatus.BOOKED, start__gte=timezone.now())
        .annotate(day=TruncDate("start", tzinfo=clinic.tz))
        .filter(day__lte=today + dt.timedelta(days=21))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("-n", "day")
        .first()
    )
    return row["day"], row["n"]


# --- Paths -------------------------------------------------------------------------------------------

AGENDA_COLUMNS = [
    "id", "enrolment_id", "patient_id", "step_id", "step__name", "step__kind", "step__duration_minutes", "sequence",
    "occurrence", "status", "target_date", "window_start", "window_end", "start", "end", "practitioner_id",
    "room_id", "out_of_window", "missed_count", "completed_at", "notes", "not_done_reason", "skip_reason",
    "product_lot", "product_source", "product_form", "product_concentration",
]


def bench_agenda(clinic: Clinic, day: dt.date, page_size: int | None = None) -> tuple[dict, int, int]:
    """The day's sessions over the API, page by page (the list's own page
    size, or `page_size`), vs one values() query of the same rows and
    json.dumps. Returns the result, the rows and the pages."""
    client = api_client(manager_of(clinic))
    size = f"&page_size={page_size}" if page_size else ""

    pages = rows = 0

    def api() -> float:
        """The seconds the server took for every page: reading each answer's
        JSON back (for its rows and its next page) is the client's work, as
        the floor's bytes are never read back."""
        nonlocal pages, rows
        url, rows, pages, spent = f"/api/v1/sessions/?date_from={day}&date_to={day}{size}", 0, 0, 0.0
        while url:
            began = time.perf_counter()
            answer = client.get(url)
            spent += time.perf_counter() - began
            assert answer.status_code == 200, answer.content[:300]
            data = answer.json()
            rows += len(data["results"])
            pages += 1
            url = data["next"]
        return spent

    # The same rows: a booked session's local start date, else its target date.
    first = dt.datetime.combine(day, dt.time.min, tzinfo=clinic.tz)
    after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=clinic.tz)

    def floor() -> int:
        rows = list(
            Session.objects.filter(clinic=clinic)
            .filter(Q(start__gte=first, start__lt=after) | Q(start__isnull=True, target_date=day))
            .order_by("target_date", "enrolment_id", "sequence")
            .values(*AGENDA_COLUMNS)
        )
        json.dumps(rows, default=str)
        return len(rows)

    api()
    assert rows == floor(), (rows, floor())
    # Each takes milliseconds: many turns, or a moment's noise decides.
    return paired(api, floor, REPEAT * 20), rows, pages


PROBED: list[int] = []  # the sessions slots_probe chose, last last


def slots_probe(clinic: Clinic) -> tuple:
    """A GET of the free slots of one planned treatment session over the
    coming two weeks, through the API, after widening its window (inside
    the caller's transaction, which is rolled back). Returns the GET and a
    function giving how many slots the last answer held."""
    client = api_client(manager_of(clinic))
    first = today_in(clinic) + dt.timedelta(days=1)
    last = first + dt.timedelta(days=13)
    session = (
        Session.objects.filter(clinic=clinic, status=SessionStatus.PLANNED, step__kind="treatment",
                               enrolment__status="active", target_date__gt=last)
        .order_by("pk")
        .first()
    )
    Session.objects.filter(pk=session.pk).update(window_start=first, target_date=first, window_end=last)
    PROBED.append(session.pk)
    url = f"/api/v1/sessions/{session.pk}/slots/?date_from={first}&date_to={last}"
    found = [0]

    def get():
        answer = client.get(url)
        assert answer.status_code == 200, answer.content[:300]
        found[0] = len(answer.json())

    return get, lambda: found[0]


def bench_slots(big: Clinic, small: Clinic) -> tuple[dict, int, int]:
    """The same free-slot search in both clinics, timed in turns."""
    with transaction.atomic():
        big_get, big_found = slots_probe(big)
        small_get, small_found = slots_probe(small)
        big_get(), small_get()
        row = paired(big_get, small_get, REPEAT * 4)
        transaction.set_rollback(True)
    return row, big_found(), small_found()


def bench_self_booking(big: Clinic) -> tuple[dict, str]:
    """SPEC §18: the patient's booking page (/p/<token>/book/, no login) for
    one planned treatment session vs the staff's free-slot API for the same
    session and the same two weeks, in the big clinic (the session's window
    widened to those days by slots_probe, inside a transaction rolled
    back). The page adds the link's checks, the cascade tried on each day,
    the practitioners' names and the HTML of every time."""
    from django.test import override_settings

    from messaging import links

    with transaction.atomic(), override_settings(PATIENT_LINK_RATE_PER_MINUTE=10**9):
        Clinic.objects.filter(pk=big.pk).update(patients_may_book=True)
        api_get, api_found = slots_probe(big)
        session = Session.objects.select_related("clinic").get(pk=PROBED[-1])
        path = links.self_book_url(session).split("://", 1)[-1].partition("/")[2]
        patient_browser = Client()
        shown = [0, 0]

        def page_get():
            answer = patient_browser.get(f"/{path}")
            assert answer.status_code == 200, answer.content[:300]
            shown[0] = answer.content.count(b'name="start"')
            shown[1] = len(answer.content)

        page_get(), api_get()
        row = paired(page_get, api_get, REPEAT * 4)
        transaction.set_rollback(True)
    note = (f"one planned session, two weeks, {BIG:,}-session clinic: the patient's page ({shown[0]} times, "
            f"{shown[1] // 1024} KiB of HTML) vs the staff free-slot API ({api_found()} slots as JSON)")
    return row, note


def bulk_csv(count: int, clinic: Clinic) -> str:
    """`count` new patients, each enrolled in a library protocol on one of
    the coming 60 days on which its schedule can be booked (the import
    refuses the others, as the enrol page does); a protocol no start date of
    which works in this clinic (a 0-day window that always falls on its
    closed Sunday) is left out."""
    today = today_in(clinic)
    starts = {}
    for protocol in Protocol.objects.filter(clinic=clinic, is_current=True).exclude(library_key="").order_by(
        "library_key"
    ):
        steps = list(protocol.steps.all())
        days = [today + dt.timedelta(days=n) for n in range(1, 61)]
        workable = [day for day in days if not check_schedule(clinic, day, steps)[0]]
        if workable:
            starts[protocol.library_key] = workable
    keys = list(starts)
    lines = ["record_number,first_name,last_name,date_of_birth,email,reminder_consent,protocol,start_date"]
    for n in range(count):
        key = keys[n % len(keys)]
        start = starts[key][n // len(keys) % len(starts[key])]
        lines.append(f"BULK-{n:06d},Bea{n},Bulk,{1950 + n % 50}-0{1 + n % 9}-1{n % 9},bea{n}@patients.example,"
                     f"{'true' if n % 7 else 'false'},{key},{start}")
    return "\n".join(lines) + "\n"


BULK_TABLES = [Patient, Patient.history.model, Enrolment, Enrolment.history.model, Session, Reminder]


def bench_bulk(notes: dict) -> tuple[dict, dict]:
    clinic = Clinic.objects.filter(slug="bench-bulk").first()
    if clinic is None:
        clinic = set_up_clinic(name="Bench bulk", slug="bench-bulk", timezone="Europe/Berlin")
        create_staff(username="bench-bulk-manager", clinic=clinic, role=Role.MANAGER, password="unused-" * 3)
    manager = manager_of(clinic)
    text = bulk_csv(BULK, clinic)
    captured: list = []
    counts = {}

    def run_import(capture: bool = False):
        with transaction.atomic():
            # Check the foreign keys as the rows go in: the transaction is
            # rolled back, so deferred checks would never run at all.
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
            imported = import_enrolments(clinic=clinic, text=text, by=manager)
            counts.update(vars(imported))
            if capture:
                for model in BULK_TABLES:
                    fields = model._meta.concrete_fields
                    rows = list(model.objects.filter(clinic_id=clinic.pk).values_list(*[f.attname for f in fields]))
                    captured.append((model._meta.db_table, [f.column for f in fields], rows))
            transaction.set_rollback(True)

    def copy_floor():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, columns, rows in captured:
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row])
            transaction.set_rollback(True)

    run_import(capture=True)
    repeat = 3
    return result(median(run_import, repeat), median(copy_floor, repeat)), counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_server():
    """aiosmtpd in its own process, accepting and discarding every message."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("aiosmtpd did not start")


def due_reminder_sessions(clinic: Clinic, count: int) -> list[Session]:
    """`count` booked sessions to plant due reminders on, cleared of earlier
    rows; every other due pending row is voided (not the bench's to send)."""
    soon = timezone.now() + dt.timedelta(hours=2)
    sessions = list(
        Session.objects.filter(clinic=clinic, status=SessionStatus.BOOKED, start__gt=soon,
                               enrolment__status="active", patient__reminder_consent=True)
        .exclude(patient__email="")
        .order_by("start", "pk")[:count]
    )
    Reminder.objects.filter(session__in=sessions).delete()  # this bench's rows from an earlier run, and planned ones
    Reminder.objects.filter(status=ReminderStatus.PENDING, due_at__lte=timezone.now() + dt.timedelta(hours=1)).update(
        status=ReminderStatus.VOID
    )
    return sessions


def plant(clinic: Clinic, sessions: list[Session], run: int, runs: int) -> list[Reminder]:
    """One due booked-session reminder per session, whole hours before its
    start, so the send-time checks (rebooked? superseded?) hold as for a
    planned row. Each run a later due time, so an earlier run's sent row
    never supersedes it."""
    now = timezone.now()
    rows = []
    for session in sessions:
        hours = math.ceil((session.start - now).total_seconds() / 3600) + runs - run
        rows.append(Reminder(clinic=clinic, session=session, kind=ReminderKind.BOOKED, offset_hours=hours,
                             due_at=session.start - dt.timedelta(hours=hours)))
    return Reminder.objects.bulk_create(rows)


def bench_reminders(clinic: Clinic) -> tuple[dict, int]:
    """REMINDERS due booked-session reminders, sent by the outbox scan vs
    the floor of SPEC §15: a loop that builds the same emails (`build_email`:
    the same templates rendered by Django, `EmailMultiAlternatives`, the
    `.ics`) and sends them through Django's SMTP backend over one
    connection. What the scan adds is the outbox's own work: the claim, the
    send-time checks, the renewal and a mark per email. The two are timed in
    turns, so that each meets the same moments of a busy machine; a first
    scan, untimed, loads what a worker loads once (templates, time zones)."""
    sessions = due_reminder_sessions(clinic, REMINDERS)
    runs = REPEAT

    process, port = smtp_server()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):

            def scan(run: int) -> float:
                plant(clinic, sessions, run, runs + 1)
                began = time.perf_counter()
                counts = outbox.scan()
                elapsed = time.perf_counter() - began
                assert counts["sent"] == len(sessions), counts
                return elapsed

            scan(0)
            # The floor's rows, read beforehand with what a batch reaches
            # through the session: the loop builds and sends, nothing else.
            reminders = list(Reminder.objects.filter(session__in=sessions, status=ReminderStatus.SENT).select_related(
                *outbox.BATCH_READS
            )[: len(sessions)])

            def loop() -> float:
                began = time.perf_counter()
                with get_connection(fail_silently=False) as smtp:
                    for reminder in reminders:
                        smtp.send_messages([build_email(reminder)])
                return time.perf_counter() - began

            samples: dict[str, list[float]] = {"scan": [], "loop": []}
            for run in range(1, runs + 1):
                samples["scan"].append(scan(run))
                samples["loop"].append(loop())
    finally:
        process.terminate()
        process.wait(10)
    value, floor = (statistics.median(samples[name]) for name in ("scan", "loop"))
    return result(value, floor), len(sessions)


def replay(captured) -> float:
    """The time of the page's own SQL, executed bare."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for query in captured:
            cursor.execute(query["sql"])
            if cursor.description:
                cursor.fetchall()
    return time.perf_counter() - began


def bench_page(client: Client, path: str) -> tuple[dict, int]:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    sqls = list(queries.captured_queries)
    return result(median(lambda: client.get(path)), median(lambda: replay(sqls))), len(sqls)


def bench_cohort(notes: dict) -> dict:
    """The cohort report (SPEC §11) over the API, as a manager, for a clinic of
    10,000 hair courses (bench/cohort.py builds it once and reuses it) vs one
    hand-written SQL aggregate of the measure figures; both answers checked equal."""
    from bench.cohort import agree, cohort_clinic, hand_written

    began = time.perf_counter()
    clinic, values = cohort_clinic(SMALL)
    ready = time.perf_counter() - began
    client = api_client(manager_of(clinic))
    path = "/api/v1/reports/cohort/"
    answer = client.get(path)
    assert answer.status_code == 200, answer.content
    checked = agree(answer.json(), hand_written(clinic))
    row = result(median(lambda: client.get(path)), median(lambda: hand_written(clinic)))
    notes["cohort_report"] = (f"GET {path} as a manager, {SMALL:,} enrolments, {values:,} values (every figure of "
                              f"§11) vs one hand-written SQL of the measure figures; {checked} time points agree; "
                              f"`cohort-{SMALL}` built or reused in {ready:.0f} s")
    return row


# --- Report ------------------------------------------------------------------------------------------


def vacuum() -> str:
    """VACUUM ANALYZE the database, as autovacuum keeps a live one. The bench
    itself leaves dead rows behind (each bulk-enrolment run writes and rolls
    back 10,000 patients and their 111,250 sessions; each reminder run
    deletes and plants 1,000 rows), and dead index entries at the end of an
    index make the planner read them while it estimates a join: the
    reminder batch's query took 24 ms to plan instead of 4. This machine's
    PostgreSQL runs with autovacuum off, so nothing else would clear them.
    Returns the autovacuum setting, for the notes."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        # Write out what the vacuum dirtied now, not during the next
        # measurement (a commit waits behind a checkpoint's writes).
        cursor.execute("CHECKPOINT")
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def machine() -> str:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo.read_text()).group(1))
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.node()}: {os.cpu_count()} cores{memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, PostgreSQL {postgres} on the same host; load average {load:.1f} at the start")


def write_doc(results: dict, notes: dict, began: float) -> None:
    lines = [
        START_MARK,
        f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `BENCH_SCALE={SCALE:g}` (the big clinic: {BIG:,} "
        f"sessions), medians of {REPEAT} runs (3 for bulk enrolment; the agenda, free slots and reminders "
        f"timed in turns with their floors, {REPEAT * 20}, {REPEAT * 4} and {REPEAT} times), "
        f"{time.perf_counter() - began:.0f} s in all. Machine: {notes['machine']}; autovacuum "
        f"{notes['autovacuum']}, so the run vacuums the database at its start and after the bulk enrolment.",
        "",
        "| path | value | floor | ratio | goal | notes |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['value'] * 1000:.1f} ms | {row['floor'] * 1000:.1f} ms | {row['ratio']:.2f} | "
            f"{GOALS.get(name, '')} | {notes.get(name, '')} |"
        )
    data = ", ".join(f"`{k}` {v}" for k, v in notes.items() if k.startswith("bench-"))
    lines += ["", f"Data: {data}.", END_MARK]
    text = DOC.read_text()
    start, end = text.index(START_MARK), text.index(END_MARK) + len(END_MARK)
    DOC.write_text(text[:start] + "\n".join(lines) + text[end:])


GOALS = {
    "agenda_api": "≤ 1.5",
    "agenda_api_pages_of_50": "(what paging costs)",
    "free_slots_flat": "≤ 1.3",
    "bulk_enrolment": "as low as the work allows",
    "reminder_scan": "≤ 1.25 (what the claim, checks and marks add)",
    "patient_page": "queries constant (tested)",
    "agenda_page": "queries constant (tested)",
    "cohort_report": "≤ 3",
    "self_booking_slots": "≤ 1.5",
}


def reminder_scan(big: Clinic) -> tuple[dict, str]:
    found, sent = bench_reminders(big)
    note = (f"{sent} due emails to aiosmtpd (own process): outbox.scan vs a loop of build_email + Django's SMTP "
            f"backend on one connection; one worker: {sent / found['value']:.0f} emails/s (the loop "
            f"{sent / found['floor']:.0f})")
    return found, note


def only(name: str, began: float) -> int:
    """One path alone: its entry in results.json and its row of the table
    are replaced, with a line saying which run they come from; the others
    stay as the last full run wrote them."""
    if name not in ALONE:
        raise SystemExit(f"BENCH_ONLY: no such path alone: {name!r} (one of {', '.join(ALONE)})")
    call_command("migrate", verbosity=0)
    notes: dict = {"machine": machine()}
    print(f"BENCH_ONLY={name} BENCH_SCALE={SCALE:g}: {BIG:,} sessions; {notes['machine']}", flush=True)
    big = clinic_of(BIG, notes)
    notes["autovacuum"] = vacuum()
    found, note = ALONE[name](big)
    print(name, found, note, flush=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.pop("reminder_scan_composed", None)  # the old floor's second row; the floor composes now
    results[name] = found
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    row = (f"| {name} | {found['value'] * 1000:.1f} ms | {found['floor'] * 1000:.1f} ms | {found['ratio']:.2f} | "
           f"{GOALS.get(name, '')} | {note} (run alone, see below) |")
    text = DOC.read_text()
    start, end = text.index(START_MARK), text.index(END_MARK)
    lines = [line for line in text[start:end].split("\n") if not line.startswith("| reminder_scan_composed |")]
    if any(line.startswith(f"| {name} |") for line in lines):
        lines = [row if line.startswith(f"| {name} |") else line for line in lines]
    else:  # a path new since the last full run: its row after the table's last
        last = max(i for i, line in enumerate(lines) if line.startswith("| "))
        lines.insert(last + 1, row)
    lines = [line for line in lines if not line.startswith(f"`{name}` alone:")]
    lines.append(f"`{name}` alone: run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (`BENCH_ONLY={name}`, "
                 f"`BENCH_SCALE={SCALE:g}`: a {BIG:,}-session clinic), medians of {TURNS[name]} turns, "
                 f"{time.perf_counter() - began:.0f} s in all; machine: {notes['machine']}. The other rows are "
                 "from the run above.\n")
    DOC.write_text(text[:start] + "\n".join(lines) + text[end:])
    print(f"wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 0


ALONE = {"reminder_scan": reminder_scan, "self_booking_slots": bench_self_booking}
TURNS = {"reminder_scan": REPEAT, "self_booking_slots": REPEAT * 4}  # each path and its floor, in alternation


def main() -> int:
    began = time.perf_counter()
    if ONLY:
        return only(ONLY, began)
    call_command("migrate", verbosity=0)
    notes: dict = {"machine": machine()}
    print(f"BENCH_SCALE={SCALE:g}: {BIG:,} sessions; {notes['machine']}", flush=True)
    big = clinic_of(BIG, notes)
    small = clinic_of(SMALL, notes)
    notes["autovacuum"] = vacuum()
    results = {}

    day, booked = busiest_day(big)
    results["agenda_api"], rows, pages = bench_agenda(big, day)
    notes["agenda_api"] = (f"{rows} sessions of {day} ({booked} booked) over the API in {pages} "
                           f"request{'s' if pages > 1 else ''} (the list's 250 a page) vs one values() query + "
                           "json.dumps")
    results["agenda_api_pages_of_50"], rows, pages = bench_agenda(big, day, page_size=50)
    notes["agenda_api_pages_of_50"] = f"the same {rows} sessions in {pages} pages of 50 (`page_size=50`)"
    print("agenda", results["agenda_api"], results["agenda_api_pages_of_50"], flush=True)

    results["free_slots_flat"], big_found, small_found = bench_slots(big, small)
    notes["free_slots_flat"] = (f"API, one session, two weeks: {big_found} free slots in the {BIG:,}-session "
                                f"clinic vs {small_found} in the {SMALL:,}-session one")
    print("slots", results["free_slots_flat"], flush=True)

    results["bulk_enrolment"], counts = bench_bulk(notes)
    # The rolled-back imports leave dead rows in the database and a heap of
    # garbage in this process: the reminder scan measured after them ran a
    # quarter slower until both were cleared.
    vacuum()
    gc.collect()
    notes["bulk_enrolment"] = (f"{counts['patients']:,} patients, {counts['sessions']:,} sessions, "
                               f"{counts['reminders']:,} reminders: import (checks + COPY) vs COPY of the same rows")
    print("bulk", results["bulk_enrolment"], flush=True)

    results["reminder_scan"], notes["reminder_scan"] = reminder_scan(big)
    print("reminders", results["reminder_scan"], flush=True)

    browser = Client()
    browser.force_login(manager_of(big))
    # The patient with the most courses, brought up to ten through the service.
    patient = Patient.objects.filter(clinic=big).annotate(n=Count("enrolments")).order_by("-n", "pk").first()
    protocols = list(Protocol.objects.filter(clinic=big, is_current=True, active=True).order_by("pk"))
    for n in range(patient.enrolments.count(), 10):
        # Alongside the courses the patient has (a second active course is a
        # 409 otherwise), on the first day from there whose schedule can be booked.
        start = today_in(big) - dt.timedelta(days=400 - 35 * n)
        start += dt.timedelta(days=next(d for d in range(30) if not check_schedule(
            big, start + dt.timedelta(days=d), list(protocols[n % len(protocols)].steps.all()))[0]))
        enrol_patient(patient=patient, protocol=protocols[n % len(protocols)], by=manager_of(big), start_date=start,
                      allow_concurrent=True)
    results["patient_page"], queries = bench_page(browser, f"/patients/{patient.pk}/")
    notes["patient_page"] = (f"the patient with the most courses: {patient.enrolments.count()} enrolments, {patient.sessions.count()} sessions: "
                             f"{queries} queries; floor: the same SQL run bare")
    results["agenda_page"], queries = bench_page(browser, f"/agenda/?date={day}")
    notes["agenda_page"] = f"{booked} visits on {day}: {queries} queries; floor: the same SQL run bare"
    print("pages", results["patient_page"], results["agenda_page"], flush=True)

    results["cohort_report"] = bench_cohort(notes)
    print("cohort", results["cohort_report"], flush=True)

    results["self_booking_slots"], notes["self_booking_slots"] = bench_self_booking(big)
    print("self-booking", results["self_booking_slots"], flush=True)

    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    write_doc(results, notes, began)
    print(json.dumps(results, indent=2))
    print(f"{time.perf_counter() - began:.0f} s; wrote {RESULTS.relative_to(ROOT)} and {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
