"""Adverse events by CTCAE v5 (clinical/instruments.md, corrections): grade 5
is death, so grade 5 exactly when the outcome is fatal; grade and severity are
one scale (1 mild, 2 moderate, 3-5 severe); "recovered" needs a resolution
date and a resolution date needs "recovered" or "recovered with sequelae".
Events recorded before the rules are flagged for review, not rewritten."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sessions.models import AdverseEvent

from .conftest import INJECTION_DAY, at

TODAY = dt.date(2026, 3, 8)


@pytest.fixture
def phone_day(enrolment):
    """The patient phones on Sunday 8 March, between the baseline and the first injection."""
    with time_machine.travel(at(TODAY, 12), tick=False):
        yield


def report(client, enrolment, body):
    return client.post(f"/api/v1/enrolments/{enrolment.pk}/adverse-events/", body, format="json")


EVENT = {"description": "Scalp swelling", "onset_date": "2026-03-05", "related_to_treatment": "yes"}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        # The independent check's cases.
        ({"grade": 5, "outcome": "recovered", "resolved_date": "2026-03-07"}, "outcome", "grade 5 is death"),
        ({"grade": 2, "outcome": "fatal"}, "grade", "fatal outcome is CTCAE grade 5"),
        ({"grade": 1, "severity": "severe"}, "severity", "grade 1 is mild, not severe"),
        ({"grade": 2, "outcome": "recovered"}, "resolved_date", "needs its resolution date"),
        ({"grade": 2, "outcome": "not_recovered", "resolved_date": "2026-03-07"}, "resolved_date",
         "recovered or recovered with sequelae"),
        # Their neighbours.
        ({"grade": 3, "severity": "moderate"}, "severity", "grade 3 is severe"),
        ({"grade": 4, "severity": "mild"}, "severity", "grade 4 is severe"),
        ({"severity": "mild", "outcome": "fatal"}, "grade", "fatal outcome"),
        ({"grade": 5, "outcome": "unknown"}, "outcome", "grade 5 is death"),
        ({"grade": 2, "outcome": "recovered_with_sequelae"}, "resolved_date", "resolution date"),
        ({"grade": 2, "outcome": "recovering", "resolved_date": "2026-03-07"}, "resolved_date", "resolved"),
        ({"grade": 5, "outcome": "fatal", "resolved_date": "2026-03-07"}, "resolved_date", "not fatal"),
    ],
)
def test_an_event_that_disagrees_with_ctcae_is_a_400_naming_the_field_and_nothing_is_kept(
    client_as, clinician, enrolment, phone_day, body, field, words
):
    answer = report(client_as(clinician), enrolment, {**EVENT, **body})
    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert words in " ".join(answer.json()[field])
    assert not AdverseEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ({"grade": 5}, (5, "severe", "fatal", True, None)),  # grade 5 alone is a death
        ({"severity": "severe", "outcome": "fatal"}, (5, "severe", "fatal", True, None)),
        ({"grade": 1, "severity": "mild", "outcome": "recovered", "resolved_date": "2026-03-07"},
         (1, "mild", "recovered", False, "2026-03-07")),
        ({"grade": 3, "severity": "severe", "outcome": "recovered_with_sequelae", "resolved_date": "2026-03-07"},
         (3, "severe", "recovered_with_sequelae", False, "2026-03-07")),
        ({"grade": 4, "outcome": "not_recovered"}, (4, "severe", "not_recovered", True, None)),
        ({"severity": "moderate"}, (2, "moderate", "unknown", False, None)),
    ],
)
def test_a_consistent_event_is_kept_with_what_its_grade_implies(
    client_as, clinician, enrolment, phone_day, body, stored
):
    answer = report(client_as(clinician), enrolment, {**EVENT, **body})
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert (data["grade"], data["severity"], data["outcome"], data["serious"], data["resolved_date"]) == stored
    assert data["review_reason"] == ""


def test_an_update_must_keep_the_event_consistent(client_as, clinician, enrolment, phone_day):
    client = client_as(clinician)
    event = report(client, enrolment, {**EVENT, "grade": 2}).json()
    url = f"/api/v1/adverse-events/{event['id']}/"
    for body, field in [
        ({"outcome": "recovered"}, "resolved_date"),
        ({"resolved_date": "2026-03-07"}, "resolved_date"),
        ({"outcome": "fatal"}, "grade"),
        ({"grade": 5}, "outcome"),
        ({"grade": 1, "severity": "severe"}, "severity"),
    ]:
        answer = client.patch(url, body, format="json")
        assert answer.status_code == 400 and field in answer.json(), (body, answer.content)
    stored = AdverseEvent.objects.get(pk=event["id"])
    assert (stored.grade, stored.severity, stored.outcome, stored.resolved_date) == (2, "moderate", "unknown", None)
    assert stored.history.count() == 1
    # A new grade brings its severity; the death brings grade 5 with it when said together.
    answer = client.patch(url, {"grade": 5, "outcome": "fatal"}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["severity"], answer.json()["serious"]) == ("severe", True)


def test_an_event_at_a_visit_is_checked_too(client_as, clinician, booked_injection, lot):
    answer = client_as(clinician).post(
        f"/api/v1/sessions/{booked_injection.pk}/complete/",
        {"outcomes": [{"measure": "pain_vas", "value": 2}], "lot": lot.pk,
         "adverse_events": [{"description": "Bruise", "grade": 1, "severity": "severe"}]},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    assert "Event 1: severity: CTCAE grade 1 is mild, not severe" in answer.json()["adverse_events"][0]
    booked_injection.refresh_from_db()
    assert booked_injection.status == "booked" and not AdverseEvent.objects.exists()


def legacy_event(enrolment, clinician, **fields):
    """A row as an earlier version wrote it, flagged the way migration 0011 flags it."""
    return AdverseEvent.objects.create(
        enrolment=enrolment, description="Recorded long ago", reported_by=clinician,
        reported_at=timezone.now(), onset_date=dt.date(2026, 3, 5), **fields,
    )


def test_the_database_refuses_an_inconsistent_event_unless_it_is_flagged(enrolment, clinician):
    with pytest.raises(IntegrityError), transaction.atomic():
        legacy_event(enrolment, clinician, grade=1, severity="severe")
    flagged = legacy_event(enrolment, clinician, grade=1, severity="severe", review_reason="To review.")
    assert flagged.pk


def test_a_flagged_event_is_listed_for_review_and_an_update_that_fixes_it_clears_the_flag(
    client_as, clinician, enrolment, phone_day
):
    flagged = legacy_event(
        enrolment, clinician, grade=2, severity="moderate", outcome="recovered", review_reason="Recorded before..."
    )
    client = client_as(clinician)
    assert [e["id"] for e in client.get("/api/v1/adverse-events/?needs_review=true").json()["results"]] == [
        flagged.pk
    ]
    url = f"/api/v1/adverse-events/{flagged.pk}/"
    # Anything short of a consistent event is refused: the flag is not lost in an unrelated update.
    answer = client.patch(url, {"action_taken": "medication"}, format="json")
    assert answer.status_code == 400 and "resolved_date" in answer.json()
    answer = client.patch(url, {"resolved_date": "2026-03-07"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["review_reason"] == ""
    assert client.get("/api/v1/adverse-events/?needs_review=true").json()["count"] == 0
    assert client.get("/api/v1/adverse-events/?needs_review=maybe").status_code == 400


BEFORE = [("treatment_sessions", "0010_merge_indexes_for_scale")]
AFTER = [("treatment_sessions", "0011_adverse_events_ctcae_review")]


@pytest.fixture
def back_to_the_latest_schema():
    """The test walks the schema back; whatever happens, every app ends on its
    newest migration again, as the tests after it expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_flags_inconsistent_events_and_rewrites_none(
    back_to_the_latest_schema, clinic, clinician, enrolment
):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("treatment_sessions", "AdverseEvent")
    made = {}
    for name, fields in {
        "fine": {"grade": 2, "severity": "moderate", "outcome": "recovered", "resolved_date": INJECTION_DAY},
        "grade_1_severe": {"grade": 1, "severity": "severe"},
        "grade_5_recovered": {"grade": 5, "severity": "severe", "outcome": "recovered", "resolved_date": INJECTION_DAY},
        "grade_2_fatal": {"grade": 2, "severity": "moderate", "outcome": "fatal"},
        "recovered_no_date": {"grade": 1, "severity": "mild", "outcome": "recovered"},
        "date_not_recovered": {"grade": 1, "severity": "mild", "outcome": "not_recovered",
                               "resolved_date": INJECTION_DAY},
    }.items():
        made[name] = old.objects.create(
            enrolment_id=enrolment.pk, description=name, reported_by_id=clinician.pk, reported_at=timezone.now(),
            onset_date=dt.date(2026, 3, 5), **fields,
        ).pk
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    events = {e.description: e for e in AdverseEvent.objects.all()}
    assert events["fine"].review_reason == ""
    assert "severity severe beside CTCAE grade 1 (mild)" in events["grade_1_severe"].review_reason
    assert "grade 5 (death) with the outcome recovered" in events["grade_5_recovered"].review_reason
    assert "a fatal outcome at grade 2" in events["grade_2_fatal"].review_reason
    assert "recovered without a resolution date" in events["recovered_no_date"].review_reason
    assert "a resolution date with the outcome not recovered" in events["date_not_recovered"].review_reason
    # Flagged, never rewritten.
    assert (events["grade_1_severe"].grade, events["grade_1_severe"].severity) == (1, "severe")
    assert (events["grade_5_recovered"].outcome, events["grade_2_fatal"].grade) == ("recovered", 2)
