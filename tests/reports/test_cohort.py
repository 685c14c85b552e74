"""SPEC §11's cohort report, with answers known by hand."""

import datetime as dt
import statistics
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.instruments import responds
from protocols.models import OutcomeMeasure
from protocols.services import load_measures, update_protocol
from reports.selectors import cohort_report, responder_sql
from sessions import services

from .conftest import END_DENSITY, at

ASKED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)

# `ten` (conftest): ten hair patients, baseline density 100 hairs/cm² and peak itch 8 each, ending at
# END_DENSITY (changes 10 … −10: mean 24.5, median 27.5) and END_ITCH (falls 5 4 3 6 0 1 4 7 2 −1:
# five fall by ≥ 4 points).
T_975_9 = 2.2621571627  # Student's t, 97.5th percentile, 9 degrees of freedom (from a table)


def report(client, **params):
    with time_machine.travel(ASKED, tick=False):
        answer = client.get("/api/v1/reports/cohort/", params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def point(body, code, step_name):
    measure = next(m for m in body["measures"] if m["code"] == code)
    return next(p for p in measure["time_points"] if p["step_name"] == step_name)


def test_every_figure_of_ten_patients_is_the_one_computed_by_hand(client_as, manager, ten):
    body = report(client_as(manager))

    assert body["enrolments"] == {"total": 10, "active": 0, "completed": 10, "withdrawn": 0}
    end = point(body, "hair_density", "End-of-course assessment")
    assert end["n"] == 10 and end["without_baseline"] == 0
    assert Decimal(end["mean_change"]) == Decimal("24.50")
    assert Decimal(end["median_change"]) == Decimal("27.50")
    assert Decimal(end["mean_percent_change"]) == Decimal("24.5")  # a baseline of 100: percent = points
    sd = statistics.stdev([e - 100 for e in END_DENSITY])
    half = T_975_9 * sd / 10**0.5
    assert [Decimal(b) for b in end["mean_change_ci95"]] == [
        Decimal(str(round(24.5 - half, 2))), Decimal(str(round(24.5 + half, 2)))
    ]
    assert [Decimal(b) for b in end["mean_percent_change_ci95"]] == [
        Decimal(str(round(24.5 - half, 1))), Decimal(str(round(24.5 + half, 1)))
    ]
    assert end["responders"] == []  # hair density has no responder definition

    itch = point(body, "itch_nrs", "End-of-course assessment")
    assert Decimal(itch["mean_change"]) == Decimal("-3.10")
    assert Decimal(itch["median_change"]) == Decimal("-3.50")
    assert itch["mean_percent_change"] is None  # a grade: points only
    [rate] = itch["responders"]
    assert (rate["code"], rate["n"], rate["responders"], Decimal(rate["rate"])) == ("itch_4", 10, 5, Decimal("0.5"))
    # Wilson 5/10 at 95 %: 0.2366 … 0.7634 (Newcombe 1998, Table I style, by hand).
    assert [Decimal(b) for b in rate["ci95"]] == [Decimal("0.237"), Decimal("0.763")]

    baseline = point(body, "hair_density", "Baseline assessment")
    assert (baseline["n"], Decimal(baseline["mean_change"])) == (10, Decimal("0"))

    assert body["adherence"] == {
        "sessions_due": 20, "in_window": 20, "out_of_window": 0, "skipped": 0, "no_show": 0, "in_window_rate": "1.000",
    }
    assert body["adverse_events"]["total"] == 0
    assert body["adverse_events"]["per_100_treatments"] is None  # no treatment visits in this course


def test_withdrawn_missing_baseline_and_skipped_visit_are_counted_as_the_report_says(
    client_as, manager, clinician, receptionist, make_course
):
    make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 130, "itch_nrs": 2})
    make_course({"itch_nrs": 8}, {"hair_density": 140, "itch_nrs": 4})  # no density at baseline
    withdrawn = make_course({"hair_density": 90, "itch_nrs": 6})
    skipped = make_course({"hair_density": 80, "itch_nrs": 7})
    with time_machine.travel(at(dt.date(2026, 3, 10), 9), tick=False):
        services.withdraw_enrolment(enrolment=withdrawn, by=clinician, reason="Moved away.")
    with time_machine.travel(at(dt.date(2026, 3, 31), 9), tick=False):
        services.skip_session(session=skipped.sessions.get(sequence=2), reason="Travelling.", by=clinician)

    body = report(client_as(manager))

    # The skipped end visit was the last one: that course is completed too.
    assert body["enrolments"] == {"total": 4, "active": 0, "completed": 3, "withdrawn": 1}
    end = point(body, "hair_density", "End-of-course assessment")
    # Only the first course has both values; the one without a baseline is left out, never promoted.
    assert (end["n"], end["without_baseline"], Decimal(end["mean_change"])) == (1, 1, Decimal("30.00"))
    assert end["mean_change_ci95"] is None  # one value: no interval
    baseline = point(body, "hair_density", "Baseline assessment")
    assert baseline["n"] == 3  # the withdrawn and the skipped course have their baseline
    itch = point(body, "itch_nrs", "End-of-course assessment")
    assert (itch["n"], itch["responders"][0]["responders"]) == (2, 2)  # 8→2 and 8→4
    # Due: 4 baselines + 2 done ends + 1 skipped; the withdrawn course's end was cancelled.
    assert body["adherence"] | {"in_window_rate": None} == {
        "sessions_due": 7, "in_window": 6, "out_of_window": 0, "skipped": 1, "no_show": 0, "in_window_rate": None,
    }
    assert Decimal(body["adherence"]["in_window_rate"]) == Decimal("0.857")


def test_filters_split_versions_and_check_their_input(client_as, manager, course_protocol, make_course):
    make_course({"hair_density": 100}, {"hair_density": 110})
    version_2 = update_protocol(protocol=course_protocol, data={"description": "Longer gap."}, steps=None, by=manager)
    assert version_2.version == 2
    make_course({"hair_density": 100}, {"hair_density": 130}, protocol=version_2, start=dt.date(2026, 4, 6))
    client = client_as(manager)
    both = report(client, protocol=version_2.pk)  # any version's id names the whole protocol
    assert both["enrolments"]["total"] == 2
    assert Decimal(point(both, "hair_density", "End-of-course assessment")["mean_change"]) == Decimal("20.00")
    second = report(client, protocol=course_protocol.pk, version=2)
    assert Decimal(point(second, "hair_density", "End-of-course assessment")["mean_change"]) == Decimal("30.00")
    assert report(client, indication="scar")["enrolments"]["total"] == 0
    assert report(client, indication="hair")["enrolments"]["total"] == 2
    assert report(client, started_from="2026-03-03")["enrolments"]["total"] == 1
    assert report(client, started_to="2026-03-02")["enrolments"]["total"] == 1
    with time_machine.travel(ASKED, tick=False):
        for params, field in [
            ({"protocol": 999999}, "protocol"),
            ({"protocol": "1.5"}, "protocol"),
            ({"version": 1}, "version"),
            ({"indication": "nonsense"}, "indication"),
            ({"started_from": "2026-04-01", "started_to": "2026-03-01"}, "started_to"),
            ({"lot": "x"}, "lot"),
        ]:
            answer = client.get("/api/v1/reports/cohort/", params)
            assert answer.status_code == 400 and field in answer.json(), (params, answer.content)


def test_only_a_manager_reads_the_report_and_only_their_clinic(client_as, receptionist, clinician, outsider, ten):
    with time_machine.travel(ASKED, tick=False):
        assert client_as(receptionist).get("/api/v1/reports/cohort/").status_code == 403
        assert client_as(clinician).get("/api/v1/reports/cohort/").status_code == 403
        assert client_as(None).get("/api/v1/reports/cohort/").status_code == 401
    assert report(client_as(outsider))["enrolments"]["total"] == 0


def test_the_report_costs_the_same_few_queries_at_any_size(clinic, make_course):
    make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 120, "itch_nrs": 3})
    with CaptureQueriesContext(connection) as small:
        cohort_report(clinic, today=ASKED.date())
    for _ in range(4):
        make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 120, "itch_nrs": 3})
    with CaptureQueriesContext(connection) as large:
        cohort_report(clinic, today=ASKED.date())
    # Six, and one for the decisions of response-guided schedules (SPEC §19).
    assert len(small) == len(large) <= 7


def test_the_api_answers_in_the_same_queries_at_any_size(client_as, manager, clinic, make_course):
    """The API path `make bench` times (cohort_report) costs a fixed count of
    queries: authentication, the audit record and the report's few, whatever
    the number of enrolments; with a filter too."""
    client = client_as(manager)
    make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 120, "itch_nrs": 3})
    with CaptureQueriesContext(connection) as small:
        report(client)
    with CaptureQueriesContext(connection) as small_filtered:
        report(client, started_from="2020-01-01")
    for _ in range(4):
        make_course({"hair_density": 100, "itch_nrs": 8}, {"hair_density": 120, "itch_nrs": 3})
    with CaptureQueriesContext(connection) as large:
        assert report(client)["enrolments"]["total"] == 5
    with CaptureQueriesContext(connection) as large_filtered:
        report(client, started_from="2020-01-01")
    assert len(small) == len(large)
    assert len(small_filtered) == len(large_filtered)


numbers = st.decimals(min_value=0, max_value=30, places=2)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(baseline=numbers, value=numbers)
def test_the_database_judges_a_responder_exactly_as_the_catalogue_does(baseline, value):
    """responder_sql is `responds` in SQL: they agree on every pair."""
    load_measures()
    for measure in OutcomeMeasure.objects.exclude(responders=[]):
        for definition in measure.responders:
            expected = responds(definition, baseline=baseline, value=value, higher_is_better=measure.higher_is_better)
            condition, params = responder_sql(definition, higher_is_better=measure.higher_is_better)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {condition} FROM (SELECT %s::numeric AS baseline, %s::numeric AS value) AS pair",
                    [*params, baseline, value],
                )
                [judged] = cursor.fetchone()
            assert judged == expected, (definition, baseline, value)
