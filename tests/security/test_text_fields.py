"""Issue 30: control and bidi characters are refused in every text field a
person types, over every door. A walk over the API's write endpoints posts
ESC, BEL, RLO and a newline into each text field: a single-line field
refuses all four, a multi-line field the first three, with a 400 naming the
field and no row changed; a multi-line field keeps the newline. The pages
show the same refusal beside their field, and services called directly
(commands, the demo, other workflows) refuse too."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinics.models import Absence, Clinic, Closure, Room, User
from clinics.services import create_staff
from patients.models import Consent, Enrolment, Patient
from protocols.models import Lot, Product, Protocol, Step
from sessions import services
from sessions.models import AdverseEvent, BookingChange, Decision, Deviation, OutcomeMeasurement, Session
from tests.factories import lot_of, make_protocol, step
from tests.web.conftest import login

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
START = dt.date(2026, 3, 2)  # the baseline's day; the first injection's window is 16–30 March
VISIT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # 10:00 in Berlin: the baseline's booked start

BAD = {"ESC": "Anna\x1b[31m", "BEL": "Anna\x07", "RLO": "Anna \u202egnp.exe", "newline": "Anna\nBcc: x"}
MULTI_LINE_OK = "First line\r\nsecond line\n\tindented"

# Every table a refused request could have written to.
WATCHED = [
    Clinic, Room, Absence, Closure, Patient, Consent, Enrolment, Protocol, Step, Product, Lot, Session,
    BookingChange, Deviation, OutcomeMeasurement, AdverseEvent, Decision,
]


def snapshot() -> dict:
    return {model.__name__: sorted(map(repr, model.objects.order_by("pk").values())) for model in WATCHED}


@dataclass
class World:
    clinic: Any
    manager: Any
    clinician: Any
    receptionist: Any
    patient: Any
    enrolment: Any
    baseline: Any  # booked at VISIT
    injection: Any  # planned, window 16–30 March
    traveller: Any
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(clinic, manager, clinician, receptionist, patient, hair_protocol):
    with time_machine.travel(NOW, tick=False) as traveller:
        enrolment = services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=START, by=receptionist)
        baseline = enrolment.sessions.get(sequence=1)
        services.book_session(session=baseline, start=VISIT, practitioner=clinician, by=receptionist)
        yield World(
            clinic, manager, clinician, receptionist, patient, enrolment,
            Session.objects.get(pk=baseline.pk), enrolment.sessions.get(sequence=2), traveller,
        )


def after_the_visit(w: World) -> None:
    w.traveller.move_to(VISIT + dt.timedelta(hours=1))


def completed_baseline(w: World) -> OutcomeMeasurement:
    after_the_visit(w)
    services.complete_session(
        session=w.baseline, by=w.clinician, outcomes=[{"measure": "hair_density", "value": 150}]
    )
    return OutcomeMeasurement.objects.get(session=w.baseline)


def reported_event(w: World) -> AdverseEvent:
    from sessions.records.adverse_events import report_adverse_event

    return report_adverse_event(enrolment=w.enrolment, data={"description": "Redness", "grade": 1}, by=w.clinician)


def pending_decision(w: World) -> Decision:
    decide = {"rules": [], "default": {"then": "continue", "reason": "Go on"}}
    protocol = make_protocol(
        w.clinic, name="Decided", steps=[step("Check", "assessment", measures=["hair_density"], decision=decide),
                                         step("Injection", interval_days=14, window_after_days=14)],
    )
    enrolment = services.enrol_patient(patient=w.patient, protocol=protocol, start_date=START, by=w.receptionist,
                                       allow_concurrent=True)
    check = enrolment.sessions.get(sequence=1)
    services.book_session(session=check, start=VISIT + dt.timedelta(hours=2), practitioner=w.clinician,
                          by=w.receptionist)
    w.traveller.move_to(VISIT + dt.timedelta(hours=3))
    services.complete_session(session=check, by=w.clinician, outcomes=[{"measure": "hair_density", "value": 150}])
    return Decision.objects.get(session=check)


@dataclass
class Case:
    """One text field of one write endpoint: `body(text)` is a request that
    succeeds with ordinary text; `path` leads to the field in a 400's body."""

    id: str
    method: str
    url: Any  # (World) -> str
    body: Any  # (World, text) -> dict
    path: tuple
    multiline: bool
    user: str = "manager"
    prepare: Any = None  # (World) -> None, before the request

    def param(self):
        return pytest.param(self, id=self.id)


def patient_body(w, text):
    return {"record_number": "M-77", "first_name": text, "last_name": "Brandt", "date_of_birth": "1970-01-01"}


def protocol_body(w, text, where):
    body = {"name": "Scars", "indication": "scar", "delivery": "topical", "description": "",
            "steps": [{"name": "Needling", "kind": "treatment"}]}
    if where == "step":
        body["steps"][0]["name"] = text
    else:
        body[where] = text
    return body


def completion(w, **fields):
    return {"outcomes": [{"measure": "hair_density", "value": 150}], **fields}


CASES = [
    # Patients and their consents.
    Case("patient first_name", "post", lambda w: "/api/v1/patients/", patient_body, ("first_name",), False),
    Case("patient phone", "patch", lambda w: f"/api/v1/patients/{w.patient.pk}/",
         lambda w, t: {"phone": "030 1234567" + t}, ("phone",), False),
    Case("patient email", "patch", lambda w: f"/api/v1/patients/{w.patient.pk}/",
         lambda w, t: {"email": f"hanna@exa{t}mple.org"}, ("email",), False),
    Case("consent note", "post", lambda w: f"/api/v1/patients/{w.patient.pk}/consents/",
         lambda w, t: {"kind": "photography", "given": True, "note": t}, ("note",), False),
    # Enrolments.
    Case("enrolment area", "post", lambda w: "/api/v1/enrolments/",
         lambda w, t: {"patient": w.patient.pk, "protocol": w.enrolment.protocol_id, "start_date": "2026-03-09",
                       "area": "scalp " + t, "allow_concurrent": True}, ("area",), False),
    Case("withdrawal reason", "post", lambda w: f"/api/v1/enrolments/{w.enrolment.pk}/withdraw/",
         lambda w, t: {"reason": t}, ("reason",), True, user="clinician"),
    # Sessions: book out of window, move, cancel, no-show, skip, complete.
    Case("book override_reason", "post", lambda w: f"/api/v1/sessions/{w.injection.pk}/book/",
         lambda w, t: {"start": "2026-03-10T10:00", "practitioner": w.clinician.pk, "override_reason": t},
         ("override_reason",), True, user="clinician"),
    Case("move change_note", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/book/",
         lambda w, t: {"start": "2026-03-02T12:00", "practitioner": w.clinician.pk, "change_reason": "patient",
                       "change_note": t}, ("change_note",), True, user="receptionist"),
    Case("cancellation note", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/cancel-booking/",
         lambda w, t: {"reason": "patient", "note": t}, ("note",), True, user="receptionist"),
    Case("no-show reason", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/no-show/",
         lambda w, t: {"reason": t}, ("reason",), True, user="receptionist", prepare=after_the_visit),
    Case("skip reason", "post", lambda w: f"/api/v1/sessions/{w.injection.pk}/skip/",
         lambda w, t: {"reason": t}, ("reason",), True, user="clinician"),
    Case("completion notes", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/complete/",
         lambda w, t: completion(w, notes=t), ("notes",), True, user="clinician", prepare=after_the_visit),
    Case("completion product_concentration", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/complete/",
         lambda w, t: completion(w, product_concentration="10 " + t), ("product_concentration",), False,
         user="clinician", prepare=after_the_visit),
    Case("completion not_done_reason", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/complete/",
         lambda w, t: {"not_done_reason": t}, ("not_done_reason",), True, user="clinician", prepare=after_the_visit),
    Case("completion adverse event", "post", lambda w: f"/api/v1/sessions/{w.baseline.pk}/complete/",
         lambda w, t: completion(w, adverse_events=[{"description": t, "grade": 1}]),
         ("adverse_events", 0, "description"), True, user="clinician", prepare=after_the_visit),
    # Outcomes, adverse events and decisions.
    Case("outcome correction reason", "patch", lambda w: f"/api/v1/outcomes/{w.extra['measurement'].pk}/",
         lambda w, t: {"value": 160, "reason": t}, ("reason",), False, user="clinician",
         prepare=lambda w: w.extra.update(measurement=completed_baseline(w))),
    Case("adverse event description", "post", lambda w: f"/api/v1/enrolments/{w.enrolment.pk}/adverse-events/",
         lambda w, t: {"description": t, "grade": 1}, ("description",), True, user="clinician"),
    Case("adverse event update", "patch", lambda w: f"/api/v1/adverse-events/{w.extra['event'].pk}/",
         lambda w, t: {"description": t}, ("description",), True, user="clinician",
         prepare=lambda w: w.extra.update(event=reported_event(w))),
    Case("decision override reason", "post", lambda w: f"/api/v1/decisions/{w.extra['decision'].pk}/override/",
         lambda w, t: {"action": "review", "reason": t}, ("reason",), True, user="clinician",
         prepare=lambda w: w.extra.update(decision=pending_decision(w))),
    # Products and lots.
    Case("product name", "post", lambda w: "/api/v1/products/",
         lambda w, t: {"name": "Serum " + t, "source_tissue": "adipose", "form": "secretome"}, ("name",), False),
    Case("product manufacturer", "post", lambda w: "/api/v1/products/",
         lambda w, t: {"name": "Serum", "source_tissue": "adipose", "form": "secretome", "manufacturer": t},
         ("manufacturer",), False),
    Case("lot number", "post", lambda w: "/api/v1/lots/",
         lambda w, t: {"product": w.extra["lot"].product_id, "lot_number": "L-9" + t, "expiry_date": "2030-01-31"},
         ("lot_number",), False, prepare=lambda w: w.extra.update(lot=lot_of(w.clinic))),
    Case("lot concentration_unit", "patch", lambda w: f"/api/v1/lots/{w.extra['lot'].pk}/",
         lambda w, t: {"concentration_unit": "µg/mL" + t}, ("concentration_unit",), False,
         prepare=lambda w: w.extra.update(lot=lot_of(w.clinic))),
    # Protocols.
    Case("protocol name", "post", lambda w: "/api/v1/protocols/",
         lambda w, t: protocol_body(w, t, "name"), ("name",), False),
    Case("protocol description", "post", lambda w: "/api/v1/protocols/",
         lambda w, t: protocol_body(w, t, "description"), ("description",), True),
    Case("protocol product", "post", lambda w: "/api/v1/protocols/",
         lambda w, t: protocol_body(w, t, "product"), ("product",), False),
    Case("step name", "post", lambda w: "/api/v1/protocols/",
         lambda w, t: protocol_body(w, t, "step"), ("steps", 0, "name"), False),
    # The clinic's settings and absences.
    Case("clinic name", "patch", lambda w: "/api/v1/clinic/", lambda w, t: {"name": "Skin " + t}, ("name",), False),
    Case("clinic address", "patch", lambda w: "/api/v1/clinic/",
         lambda w, t: {"address": "Main St 1" + t}, ("address",), False),
    Case("clinic sender_email", "patch", lambda w: "/api/v1/clinic/",
         lambda w, t: {"sender_email": f"desk@exa{t}mple.org"}, ("sender_email",), False),
    Case("absence reason", "post", lambda w: "/api/v1/absences/",
         lambda w, t: {"practitioner": w.clinician.pk, "first_day": "2026-04-01", "last_day": "2026-04-02",
                       "reason": t}, ("reason",), False),
]


def errors_at(body, path):
    for key in path:
        # A nested list's errors come as a list, or (with max_length) keyed by the index as text.
        body = body[str(key)] if isinstance(body, dict) and isinstance(key, int) else body[key]
    return body


def send(client_as, w: World, case: Case, text: str):
    client = client_as(getattr(w, case.user))
    return getattr(client, case.method)(case.url(w), case.body(w, text), format="json")


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_every_text_field_refuses_control_and_bidi_characters_with_a_400_naming_it(world, client_as, case):
    if case.prepare:
        case.prepare(world)
    refused = {name: text for name, text in BAD.items() if not (case.multiline and name == "newline")}
    before = snapshot()
    for name, text in refused.items():
        answer = send(client_as, world, case, text)
        assert answer.status_code == 400, (name, answer.status_code, answer.content)
        messages = errors_at(answer.json(), case.path)
        assert "U+" in str(messages), (name, messages)
        assert snapshot() == before, f"{name}: a row changed"
    # The same request with ordinary text goes through: the 400 was the character's.
    ordinary = send(client_as, world, case, MULTI_LINE_OK if case.multiline else "Anna")
    assert ordinary.status_code in (200, 201), ordinary.content


@pytest.mark.parametrize("case", [c.param() for c in CASES if c.multiline])
def test_a_multi_line_field_keeps_its_newlines(world, client_as, case):
    if case.prepare:
        case.prepare(world)
    answer = send(client_as, world, case, MULTI_LINE_OK)
    assert answer.status_code in (200, 201), answer.content
    stored = [
        value
        for model in WATCHED
        for row in model.objects.values()
        for value in row.values()
        if isinstance(value, str) and MULTI_LINE_OK in value
    ]
    assert stored, "the text with its line breaks was not kept"


def test_every_field_a_person_types_declares_its_rule():
    """The rule lives on the model field, so ModelForms, ModelSerializers and
    the admin apply it: every free-text column of the domain's models (not
    the system's own: tokens, digests, audit and delivery details) names
    single_line or multi_line."""
    from core.text import text_rule

    system = {
        ("clinics", "ApiToken"), ("clinics", "SignIn"), ("audit", "AuditLog"),
        ("treatment_sessions", "Reminder"), ("treatment_sessions", "CalendarFeed"),
    }
    system_fields = {
        "slug", "timezone", "holiday_region", "password", "username", "library_key",
        "arm", "code", "review_reason", "proposed_action", "chosen_action", "rule_text", "rule_reason", "token",
        "history_change_reason", "session_key", "user_agent", "prefix", "digest",
    }
    missing = []
    for app in ("clinics", "protocols", "patients", "treatment_sessions"):
        for model in apps.get_app_config(app).get_models():
            if (app, model.__name__) in system or model.__name__.startswith("Historical"):
                continue
            for f in model._meta.get_fields():
                typed = getattr(f, "get_internal_type", lambda: "")() in ("CharField", "TextField") and not f.choices
                if typed and f.name not in system_fields and text_rule(model, f.name) is None:
                    missing.append(f"{model.__name__}.{f.name}")
    assert missing == []


@pytest.mark.parametrize("name", list(BAD))
def test_services_called_directly_refuse_them_too(world, name):
    """Commands and other workflows call services without a serializer; the
    service reads the rule off the model field (newlines pass a note)."""
    text = BAD[name]
    if name != "newline":
        with pytest.raises(ValidationError) as refused:
            services.cancel_booking(session=world.baseline, reason="patient", note=text, by=world.receptionist)
        assert "note" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            services.skip_session(session=world.injection, reason=text, by=world.clinician)
        assert "reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.enrol_patient(patient=world.patient, protocol=world.enrolment.protocol, start_date=START,
                               by=world.receptionist, area=text, allow_concurrent=True)
    assert "area" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        make_protocol(world.clinic, name="Other", steps=[step("Needle" + text)])
    assert "Step 1, name" in str(refused.value.message_dict["steps"])
    with pytest.raises(ValidationError) as refused:  # manage.py create_staff's way
        create_staff(username="newbie", clinic=world.clinic, role="reception", password="x" * 16, last_name=text,
                     email=f'"new{text}"@example.org')
    assert {"last_name", "email"} <= set(refused.value.message_dict)
    assert not User.objects.filter(username="newbie").exists()
    assert [s.status for s in Session.objects.filter(pk__in=[world.baseline.pk, world.injection.pk])] == [
        "booked", "planned",
    ]
    assert Enrolment.objects.count() == 1
    assert not Protocol.objects.filter(name="Other").exists()


# --- The pages and the admin ------------------------------------------------------------------------------


def test_the_withdraw_form_refuses_escape_and_keeps_line_breaks(client, world):
    login(client, world.clinician)
    url = reverse("enrolment_withdraw", args=[world.enrolment.pk])
    field = f"withdraw-{world.enrolment.pk}-reason"
    refused = client.post(url, {field: "Moved\x1b[2J"}, follow=True)
    assert any("U+001B" in str(m) for m in refused.context["messages"])
    assert Enrolment.objects.get(pk=world.enrolment.pk).status == "active"
    client.post(url, {field: "Moved to Hamburg.\r\nWill call."})
    assert Enrolment.objects.get(pk=world.enrolment.pk).withdrawn_reason == "Moved to Hamburg.\r\nWill call."


def test_the_cancel_form_refuses_a_bell_in_its_note(client, world):
    login(client, world.receptionist)
    refused = client.post(
        reverse("session_cancel", args=[world.baseline.pk]),
        {"cancel-reason": "patient", "cancel-note": "Called\x07"},
        follow=True,
    )
    assert any("U+0007" in str(m) for m in refused.context["messages"])
    assert Session.objects.get(pk=world.baseline.pk).status == "booked"
    assert not BookingChange.objects.exists()


def test_the_clinic_settings_page_shows_the_refusal_beside_the_name(client, world):
    from tests.web.test_settings_page import settings_post

    login(client, world.manager)
    response = client.post(reverse("clinic_settings"), settings_post(world.clinic, name="Charité\u202eSkin"))
    assert response.status_code == 400
    assert "U+202E" in str(response.context["form"].errors["name"])
    assert Clinic.objects.get(pk=world.clinic.pk).name == "Charité Skin"


def test_the_admin_refuses_them_too(client, world):
    from tests.admin.test_admin import clinic_change_form_data

    world.manager.is_staff = True  # as create_staff makes every manager
    world.manager.save(update_fields=["is_staff"])
    client.force_login(world.manager)
    data = clinic_change_form_data(client, world.clinic)
    data["address"] = "Main St 1\x1b[2J"
    response = client.post(f"/admin/clinics/clinic/{world.clinic.pk}/change/", data)
    assert response.status_code == 200
    assert "address" in response.context["adminform"].form.errors
    assert Clinic.objects.get(pk=world.clinic.pk).address == ""
