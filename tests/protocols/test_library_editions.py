"""Loading the second edition of the library into a clinic that has the first
(clinical/protocols.md, SPEC §12): new versions, never an edit of a version in
use; enrolments keep theirs; running it again changes nothing."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from protocols.library import EDITION, PROTOCOLS
from protocols.models import Protocol
from protocols.services import create_protocol, load_library, load_measures, update_protocol
from tests.factories import make_protocol, step
from tests.sessions.conftest import enrol

# The first edition's hair protocol, as clinical/protocols.md lists it: the
# 6-month follow-up counted from the start.
FIRST_EDITION_HAIR = [
    step("Baseline assessment", "assessment", measures=["hair_density", "hair_thickness"]),
    step(
        "Secretome microinjection with microneedling",
        repeat=6,
        interval_days=14,
        window_after_days=14,
        duration_minutes=60,
        measures=["pain_vas"],
        product="MSC-CM",
        adjunct="microneedling",
    ),
    step("End-of-course assessment", "assessment", interval_days=14, window_after_days=7, primary_endpoint=True,
         measures=["hair_density", "hair_thickness"]),
    step("Follow-up at 6 months", "assessment", interval_days=180, anchor="start", window_before_days=14,
         window_after_days=14, measures=["hair_density"]),
]


def first_edition(clinic, key="hair-aga", steps=FIRST_EDITION_HAIR, **fields):
    """A protocol as the first edition's loader left it (migration 0004 marks those edition 1)."""
    load_measures()
    protocol = create_protocol(
        clinic=clinic,
        data={"name": "Hair regeneration, androgenetic alopecia", "indication": "hair", "delivery": "injection", **fields},
        steps=steps,
        by=None,
    )
    Protocol.objects.filter(pk=protocol.pk).update(library_key=key, library_edition=1)
    protocol.refresh_from_db()
    return protocol


def steps_of(protocol):
    """The main path's steps (an arm is scheduled only by a decision)."""
    return [
        (s.name, s.repeat, s.interval_days, s.anchor, sorted(m.code for m in s.measures.all()))
        for s in protocol.steps.filter(arm="").order_by("position")
    ]


def schedule_of(enrolment):
    return list(enrolment.sessions.order_by("sequence").values_list("sequence", "step_id", "target_date", "status"))


def everything():
    return (
        list(Protocol.objects.order_by("pk").values_list("pk", "version", "is_current", "library_edition", "active")),
        {p.pk: steps_of(p) for p in Protocol.objects.all()},
    )


def test_an_old_edition_in_use_gets_a_new_version_and_its_enrolment_keeps_the_old_one(clinic, patient, receptionist):
    old = first_edition(clinic)
    old_steps = steps_of(old)
    enrolment = enrol(patient, old, "2026-03-02", receptionist)
    old_schedule = schedule_of(enrolment)

    call_command("load_protocol_library", stdout=io.StringIO())

    old.refresh_from_db()
    assert (old.version, old.is_current, old.library_edition) == (1, False, 1)
    assert steps_of(old) == old_steps
    new = Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)
    assert (new.lineage, new.version, new.library_edition) == (old.lineage, 2, EDITION)
    assert [name for name, *_ in steps_of(new)][-2:] == ["Follow-up at 6 months", "Follow-up at 12 months"]
    assert [anchor for *_, anchor, _measures in steps_of(new)][-2:] == ["treatment", "treatment"]
    enrolment.refresh_from_db()
    assert enrolment.protocol_id == old.pk
    assert schedule_of(enrolment) == old_schedule
    # The keys the clinic lacked are added at the new edition.
    current = Protocol.objects.filter(clinic=clinic, is_current=True)
    assert sorted(current.values_list("library_key", flat=True)) == sorted(spec["key"] for spec in PROTOCOLS)
    assert set(current.values_list("library_edition", flat=True)) == {EDITION}


def test_a_new_enrolment_gets_the_new_edition_with_follow_ups_from_the_last_injection(clinic, patient, receptionist):
    first_edition(clinic)
    load_library(clinic)
    new = Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)

    enrolment = enrol(patient, new, "2026-03-02", receptionist)

    targets = [d for *_, d, _status in schedule_of(enrolment)]
    last_injection = dt.date(2026, 3, 2) + dt.timedelta(days=84)
    assert targets[-2:] == [last_injection + dt.timedelta(days=182), last_injection + dt.timedelta(days=365)]


def test_loading_again_changes_nothing(clinic):
    first_edition(clinic)
    assert load_library(clinic) == len(PROTOCOLS)
    before = everything()

    assert load_library(clinic) == 0
    call_command("load_protocol_library", stdout=io.StringIO())

    assert everything() == before


def test_a_clinic_edit_of_the_new_edition_is_left_alone(clinic, manager, patient, receptionist):
    load_library(clinic)
    hair = Protocol.objects.get(clinic=clinic, library_key="hair-aga")
    enrol(patient, hair, "2026-03-02", receptionist)
    edited = update_protocol(protocol=hair, data={"name": "Hair, our way"}, steps=None, by=manager)
    assert (edited.version, edited.library_edition) == (2, EDITION)
    before = everything()

    assert load_library(clinic) == 0

    assert everything() == before
    assert Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True).name == "Hair, our way"


def test_a_retired_old_edition_stays_retired(clinic):
    first_edition(clinic, active=False)
    load_library(clinic)
    assert Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True).active is False


def test_a_clinics_own_protocol_is_never_touched(clinic):
    own = make_protocol(clinic, name="Our own hair course")
    before = steps_of(own)
    load_library(clinic)
    own.refresh_from_db()
    assert (own.version, own.is_current, own.library_key, own.library_edition) == (1, True, "", 0)
    assert steps_of(own) == before


@pytest.mark.parametrize("spec", PROTOCOLS, ids=lambda spec: spec["key"])
def test_every_protocol_loads_with_its_follow_up_and_end_point_marks(clinic, spec):
    load_library(clinic)
    protocol = Protocol.objects.get(clinic=clinic, library_key=spec["key"], is_current=True)
    rows = list(protocol.steps.order_by("position"))
    assert [(s.name, s.follow_up, s.primary_endpoint, s.anchor) for s in rows] == [
        (s["name"], s["follow_up"], s["primary_endpoint"], s["anchor"]) for s in spec["steps"]
    ]
