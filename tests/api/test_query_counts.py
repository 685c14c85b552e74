"""Every list endpoint costs the same number of queries for 1 row as for 50:
querysets come from selectors with their joins and prefetches (STYLE)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinics.models import Role
from clinics.tokens import issue_token
from protocols.models import OutcomeMeasure
from sessions import services
from tests.factories import PatientFactory, RoomFactory, UserFactory, make_protocol, step

from .conftest import START, at

ONE_STEP = [step("Injection", interval_days=14, window_after_days=14, duration_minutes=30, measures=["pain_vas"])]


def add_measures(ctx, n):
    base = OutcomeMeasure.objects.count()
    OutcomeMeasure.objects.bulk_create(
        OutcomeMeasure(code=f"extra_{base + i}", name=f"Extra {i}", min_value=Decimal(0), max_value=Decimal(10),
                       higher_is_better=True)
        for i in range(n)
    )


def add_protocols(ctx, n):
    for i in range(n):
        make_protocol(ctx["clinic"], name=f"Protocol {ctx['counter']}-{i}")
    ctx["counter"] += 1


def add_patients(ctx, n):
    PatientFactory.create_batch(n, clinic=ctx["clinic"])


def add_practitioners(ctx, n):
    UserFactory.create_batch(n, clinic=ctx["clinic"], role=Role.CLINICIAN)


def add_rooms(ctx, n):
    RoomFactory.create_batch(n, clinic=ctx["clinic"])


def add_enrolments(ctx, n):
    """Each with one session, booked with a practitioner and a room, and its reminders."""
    for _ in range(n):
        enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=ctx["clinic"]), protocol=ctx["protocol"], start_date=START, by=ctx["manager"]
        )
        practitioner = UserFactory(clinic=ctx["clinic"], role=Role.CLINICIAN)
        services.book_session(
            session=enrolment.sessions.get(), start=at(dt.date(2026, 3, 16), 10), practitioner=practitioner,
            room=RoomFactory(clinic=ctx["clinic"]), by=ctx["manager"],
        )


LISTS = [
    ("/api/v1/measures/", add_measures, None),
    ("/api/v1/protocols/", add_protocols, None),
    ("/api/v1/patients/", add_patients, None),
    ("/api/v1/practitioners/", add_practitioners, None),
    ("/api/v1/rooms/", add_rooms, None),
    ("/api/v1/enrolments/", add_enrolments, None),
    # The sessions list pages by 250; at 50 a page it fills pages as the rest do.
    ("/api/v1/sessions/", add_enrolments, {"page_size": 50}),
    ("/api/v1/sessions/", add_enrolments,
     {"date_from": "2026-03-01", "date_to": "2026-12-31", "status": "booked", "page_size": 50}),
    ("/api/v1/reminders/", add_enrolments, None),
    ("/api/v1/reminders/", add_enrolments, {"status": "pending", "date_from": "2026-03-01"}),
]


@pytest.mark.parametrize(("path", "add", "params"), LISTS, ids=[f"{p} {q or ''}" for p, _, q in LISTS])
def test_list_queries_do_not_grow_with_rows(frozen, clinic, manager, path, add, params):
    ctx = {"clinic": clinic, "manager": manager, "counter": 0, "protocol": make_protocol(clinic, steps=ONE_STEP,
                                                                                          name="One step")}
    client = APIClient(HTTP_AUTHORIZATION=f"Token {issue_token(manager).key}")

    def measure():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(path, params or {})
        assert answer.status_code == 200, answer.content
        return answer.json()["count"], len(queries)

    add(ctx, 1)
    few_rows, few_queries = measure()
    add(ctx, 49)
    many_rows, many_queries = measure()
    add(ctx, 50)
    more_rows, more_queries = measure()
    assert more_rows >= 100 and many_rows >= 50 > few_rows
    # A full page also counts the rows (a short one is the last and knows its
    # total, core.pagination); beyond that, rows cost no queries.
    assert many_queries == few_queries + 1 == more_queries
    assert many_queries <= 10
