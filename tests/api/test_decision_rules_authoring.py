"""SPEC §19 authoring over the API: rules and arms on a protocol version,
validated on save (a 400 naming what is unknown, nothing saved)."""

import copy

import pytest

from protocols.models import Protocol
from protocols.services import load_measures


@pytest.fixture(autouse=True)
def catalogue(db):
    load_measures()

PSORIASIS = {
    "name": "Psoriasis treat-to-target",
    "indication": "psoriasis",
    "delivery": "topical",
    "steps": [
        {"name": "Baseline", "kind": "assessment", "measures": ["pasi", "iga", "dlqi"]},
        {
            "name": "Week 12",
            "kind": "assessment",
            "interval_days": 84,
            "anchor": "start",
            "window_before_days": 7,
            "window_after_days": 7,
            "measures": ["pasi", "iga", "dlqi"],
            "decision": {
                "rules": [
                    {"if": "responder: pasi_75", "then": "switch_to: maintenance", "reason": "PASI-75"},
                    {"if": "pasi percent_change <= -50", "then": "switch_to: extension", "reason": "PASI-50"},
                ],
                "default": {"then": "review", "reason": "No PASI-50"},
            },
        },
        {"name": "Maintenance review", "kind": "assessment", "arm": "maintenance", "repeat": 3,
         "interval_days": 56, "anchor": "start", "window_before_days": 7, "window_after_days": 7,
         "measures": ["pasi", "dlqi"]},
        {"name": "Extension", "kind": "assessment", "arm": "extension", "repeat": 2, "interval_days": 28,
         "anchor": "start", "window_before_days": 5, "window_after_days": 5, "measures": ["pasi"]},
    ],
}


def test_rules_and_arms_are_saved_and_read_back(client_as, manager):
    answer = client_as(manager).post("/api/v1/protocols/", PSORIASIS, format="json")
    assert answer.status_code == 201, answer.content
    steps = answer.json()["steps"]
    assert [s["arm"] for s in steps] == ["", "", "maintenance", "extension"]
    assert steps[1]["decision"] == PSORIASIS["steps"][1]["decision"]
    assert steps[0]["decision"] is None


def _with(change):
    body = copy.deepcopy(PSORIASIS)
    change(body)
    return body


def _rule(body, text, action="review"):
    body["steps"][1]["decision"]["rules"][0] = {"if": text, "then": action}


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda b: _rule(b, "pasii < 3"), "unknown measure 'pasii'"),
        (lambda b: _rule(b, "responder: pasi_50"), "unknown responder 'pasi_50'"),
        (lambda b: _rule(b, "pasi < 3", "switch_to: maintenence"), "unknown arm 'maintenence'"),
        (lambda b: b["steps"][1]["decision"]["default"].update(then="switch_to: nowhere"), "unknown arm 'nowhere'"),
        (lambda b: _rule(b, "scorad < 3"), "measure 'scorad' is not recorded at this step"),
        (lambda b: _rule(b, "iga percent_change <= -50"), "never a percent change"),
        (lambda b: _rule(b, "pasi <> 3"), "operator '<>'"),
        (lambda b: _rule(b, "pasi < 3", "jump"), "action 'jump'"),
        (lambda b: b["steps"][1]["decision"].pop("default"), "a default"),
        (lambda b: b["steps"][1].update(decision=[1]), "decision must be an object"),
        (lambda b: b["steps"][2].update(arm="Main Tenance"), "arm must be a short lower-case name"),
        (lambda b: [s.update(arm="x") for s in b["steps"]], "main path"),
    ],
)
def test_bad_rules_are_a_400_naming_them(client_as, manager, change, named):
    answer = client_as(manager).post("/api/v1/protocols/", _with(change), format="json")
    assert answer.status_code == 400, answer.content
    assert named in " ".join(answer.json()["steps"]), answer.json()
    assert not Protocol.objects.filter(name=PSORIASIS["name"]).exists()


def test_an_arm_is_not_scheduled_at_enrolment(client_as, manager, receptionist, patient, frozen):
    protocol = client_as(manager).post("/api/v1/protocols/", PSORIASIS, format="json").json()
    answer = client_as(receptionist).post(
        "/api/v1/enrolments/", {"patient": patient.pk, "protocol": protocol["id"], "start_date": "2026-03-02"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    names = [s.step.name for s in Protocol.objects.get(pk=protocol["id"]).enrolments.get().sessions.all()]
    assert names == ["Baseline", "Week 12"]
