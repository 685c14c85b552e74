"""Protocols with nested steps; editing one with enrolments makes a new version."""

import json

import pytest

from protocols.models import Protocol
from tests.factories import make_protocol

NEW = {
    "name": "Photoaging booster",
    "indication": "photoaging",
    "delivery": "microneedling",
    "description": "Three sessions a month apart.",
    "product": "Adipose MSC-CM",
    "steps": [
        {"name": "Baseline", "kind": "assessment", "measures": ["wrinkle_depth"]},
        {
            "name": "Microneedling",
            "kind": "treatment",
            "repeat": 3,
            "interval_days": 28,
            "window_before_days": 3,
            "window_after_days": 7,
            "duration_minutes": 60,
            "adjunct": "microneedling",
        },
    ],
}


def test_manager_creates_a_protocol_with_steps(client_as, manager, hair_protocol):
    answer = client_as(manager).post("/api/v1/protocols/", NEW, format="json")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert (data["version"], data["active"], data["is_current"]) == (1, True, True)
    assert [s["name"] for s in data["steps"]] == ["Baseline", "Microneedling"]
    assert data["steps"][0]["measures"] == ["wrinkle_depth"]
    assert data["steps"][1] | {"id": None} == {
        "id": None,
        "position": 2,
        "name": "Microneedling",
        "display_name": "Microneedling",
        "kind": "treatment",
        "repeat": 3,
        "interval_days": 28,
        "anchor": "previous",
        "window_before_days": 3,
        "window_after_days": 7,
        "duration_minutes": 60,
        "measures": [],
        "product": "",
        "adjunct": "microneedling",
        "primary_endpoint": False,
        "follow_up": False,
        "arm": "",
        "decision": None,
    }
    assert (data["library_key"], data["library_edition"]) == ("", 0)
    assert Protocol.objects.get(pk=data["id"]).clinic == manager.clinic


@pytest.mark.parametrize("user", ["receptionist", "clinician"])
def test_only_managers_author(client_as, request, user, hair_protocol):
    client = client_as(request.getfixturevalue(user))
    assert client.post("/api/v1/protocols/", NEW, format="json").status_code == 403
    assert client.patch(f"/api/v1/protocols/{hair_protocol.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.get(f"/api/v1/protocols/{hair_protocol.pk}/").status_code == 200


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [{"name": "T", "kind": "treatment", "interval_days": -1}],
        [{"name": "T", "kind": "treatment", "repeat": 0}],
        [{"name": "T", "kind": "treatment", "measures": ["no_such_measure"]}],
        [{"name": "T", "kind": "surgery"}],
        [{"name": "T", "kind": "treatment", "duration_minutes": 2}],
        [{"name": "T", "kind": "treatment", "repeat": 10**30}],
        [{"name": "T", "kind": "treatment", "measures": "hair_density"}],
        [{"name": "T\x00", "kind": "treatment"}],
        [{"name": "T", "kind": "treatment", "repeat": 200}, {"name": "U", "kind": "treatment", "repeat": 200},
         {"name": "V", "kind": "treatment", "repeat": 200}],
        "not a list",
        [["name", "T"]],
    ],
)
def test_bad_steps_are_400_naming_steps(client_as, manager, hair_protocol, steps):
    before = Protocol.objects.count()
    answer = client_as(manager).post("/api/v1/protocols/", {**NEW, "steps": steps}, format="json")
    assert answer.status_code == 400, answer.content
    assert "steps" in answer.json()
    assert Protocol.objects.count() == before


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1e30", "NaN", "Infinity", "true", "\"7\"x"])
def test_huge_and_odd_numbers_in_raw_json_are_400(client_as, manager, hair_protocol, number):
    body = json.dumps({**NEW, "steps": [{"name": "T", "kind": "treatment", "repeat": 999}]})
    body = body.replace('"repeat": 999', f'"repeat": {number}')
    answer = client_as(manager).post("/api/v1/protocols/", body, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert Protocol.objects.count() == 1


def test_list_shows_current_versions_unless_asked(client_as, manager, enrolment, hair_protocol):
    client = client_as(manager)
    put = client.put(
        f"/api/v1/protocols/{hair_protocol.pk}/",
        {**NEW, "name": "Hair regeneration", "indication": "hair", "delivery": "injection"},
        format="json",
    )
    assert put.status_code == 200, put.content
    current = client.get("/api/v1/protocols/").json()["results"]
    assert [(p["name"], p["version"]) for p in current] == [("Hair regeneration", 2)]
    everything = client.get("/api/v1/protocols/", {"all_versions": "true"}).json()["results"]
    assert sorted(p["version"] for p in everything) == [1, 2]
    assert client.get("/api/v1/protocols/", {"all_versions": "maybe"}).status_code == 400


def test_put_on_a_protocol_with_enrolments_makes_a_new_version(client_as, manager, enrolment, hair_protocol):
    client = client_as(manager)
    old = client.get(f"/api/v1/protocols/{hair_protocol.pk}/").json()
    body = {k: old[k] for k in ("name", "indication", "delivery", "description", "product", "active")}
    steps = [{k: v for k, v in s.items() if k not in ("id", "position")} for s in old["steps"]]
    steps[1]["repeat"] = 4
    answer = client.put(f"/api/v1/protocols/{hair_protocol.pk}/", {**body, "steps": steps}, format="json")
    assert answer.status_code == 200, answer.content
    new = answer.json()
    assert new["id"] != hair_protocol.pk
    assert (new["version"], new["is_current"], new["lineage"]) == (2, True, old["lineage"])
    assert new["steps"][1]["repeat"] == 4
    # The enrolment keeps its version and its seven sessions.
    enrolment.refresh_from_db()
    assert enrolment.protocol_id == hair_protocol.pk
    assert enrolment.sessions.count() == 7
    old_now = client.get(f"/api/v1/protocols/{hair_protocol.pk}/").json()
    assert (old_now["is_current"], old_now["steps"][1]["repeat"]) == (False, 6)
    # Only the current version is edited.
    stale = client.patch(f"/api/v1/protocols/{hair_protocol.pk}/", {"name": "again"}, format="json")
    assert stale.status_code == 409


def test_patch_without_enrolments_edits_in_place(client_as, manager, hair_protocol):
    answer = client_as(manager).patch(
        f"/api/v1/protocols/{hair_protocol.pk}/", {"active": False, "description": "Paused"}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert (answer.json()["id"], answer.json()["version"], answer.json()["active"]) == (hair_protocol.pk, 1, False)
    assert len(answer.json()["steps"]) == 2


def test_patch_with_bad_steps_changes_nothing(client_as, manager, hair_protocol):
    answer = client_as(manager).patch(
        f"/api/v1/protocols/{hair_protocol.pk}/", {"name": "Renamed", "steps": [{"name": "x"}]}, format="json"
    )
    assert answer.status_code == 400
    assert "steps" in answer.json()
    hair_protocol.refresh_from_db()
    assert hair_protocol.name == "Hair regeneration"


def test_another_clinics_protocol_is_404(client_as, manager, other_clinic):
    theirs = make_protocol(other_clinic)
    client = client_as(manager)
    assert client.get(f"/api/v1/protocols/{theirs.pk}/").status_code == 404
    assert client.patch(f"/api/v1/protocols/{theirs.pk}/", {"name": "mine"}, format="json").status_code == 404
    assert theirs.pk not in [p["id"] for p in client.get("/api/v1/protocols/").json()["results"]]


def test_clean_steps_reports_a_missing_kind_instead_of_crashing(db):
    # Found through the API: a step without `kind` raised KeyError (a 500).
    from django.core.exceptions import ValidationError

    from protocols.services import clean_steps

    with pytest.raises(ValidationError) as error:
        clean_steps([{"name": "No kind"}])
    assert "kind must be one of" in error.value.message_dict["steps"][0]
