"""EXPLAIN ANALYZE of the hot queries in the benchmark's big clinic (SPEC
§15): every query of the day agenda over the API, free slots, the agenda and
patient pages, and the reminder claim, slowest first.

    python bench/explain.py            # after make bench made the data (same BENCH_SCALE)
"""

import datetime as dt
import sys

import run as bench
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.models import Clinic
from messaging import outbox
from sessions.models import Session, SessionStatus


def captured(fn) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    clinic = Clinic.objects.get(slug=f"bench-{bench.BIG}")
    day, _ = bench.busiest_day(clinic)
    api = bench.api_client(bench.manager_of(clinic))
    pages = Client()
    pages.force_login(bench.manager_of(clinic))
    session = Session.objects.filter(clinic=clinic, status=SessionStatus.PLANNED, step__kind="treatment",
                                     enrolment__status="active").order_by("pk").first()
    patient_id = Session.objects.filter(clinic=clinic).values_list("patient_id", flat=True).order_by("pk").first()
    paths = {
        "agenda over the API": lambda: api.get(f"/api/v1/sessions/?date_from={day}&date_to={day}"),
        "free slots": lambda: api.get(f"/api/v1/sessions/{session.pk}/slots/"),
        "agenda page": lambda: pages.get(f"/agenda/?date={day}"),
        "patient page": lambda: pages.get(f"/patients/{patient_id}/"),
        "reminder claim": lambda: list(outbox.due(timezone.now() - dt.timedelta(days=3650)).order_by("due_at", "id")
                                       .values_list("pk", flat=True)[:50]),
    }
    for name, fn in paths.items():
        fn()  # warm
        plans = [(explain(sql), sql) for sql in captured(fn) if sql.lstrip().upper().startswith("SELECT")]
        plans.sort(key=lambda p: -float(p[0].rsplit("Execution Time: ", 1)[1].split()[0]))
        print(f"## {name}\n")
        for plan, sql in plans[:3]:
            print(sql[:400] + (" …" if len(sql) > 400 else ""))
            print(plan + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
