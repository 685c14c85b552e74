"""Every endpoint of SPEC §6 × every persona, and the status code each gets (SPEC §1).

One row per operation; the columns are the personas:

    anon   no credentials                                   -> 401
    rec    a receptionist of the clinic
    clin   a clinician of the clinic
    mgr    a manager of the clinic
    other  a manager of *another* clinic                    -> 404 on our objects

A role below the action's role is 403 (the role is checked before the object
is looked up, so a receptionist never learns more than "not your role").

Each row gets a fresh world (`world` below); each persona's request runs in a
savepoint that is rolled back afterwards, so every persona meets the same state:
the baseline session booked this morning (its start has passed: no-show and
complete are allowed), the first injection booked in two weeks, the second
injection planned. State-driven codes other than 2xx are noted on their row.

The table must cover every operation of the OpenAPI schema: a new endpoint
without a row fails `test_the_table_covers_every_operation_of_the_schema`.
"""

import datetime as dt
from dataclasses import dataclass, field

import pytest
import time_machine
from django.db import transaction
from rest_framework.test import APIClient

from clinics.models import Absence
from clinics.tokens import issue_token
from core.env import media_storage
from sessions import services
from sessions.models import Decision
from sessions.records.adverse_events import report_adverse_event
from tests.factories import PASSWORD, PatientFactory, RoomFactory, lot_of, make_protocol

from .conftest import at

PERSONAS = ("anon", "rec", "clin", "mgr", "other")

BUILT = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)  # a Sunday: the world is made then
ASKED = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # Monday 13:00 Berlin: the requests are made then
START = dt.date(2026, 3, 2)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as in the schema; {id} is the id of `obj`
    anon: int
    rec: int
    clin: int
    mgr: int
    other: int
    obj: str = ""
    body: object = None  # a dict, or a function of the world that returns one
    note: str = ""
    query: dict = field(default_factory=dict)
    variant: str = ""  # a second row of one operation, for a role-dependent body

    @property
    def expected(self) -> dict:
        return {persona: getattr(self, persona) for persona in PERSONAS}

    def __str__(self):
        return f"{self.method} {self.path}" + (f" ({self.variant})" if self.variant else "")


def _patient_body(world):
    return {"record_number": "NEW-1", "first_name": "Nora", "last_name": "Neu", "date_of_birth": "1990-04-01"}


def _protocol_body(world):
    return {
        "name": "Scar revision",
        "indication": "scar",
        "delivery": "microneedling",
        "steps": [{"name": "Needling", "kind": "treatment", "repeat": 3, "interval_days": 28}],
    }


def _enrolment_body(world):
    return {"patient": world.spare_patient.pk, "protocol": world.protocol.pk, "start_date": "2026-03-09"}


def _import_body(world):
    return {"csv": "record_number,first_name,last_name,date_of_birth,protocol,start_date\n"
                   f"IMP-1,Ida,Import,1985-02-03,{world.protocol.name},2026-03-09\n"}


def _book_body(world):
    # The second injection's window opens 2026-03-30 (the first is booked for 03-16).
    return {"start": "2026-03-30T10:00", "practitioner": world.users["clin"].pk, "room": world.room.pk}


def _complete_body(world):
    return {"outcomes": [{"measure": "hair_density", "value": 100}], "notes": "Baseline photographs taken."}


# fmt: off
TABLE = [
    #   method   path                                          anon  rec  clin  mgr  other
    Row("POST",  "/api/v1/auth/token/",                          200, 200, 200, 200, 200,
        body="credentials", note="a login: each persona sends its own password, anon the receptionist's"),
    Row("GET",   "/api/v1/schema/",                              200, 200, 200, 200, 200,
        query={"format": "json"}, note="public, not itself in the schema"),
    Row("GET",   "/api/v1/docs/",                                200, 200, 200, 200, 200,
        note="public, not itself in the schema"),
    Row("GET",   "/api/v1/",                                     200, 200, 200, 200, 200,
        note="the API root: public links, not itself in the schema"),
    Row("GET",   "/api/v1/clinic/",                              401, 200, 200, 200, 200,
        note="always the caller's own clinic"),
    Row("PATCH", "/api/v1/clinic/",                              401, 403, 403, 200, 200,
        body={"name": "Renamed Clinic"}, note="other: patches its own clinic"),
    Row("GET",   "/api/v1/clinic/dlqi-wording/",                 401, 200, 200, 200, 200),
    Row("PUT",   "/api/v1/clinic/dlqi-wording/",                 401, 403, 403, 200, 200,
        body={"language": "de", "questions": [f"Frage {n}" for n in range(1, 11)],
              "answers": {k: k for k in ("very_much", "a_lot", "a_little", "not_at_all", "not_relevant", "yes", "no")}}),
    Row("GET",   "/api/v1/measures/",                            401, 200, 200, 200, 200,
        note="the catalogue is shared by all clinics"),
    Row("GET",   "/api/v1/protocols/",                           401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/protocols/",                           401, 403, 403, 201, 201,
        body=_protocol_body, note="other: creates one in its own clinic"),
    Row("GET",   "/api/v1/protocols/{id}/",                      401, 200, 200, 200, 404, obj="protocol"),
    Row("PUT",   "/api/v1/protocols/{id}/",                      401, 403, 403, 200, 404, obj="protocol",
        body=_protocol_body, note="mgr: 200 with a new version (the protocol has an enrolment)"),
    Row("PATCH", "/api/v1/protocols/{id}/",                      401, 403, 403, 200, 404, obj="protocol",
        body={"description": "Now with photographs."}),
    Row("GET",   "/api/v1/patients/",                            401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/patients/",                            401, 201, 201, 201, 201,
        body=_patient_body, note="other: creates one in its own clinic"),
    Row("GET",   "/api/v1/patients/{id}/",                       401, 200, 200, 200, 404, obj="patient"),
    Row("PATCH", "/api/v1/patients/{id}/",                       401, 200, 200, 200, 404, obj="patient",
        body={"phone": "+49 30 555 0101"}),
    Row("GET",   "/api/v1/patients/{id}/calendar.ics",           401, 200, 200, 200, 404, obj="patient"),
    Row("GET",   "/api/v1/practitioners/",                       401, 200, 200, 200, 200, note="other: its own staff"),
    Row("GET",   "/api/v1/practitioners/{id}/",                  401, 200, 200, 200, 404, obj="practitioner"),
    Row("GET",   "/api/v1/rooms/",                               401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/rooms/{id}/",                          401, 200, 200, 200, 404, obj="room"),
    Row("GET",   "/api/v1/absences/",                            401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/absences/",                            401, 403, 403, 201, 400,
        body=lambda world: {"practitioner": world.users["clin"].pk, "first_day": "2026-06-01", "last_day": "2026-06-02"},
        note="other: 400, our clinician's id is unknown to it"),
    Row("DELETE", "/api/v1/absences/{id}/",                      401, 403, 403, 204, 404, obj="absence"),
    Row("GET",   "/api/v1/enrolments/",                          401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/enrolments/",                          401, 201, 201, 201, 400,
        body=_enrolment_body, note="other: 400, our patient and protocol ids are unknown to it"),
    Row("POST",  "/api/v1/enrolments/import/",                   401, 403, 403, 201, 400,
        body=_import_body, note="other: 400, our protocol's name is unknown to it"),
    Row("GET",   "/api/v1/enrolments/{id}/",                     401, 200, 200, 200, 404, obj="enrolment"),
    Row("POST",  "/api/v1/enrolments/{id}/withdraw/",            401, 403, 200, 200, 404, obj="enrolment",
        body={"reason": "Moved away."}),
    Row("GET",   "/api/v1/enrolments/{id}/outcomes/",            401, 200, 200, 200, 404, obj="enrolment"),
    Row("GET",   "/api/v1/sessions/",                            401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/sessions/{id}/",                       401, 200, 200, 200, 404, obj="booked_now"),
    Row("GET",   "/api/v1/sessions/{id}/slots/",                 401, 200, 200, 200, 404, obj="planned"),
    Row("POST",  "/api/v1/sessions/{id}/book/",                  401, 200, 200, 200, 404, obj="planned",
        body=_book_body),
    Row("POST",  "/api/v1/sessions/{id}/cancel-booking/",        401, 200, 200, 200, 404, obj="booked_later"),
    Row("POST",  "/api/v1/sessions/{id}/no-show/",               401, 200, 200, 200, 404, obj="booked_now",
        body={"reason": "Did not come."}, note="its booked start has passed"),
    Row("POST",  "/api/v1/sessions/{id}/skip/",                  401, 403, 200, 200, 404, obj="planned",
        body={"reason": "Travelling."}),
    Row("POST",  "/api/v1/sessions/{id}/complete/",              401, 403, 200, 200, 404, obj="booked_now",
        body=_complete_body, note="its booked start has passed"),
    Row("GET",   "/api/v1/sessions/{id}/reminders/",             401, 200, 200, 200, 404, obj="booked_later"),
    Row("GET",   "/api/v1/sessions/{id}/questionnaire/",         401, 200, 200, 200, 404, obj="booked_later"),
    Row("POST",  "/api/v1/sessions/{id}/questionnaire/",         401, 400, 400, 400, 404, obj="booked_later",
        body={"outcomes": [{"measure": "pain_vas", "value": 3}]},
        note="a paper questionnaire: the visit asks no patient-reported measure (400 naming it)"),
    Row("GET",   "/api/v1/reminders/",                           401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/outcomes/{id}/",                       401, 200, 200, 200, 404, obj="outcome"),
    Row("PATCH", "/api/v1/outcomes/{id}/",                       401, 403, 200, 200, 404, obj="outcome",
        body={"value": 104, "reason": "Mistyped: 140 was meant as 104."}),
    Row("GET",   "/api/v1/outcomes/{id}/history/",               401, 200, 200, 200, 404, obj="outcome"),
    Row("POST",  "/api/v1/auth/logout/",                         401, 204, 204, 204, 204,
        note="revokes the caller's own token"),
    Row("POST",  "/api/v1/auth/totp/",                           401, 200, 200, 200, 200,
        note="starts the caller's own second factor"),
    Row("POST",  "/api/v1/auth/totp/confirm/",                   401, 400, 400, 400, 400,
        body={"code": "000000"}, note="a wrong code: 400 naming code"),
    Row("GET",   "/api/v1/auth/sessions/",                       401, 200, 200, 200, 200,
        note="the caller's own sign-ins"),
    Row("POST",  "/api/v1/auth/logout-everywhere/",              401, 204, 204, 204, 204,
        note="ends the caller's own sign-ins"),
    Row("GET",   "/api/v1/audit/",                               401, 403, 403, 200, 200, note="other: its own log"),
    Row("GET",   "/api/v1/audit/csv/",                           401, 403, 403, 200, 200, note="other: its own log"),
    Row("GET",   "/api/v1/patients/{id}/export/",                401, 403, 403, 200, 404, obj="patient"),
    Row("POST",  "/api/v1/patients/{id}/erase/",                 401, 403, 403, 200, 404, obj="patient",
        body=lambda world: {"confirm": world.patient.record_number}),
]

# SPEC §12: products and lots, adverse events, consent, photographs.
TABLE += [
    Row("GET",   "/api/v1/products/",                            401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/products/",                            401, 403, 403, 201, 201,
        body={"name": "Exosome vial", "source_tissue": "adipose", "form": "exosomes"},
        note="other: creates one in its own clinic"),
    Row("GET",   "/api/v1/products/{id}/",                       401, 200, 200, 200, 404, obj="product"),
    Row("PATCH", "/api/v1/products/{id}/",                       401, 403, 403, 200, 404, obj="product",
        body={"manufacturer": "CellLab"}),
    Row("GET",   "/api/v1/lots/",                                401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("POST",  "/api/v1/lots/",                                401, 403, 403, 201, 400,
        body=lambda world: {"product": world.objects["product"].pk, "lot_number": "NEW-1", "expiry_date": "2027-01-01"},
        note="other: 400, our product id is unknown to it"),
    Row("GET",   "/api/v1/lots/{id}/",                           401, 200, 200, 200, 404, obj="lot"),
    Row("PATCH", "/api/v1/lots/{id}/",                           401, 403, 403, 200, 404, obj="lot",
        body={"concentration_unit": "mg/mL"}),
    Row("GET",   "/api/v1/lots/{id}/recall/",                    401, 200, 200, 200, 404, obj="lot"),
    Row("GET",   "/api/v1/lots/{id}/recall.csv",                 401, 200, 200, 200, 404, obj="lot"),
    Row("GET",   "/api/v1/adverse-events/",                      401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/adverse-events/{id}/",                 401, 200, 200, 200, 404, obj="adverse_event"),
    Row("PATCH", "/api/v1/adverse-events/{id}/",                 401, 403, 200, 200, 404, obj="adverse_event",
        body={"outcome": "recovering"}),
    Row("GET",   "/api/v1/adverse-events/{id}/history/",         401, 200, 200, 200, 404, obj="adverse_event"),
    Row("GET",   "/api/v1/enrolments/{id}/adverse-events/",      401, 200, 200, 200, 404, obj="enrolment"),
    Row("POST",  "/api/v1/enrolments/{id}/adverse-events/",      401, 403, 201, 201, 404, obj="enrolment",
        body={"description": "Scalp itching", "grade": 1}),
    Row("GET",   "/api/v1/patients/{id}/consents/",              401, 200, 200, 200, 404, obj="patient"),
    Row("GET",   "/api/v1/decisions/",                           401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/decisions/{id}/",                      401, 200, 200, 200, 404, obj="decision"),
    Row("POST",  "/api/v1/decisions/{id}/accept/",               401, 403, 200, 200, 404, obj="decision"),
    Row("POST",  "/api/v1/decisions/{id}/override/",             401, 403, 200, 200, 404, obj="decision",
        body={"action": "continue", "reason": "Seen the patient."}),
    Row("GET",   "/api/v1/enrolments/{id}/decisions/",           401, 200, 200, 200, 404, obj="enrolment"),
    Row("POST",  "/api/v1/patients/{id}/consents/",              401, 201, 201, 201, 404, obj="patient",
        body={"kind": "registry", "given": True}),
    Row("GET",   "/api/v1/sessions/{id}/photos/",                401, 200, 200, 200, 404, obj="booked_now"),
    Row("POST",  "/api/v1/sessions/{id}/photos/",                401, 403, 415, 415, 404, obj="booked_now",
        note="the matrix sends JSON: 415 for the allowed roles (uploads: tests/sessions/records/test_photos.py)"),
    Row("GET",   "/api/v1/photos/",                              401, 200, 200, 200, 200, note="other: its own (none)"),
    Row("GET",   "/api/v1/photos/{id}/",                         401, 200, 200, 200, 404, obj="photo"),
    Row("GET",   "/api/v1/photos/{id}/image/",                   401, 200, 200, 200, 404, obj="photo"),
    Row("GET",   "/api/v1/photos/{id}/thumbnail/",               401, 200, 200, 200, 404, obj="photo"),
    Row("GET",   "/api/v1/reports/cohort/",                      401, 403, 403, 200, 200, note="other: its own clinic's cohort"),
    Row("GET",   "/api/v1/exports/outcomes.csv",                 401, 403, 403, 200, 200, note="other: its own clinic's rows"),
    Row("GET",   "/api/v1/patients/{id}/fhir/",                  401, 403, 403, 200, 404, obj="patient"),
]

# Operations whose allowed roles depend on the body (SPEC §1, §4).
VARIANTS = [
    Row("POST",  "/api/v1/sessions/{id}/book/",                  401, 403, 200, 200, 404, obj="planned",
        body=lambda world: {**_book_body(world), "start": "2026-03-27T10:00", "override_reason": "Holiday."},
        variant="outside the window", note="only a clinician or manager books outside the window"),
]
# fmt: on

# State-driven codes for the allowed roles, beside the happy path above: the
# same endpoint on an object in the wrong state.
STATE_ROWS = [
    #   method   path                                  obj             body                       code
    ("POST", "/api/v1/sessions/{id}/no-show/", "booked_later", {}, 409),  # its start is still ahead
    ("POST", "/api/v1/sessions/{id}/complete/", "booked_later", {"not_done_reason": "x"}, 409),
    ("POST", "/api/v1/sessions/{id}/complete/", "planned", {"not_done_reason": "x"}, 409),  # never booked
    ("POST", "/api/v1/sessions/{id}/cancel-booking/", "planned", {}, 409),
    ("POST", "/api/v1/sessions/{id}/skip/", "booked_now", {}, 400),  # a skip needs a reason
    ("POST", "/api/v1/sessions/{id}/book/", "planned", {"start": "2026-03-20T10:00", "practitioner": "clin"}, 400),
]


@dataclass
class World:
    users: dict
    tokens: dict
    protocol: object
    patient: object
    spare_patient: object
    room: object
    enrolment: object
    objects: dict


def _photo_of(session, by):
    import io

    from PIL import Image

    from patients.consents import record_consent
    from sessions.records.photos import add_photo

    record_consent(patient=session.patient, kind="photography", given=True, by=by)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 140, 120)).save(buffer, "JPEG")
    return add_photo(session=session, view="vertex", data=buffer.getvalue(), by=by)


@pytest.fixture
def world(clinic, other_clinic, receptionist, clinician, manager, outsider, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": media_storage("", media_root=str(tmp_path))}
    users = {"rec": receptionist, "clin": clinician, "mgr": manager, "other": outsider}
    with time_machine.travel(ASKED, tick=False):
        protocol = make_protocol(clinic)
        patient = PatientFactory(clinic=clinic)
        room = RoomFactory(clinic=clinic, name="Room 1")
        enrolment = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=START, by=receptionist, now=BUILT
        )
        baseline, first, second = enrolment.sessions.order_by("sequence")[:3]
        services.book_session(
            session=baseline, start=at(START, 10), practitioner=clinician, room=room, by=receptionist, now=BUILT
        )
        services.book_session(
            session=first, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=receptionist, now=BUILT
        )
        # A value recorded last week, at the patient's earlier course.
        earlier = services.enrol_patient(
            patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=dt.date(2026, 2, 23),
            by=receptionist, now=BUILT - dt.timedelta(days=8),
        )
        earlier_baseline = earlier.sessions.order_by("sequence")[0]
        services.book_session(session=earlier_baseline, start=at(dt.date(2026, 2, 23), 10), practitioner=clinician,
                              by=receptionist, now=BUILT - dt.timedelta(days=8))
        services.complete_session(
            session=earlier_baseline, by=clinician, outcomes=[{"measure": "hair_density", "value": 140}],
            now=at(dt.date(2026, 2, 23), 11),
        )
        outcome = earlier_baseline.outcomes.get()
        yield World(
            users=users,
            tokens={persona: issue_token(user).key for persona, user in users.items()},
            protocol=protocol,
            patient=patient,
            spare_patient=PatientFactory(clinic=clinic),
            room=room,
            enrolment=enrolment,
            objects={
                "protocol": protocol,
                "patient": patient,
                "practitioner": clinician,
                "room": room,
                "absence": Absence.objects.create(
                    clinic=clinic, practitioner=clinician, first_day=dt.date(2026, 7, 1), last_day=dt.date(2026, 7, 2)
                ),
                "enrolment": enrolment,
                "booked_now": baseline,
                "booked_later": first,
                "planned": second,
                "outcome": outcome,
                "product": (lot := lot_of(clinic)).product,
                "lot": lot,
                "adverse_event": report_adverse_event(
                    enrolment=enrolment, data={"description": "Redness", "grade": 1}, by=clinician
                ),
                "photo": _photo_of(baseline, clinician),
                "decision": Decision.objects.create(
                    clinic=clinic, enrolment=earlier, session=earlier_baseline, proposed_action="review",
                    rule_text="default", created_at=BUILT,
                ),
            },
        )


def _client(world: World, persona: str) -> APIClient:
    if persona == "anon":
        return APIClient()
    return APIClient(HTTP_AUTHORIZATION=f"Token {world.tokens[persona]}")


def _request(world: World, persona: str, row: Row):
    path = row.path.replace("{id}", str(world.objects[row.obj].pk)) if row.obj else row.path
    if row.body == "credentials":
        username = world.users["rec" if persona == "anon" else persona].username
        body = {"username": username, "password": PASSWORD}
    else:
        body = row.body(world) if callable(row.body) else row.body
    client = _client(world, persona)
    if row.method == "GET":
        return client.get(path, row.query)
    return getattr(client, row.method.lower())(path, body or {}, format="json")


def _rolled_back(call):
    """Run one request in a savepoint and undo it: the next persona meets the same state."""
    with transaction.atomic():
        response = call()
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("row", TABLE + VARIANTS, ids=str)
def test_status_code_of_each_persona(world, row):
    got, bodies = {}, {}
    with time_machine.travel(ASKED, tick=False):
        for persona in PERSONAS:
            response = _rolled_back(lambda persona=persona: _request(world, persona, row))
            got[persona] = response.status_code
            bodies[persona] = b"(streamed)" if response.streaming else response.content[:300]
    assert got == row.expected, bodies


@pytest.mark.parametrize("method,path,obj,body,code", STATE_ROWS, ids=lambda v: v if isinstance(v, str) else "")
def test_state_driven_codes_for_the_allowed_roles(world, method, path, obj, body, code):
    body = {key: world.users[value].pk if value in world.users else value for key, value in body.items()}
    url = path.replace("{id}", str(world.objects[obj].pk))
    with time_machine.travel(ASKED, tick=False):
        for persona in ("clin", "mgr"):
            response = _rolled_back(lambda persona=persona: _client(world, persona).post(url, body, format="json"))
            assert response.status_code == code, (persona, response.content)


def test_the_table_covers_every_operation_of_the_schema(db):
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "put", "patch", "post", "delete")
    }
    rows = [(row.method, row.path) for row in TABLE]
    assert len(rows) == len(set(rows)), "a row appears twice"
    assert operations - set(rows) == set(), "operations without a row in the role matrix"
    assert set(rows) - operations == {
        ("GET", "/api/v1/schema/"), ("GET", "/api/v1/docs/"), ("GET", "/api/v1/")
    }, "rows of no operation"


def test_another_clinics_manager_lists_none_of_ours(world):
    client = _client(world, "other")
    with time_machine.travel(ASKED, tick=False):
        for path in ("/api/v1/patients/", "/api/v1/enrolments/", "/api/v1/sessions/", "/api/v1/reminders/",
                     "/api/v1/rooms/", "/api/v1/protocols/"):
            answer = client.get(path)
            assert answer.status_code == 200
            assert answer.json()["count"] == 0, path
        staff = client.get("/api/v1/practitioners/").json()["results"]
    assert [member["username"] for member in staff] == ["otto"]
