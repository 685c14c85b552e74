"""The library's third edition (protocols.md, SPEC §19): decision rules and
arms on psoriasis, atopic dermatitis, wound, hair and scars, loaded as new
versions; versions in use never change; the other protocols stay."""

import datetime as dt

import pytest

from protocols.library import EDITION, PROTOCOLS
from protocols.models import Protocol
from protocols.schedule import parse_rule_set
from protocols.services import load_library
from tests.factories import PatientFactory, enrol

CHANGED = {"hair-aga", "chronic-wound", "atopic-dermatitis", "psoriasis", "scars"}
# The fourth edition gives the questionnaires to the visits the notes name (SPEC §17).
FOURTH = {"hair-aga", "photoaging-4wk", "post-laser", "atopic-dermatitis", "surgical-scars"}
BY_KEY = {p["key"]: p for p in PROTOCOLS}


def decisions(key):
    return {s["name"]: s["decision"] for s in BY_KEY[key]["steps"] if s["decision"]}


def arms(key):
    return sorted({s["arm"] for s in BY_KEY[key]["steps"] if s["arm"]})


def test_the_third_edition_carries_the_rules_of_protocols_md():
    assert EDITION == 4
    assert {p["key"] for p in PROTOCOLS if p["edition"] == 3} == CHANGED - FOURTH
    assert {p["key"] for p in PROTOCOLS if p["edition"] == 4} == FOURTH
    week_12 = parse_rule_set(decisions("psoriasis")["Week-12 assessment"])
    assert [(r.condition.text(), r.action.text()) for r in week_12.rules] == [
        ("responder: pasi_75", "switch_to: maintenance"),
        ("pasi percent_change <= -50", "switch_to: extension"),
    ]
    assert week_12.default.text() == "review"
    assert arms("psoriasis") == ["extension", "maintenance"]
    assert parse_rule_set(decisions("atopic-dermatitis")["Assessment, weeks 2 and 4"]).default_reason == (
        "early non-response"
    )
    dressing = parse_rule_set(decisions("chronic-wound")["Dressing change"])
    assert (dressing.at, dressing.rules[0].action.text()) == ("every", "stop_treatments")
    hair = parse_rule_set(decisions("hair-aga")["End-of-course assessment"])
    assert (hair.rules[0].condition.text(), hair.default.text()) == ("hair_density percent_change >= 10", "stop_treatments")
    scars = parse_rule_set(decisions("scars")["Microneedling with secretome"])
    assert (scars.rules[0].condition.text(), scars.default.text()) == ("scar_grade change <= -1", "switch_to: extension")
    assert not decisions("photoaging-4wk") and not decisions("post-laser") and not decisions("surgical-scars")


@pytest.mark.django_db
def test_loading_adds_new_versions_and_never_changes_a_version_in_use(clinic, receptionist):
    load_library(clinic)
    # As a clinic on the second edition: every protocol of edition 2, without rules or arms.
    Protocol.objects.filter(clinic=clinic).update(library_edition=2)
    for protocol in Protocol.objects.filter(clinic=clinic):
        protocol.steps.exclude(arm="").delete()
        protocol.steps.update(decision=None)
    psoriasis = Protocol.objects.get(clinic=clinic, library_key="psoriasis")
    enrolment = enrol(PatientFactory(clinic=clinic), psoriasis, dt.datetime.now(tz=dt.UTC).date(), receptionist)
    before = list(psoriasis.steps.values_list("pk", "name", "decision", "arm"))

    assert load_library(clinic) == len(CHANGED | FOURTH)

    current = {p.library_key: p for p in Protocol.objects.filter(clinic=clinic, is_current=True)}
    assert {k for k, p in current.items() if p.version == 2} == CHANGED | FOURTH
    assert {k for k, p in current.items() if p.version == 1} == set(BY_KEY) - CHANGED - FOURTH
    assert current["psoriasis"].steps.exclude(arm="").count() == 2
    assert current["psoriasis"].steps.exclude(decision=None).count() == 2
    # The version in use is as it was, and its enrolment still on it.
    assert list(psoriasis.steps.values_list("pk", "name", "decision", "arm")) == before
    enrolment.refresh_from_db()
    assert enrolment.protocol_id == psoriasis.pk
    # Idempotent.
    assert load_library(clinic) == 0
