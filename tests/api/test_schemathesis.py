"""Schemathesis over the whole OpenAPI schema (issue 3, item 8).

Every operation of `/api/v1/schema/` gets generated requests, valid and
invalid (wrong types, NUL bytes, huge numbers, odd unicode, far dates),
sent in-process to the Django WSGI app as the demo clinic's manager, on the
demo data of `manage.py load_demo`. Two checks must hold for every answer:
no 5xx (`not_a_server_error`), and the answer matches what the schema
documents for its status code (`response_schema_conformance`).

About half of the generated ids (in paths, bodies and query strings) are
swapped for ids of real demo rows (the rest stay as generated: unknown ids
must be a documented 404 or 400), so the actions also run on objects that
exist, in whatever state the demo left them and earlier examples put them.

The demo is loaded once for the module inside a transaction that is rolled
back at the end; each test's own changes are rolled back after it as usual.
Generation is derandomized (the same examples on every run) and time stands
at a fixed Wednesday, so a failure reproduces.
"""

import datetime as dt
import io
import os
import zoneinfo

import pytest
import schemathesis
import time_machine
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from clinics.models import Clinic, Room, User
from clinics.selectors import practitioners_of
from clinics.tokens import issue_token
from config.wsgi import application
from patients.models import Enrolment, Patient
from protocols.models import Protocol
from sessions.models import Session

# A Wednesday morning in Berlin: the demo replays its history before it and books after it.
WEDNESDAY = dt.datetime(2026, 3, 11, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
# Small enough for `make test` on two cores; REGIMEN_FUZZ_EXAMPLES=200 searches harder.
MAX_EXAMPLES = int(os.environ.get("REGIMEN_FUZZ_EXAMPLES", "15"))

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)

# The rows an id may name, by the path's first segment.
RESOURCES = {
    "patients": lambda clinic: Patient.objects.filter(clinic=clinic),
    "protocols": lambda clinic: Protocol.objects.filter(clinic=clinic),
    "practitioners": practitioners_of,
    "rooms": lambda clinic: Room.objects.filter(clinic=clinic),
    "enrolments": lambda clinic: Enrolment.objects.filter(clinic=clinic),
    "sessions": lambda clinic: Session.objects.filter(clinic=clinic),
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo clinic, loaded once for this module and never committed."""
    with time_machine.travel(WEDNESDAY, tick=True), django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):  # load_demo refuses to run otherwise
            call_command("load_protocol_library", verbosity=0)
            call_command("load_demo", stdout=io.StringIO())
        clinic = Clinic.objects.get(slug="demo")
        manager = User.objects.get(username="manager")
        ids = {
            name: sorted(rows(clinic).values_list("pk", flat=True)) for name, rows in RESOURCES.items()
        }
        # The WSGI handler closes a connection that is inside a transaction at
        # the end of each request; Django's test client unhooks that, and so do we.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield {"token": issue_token(manager).key, "ids": ids}
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
            transaction.set_rollback(True)


# Ids in bodies and query strings, by field name.
ID_FIELDS = {
    "patient": "patients",
    "protocol": "protocols",
    "practitioner": "practitioners",
    "clinician": "practitioners",
    "room": "rooms",
    "enrolment": "enrolments",
    "session": "sessions",
}


def _real(value, rows):
    """An even whole number becomes the id of a real row; anything else stays
    as generated (unknown ids, wrong types: the API must refuse them)."""
    if isinstance(value, int) and not isinstance(value, bool) and rows and value % 2 == 0:
        return rows[(value // 2) % len(rows)]
    return value


def _with_real_ids(case, ids):
    """Point some generated ids at rows of the demo, so that actions reach past
    the lookup: a path's `id`, and ids in the body and the query string."""
    if case.path_parameters and "id" in case.path_parameters:
        resource = case.operation.path.split("/")[3]
        case.path_parameters["id"] = _real(case.path_parameters["id"], ids.get(resource))
    for values in (case.body, case.query):
        if isinstance(values, dict):
            for name, resource in ID_FIELDS.items():
                if name in values:
                    values[name] = _real(values[name], ids[resource])


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_no_server_error_and_every_answer_as_documented(demo, case):
    _with_real_ids(case, demo["ids"])
    case.call_and_validate(
        headers={"Authorization": f"Token {demo['token']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
