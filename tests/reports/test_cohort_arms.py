"""SPEC §19 in the cohort report: enrolments per arm and per decision
(accepted, overridden, pending), and the outcomes of each arm."""

import pytest

from tests.api.test_response_guided import _decide_psoriasis, course  # noqa: F401 (a fixture)


@pytest.fixture
def report(client_as, manager):
    def get():
        answer = client_as(manager).get("/api/v1/reports/cohort/")
        assert answer.status_code == 200, answer.content
        return answer.json()

    return get


def test_arms_and_decisions_are_counted(course, clinician, client_as, report):  # noqa: F811
    before = report()
    assert before["decisions"]["total"] == 0
    assert before["arms"] == [{"arm": "main", "enrolments": 0, "measures": []}]  # everyone on the main path

    maintained = _decide_psoriasis(course, 5)  # PASI-75: maintenance, accepted
    extended = _decide_psoriasis(course, 10)  # PASI-50: extension, overridden to maintenance
    _decide_psoriasis(course, 20)  # no response: review, left pending
    client = client_as(clinician)
    client.post(f"/api/v1/decisions/{maintained.decisions()[0]['id']}/accept/")
    client.post(f"/api/v1/decisions/{extended.decisions()[0]['id']}/override/",
                {"action": "switch_to: maintenance", "reason": "Patient prefers fewer visits"}, format="json")

    data = report()
    assert {k: data["decisions"][k] for k in ("total", "accepted", "overridden", "pending", "needs_review")} == {
        "total": 3, "accepted": 1, "overridden": 1, "pending": 1, "needs_review": 0,
    }
    by = {row["proposed_action"]: row for row in data["decisions"]["by_proposal"]}
    assert by["switch_to: maintenance"]["accepted"] == 1
    assert by["switch_to: extension"]["overridden"] == 1
    assert by["review"]["pending"] == 1
    assert all(row["step_name"] == "Week-12 assessment" for row in by.values())

    arms = {arm["arm"]: arm for arm in data["arms"]}
    assert {a: arms[a]["enrolments"] for a in arms} == {"main": 1, "maintenance": 2}
    pasi = next(m for m in arms["maintenance"]["measures"] if m["code"] == "pasi")
    week_12 = next(p for p in pasi["time_points"] if p["step_name"] == "Week-12 assessment")
    # PASI 20 → 5 and 20 → 10: a mean change of -12.5, both PASI-50, one PASI-75.
    assert (week_12["n"], week_12["mean_change"]) == (2, "-12.50")
    assert next(r for r in week_12["responders"] if r["code"] == "pasi_75")["responders"] == 1
    main_pasi = next(m for m in arms["main"]["measures"] if m["code"] == "pasi")
    assert next(p for p in main_pasi["time_points"] if p["step_name"] == "Week-12 assessment")["mean_change"] == "0.00"
