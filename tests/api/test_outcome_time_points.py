"""SPEC §10 over the API: values dated by their visit, the baseline from the
baseline visit only, per-time-point change, percent change (none for grades),
responders and the primary end point; corrections with a reason and their
history; performed_on for a home visit."""

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions import services
from sessions.models import OutcomeMeasurement
from tests.factories import PatientFactory, lot_of, make_protocol, step

from .conftest import NOW, START, at

STEPS = [
    step("Baseline assessment", "assessment", measures=["iga", "itch_nrs", "wound_area"]),
    step("Treatment", interval_days=14, window_after_days=14, duration_minutes=45, measures=["pain_vas"]),
    step("End-of-course assessment", "assessment", interval_days=14, window_after_days=14,
         measures=["iga", "itch_nrs", "wound_area"], primary_endpoint=True),
    step("Home care", "home", interval_days=7, duration_minutes=0, measures=["itch_nrs"]),
]


@pytest.fixture
def course(make_course):
    return make_course()


@pytest.fixture
def make_course(clinic, receptionist, clinician):
    protocol = make_protocol(clinic, steps=STEPS, name="Course")

    def make(wound_at_baseline=None):
        return _course(protocol, clinic, receptionist, clinician, wound_at_baseline)

    return make


def _course(protocol, clinic, receptionist, clinician, wound_at_baseline):
    """A baseline on 2 March (without a wound area unless given), a treatment
    booked 16 March but completed (typed in) on 1 April, an end-of-course
    assessment on 30 March."""
    with time_machine.travel(NOW, tick=False):
        enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=START, by=receptionist
        )
        baseline, treatment, end, _home_care = enrolment.sessions.order_by("sequence")
        services.book_session(session=baseline, start=at(START, 10), practitioner=clinician, by=receptionist)
        services.book_session(session=treatment, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician,
                              by=receptionist)
    with time_machine.travel(at(START, 11), tick=False):
        wound = [] if wound_at_baseline is None else [{"measure": "wound_area", "value": wound_at_baseline}]
        services.complete_session(
            session=baseline, by=clinician, not_done_reason="No planimetry today." if not wound else "",
            outcomes=[{"measure": "iga", "value": 3}, {"measure": "itch_nrs", "value": 8}, *wound],
        )
    with time_machine.travel(at(dt.date(2026, 3, 29), 9), tick=False):
        services.book_session(session=end, start=at(dt.date(2026, 3, 30), 10), practitioner=clinician,
                              by=receptionist)
    with time_machine.travel(at(dt.date(2026, 4, 1), 18), tick=False):
        services.complete_session(session=treatment, by=clinician, outcomes=[{"measure": "pain_vas", "value": 4}],
                                  lot=lot_of(clinic))
        services.complete_session(
            session=end, by=clinician,
            outcomes=[{"measure": "iga", "value": 1}, {"measure": "itch_nrs", "value": 5},
                      {"measure": "wound_area", "value": "6.5"}],
        )
    return enrolment


def outcomes(client, enrolment):
    answer = client.get(f"/api/v1/enrolments/{enrolment.pk}/outcomes/")
    assert answer.status_code == 200, answer.content
    return {m["measure"]: m for m in answer.json()}


def test_values_are_dated_by_their_visit_not_by_when_they_were_typed(client_as, receptionist, course):
    by_code = outcomes(client_as(receptionist), course)
    assert [p["observed_on"] for p in by_code["pain_vas"]["series"]] == ["2026-03-16"]  # typed in on 1 April
    assert [p["observed_on"] for p in by_code["iga"]["series"]] == ["2026-03-02", "2026-03-30"]


def test_a_grade_changes_in_points_without_a_percent_and_meets_iga_0_1(client_as, receptionist, course):
    iga = outcomes(client_as(receptionist), course)["iga"]
    assert (iga["baseline"], iga["ordinal"]) == (3, True)
    assert [(p["value"], p["change"], p["percent_change"], p["responder"], p["baseline"]) for p in iga["series"]] == [
        (3, 0, None, [], True),
        (1, -2, None, ["iga_0_1"], False),
    ]
    assert iga["responders"] == [{"code": "iga_0_1", "label": "IGA 0/1 with ≥ 2 grades down"}]
    assert (iga["endpoint"], iga["endpoint_session"]) == (1, iga["series"][1]["session"])


def test_peak_itch_is_not_a_responder_with_3_points_down(client_as, receptionist, course):
    itch = outcomes(client_as(receptionist), course)["itch_nrs"]
    assert [(p["change"], p["responder"]) for p in itch["series"]] == [(0, []), (-3, [])]


def test_no_value_at_the_baseline_visit_means_no_baseline_never_the_next_value(client_as, receptionist, course):
    wound = outcomes(client_as(receptionist), course)["wound_area"]
    assert (wound["baseline"], wound["latest"], wound["endpoint"], wound["change"]) == (None, 6.5, 6.5, None)
    assert [(p["change"], p["percent_change"], p["responder"]) for p in wound["series"]] == [(None, None, [])]


@pytest.mark.parametrize(("baseline", "percent", "responder"), [("13", -50.0, ["wound_area_50"]),
                                                               ("12", -45.8, []), ("0", None, [])])
def test_percent_change_and_a_percent_responder_at_the_end_point(client_as, receptionist, make_course, baseline,
                                                                 percent, responder):
    wound = outcomes(client_as(receptionist), make_course(wound_at_baseline=baseline))["wound_area"]
    end = wound["series"][-1]
    assert (end["value"], end["percent_change"], end["responder"], end["primary_endpoint"]) == (
        6.5, percent, responder, True,
    )
    assert wound["endpoint"] == 6.5


def _url(measurement):
    return f"/api/v1/outcomes/{measurement.pk}/"


@pytest.fixture
def end_iga(course):
    return OutcomeMeasurement.objects.get(session__enrolment=course, measure__code="iga", session__sequence=3)


def test_a_correction_needs_a_reason_and_changes_the_series(client_as, clinician, receptionist, course, end_iga):
    client = client_as(clinician)
    refused = client.patch(_url(end_iga), {"value": 2}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()
    blank = client.patch(_url(end_iga), {"value": 2, "reason": "  "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    end_iga.refresh_from_db()
    assert end_iga.value == 1

    answer = client.patch(_url(end_iga), {"value": 2, "reason": "Graded on the wrong photograph."}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["value"] == 2
    iga = outcomes(client_as(receptionist), course)["iga"]
    assert [(p["value"], p["responder"]) for p in iga["series"]] == [(3, []), (2, [])]

    history = client.get(f"{_url(end_iga)}history/")
    assert history.status_code == 200
    assert [(v["version"], v["value"], v["by"], v["reason"]) for v in history.json()] == [
        (1, 1, clinician.username, None),
        (2, 2, clinician.username, "Graded on the wrong photograph."),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": 5, "reason": "Typo."}, "value"),  # IGA is 0-4
        ({"value": "1.5", "reason": "Typo."}, "value"),  # a grade is whole
        ({"items": {"answers": [0] * 10}, "reason": "Typo."}, "items"),  # IGA is not scored from items
        ({"reason": "Typo."}, "value"),
        ({"value": 2, "reason": "x" * 101}, "reason"),
    ],
)
def test_a_bad_correction_is_a_400_naming_the_field_and_changes_nothing(client_as, clinician, end_iga, body, field):
    answer = client_as(clinician).patch(_url(end_iga), body, format="json")
    assert answer.status_code == 400
    assert field in answer.json(), answer.json()
    end_iga.refresh_from_db()
    assert end_iga.value == 1
    assert end_iga.history.count() == 1


def test_reception_may_not_correct_and_another_clinic_sees_nothing(client_as, receptionist, outsider, end_iga):
    assert client_as(receptionist).patch(_url(end_iga), {"value": 2, "reason": "x"}, format="json").status_code == 403
    assert client_as(outsider).patch(_url(end_iga), {"value": 2, "reason": "x"}, format="json").status_code == 404
    assert client_as(outsider).get(f"{_url(end_iga)}history/").status_code == 404
    end_iga.refresh_from_db()
    assert end_iga.value == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(new=st.integers(0, 4))
def test_a_correction_followed_by_its_reverse_restores_the_series(client_as, clinician, receptionist, course, new):
    end = OutcomeMeasurement.objects.get(session__enrolment=course, measure__code="iga", session__sequence=3)
    before = outcomes(client_as(receptionist), course)
    client = client_as(clinician)
    assert client.patch(_url(end), {"value": new, "reason": "Check."}, format="json").status_code == 200
    assert client.patch(_url(end), {"value": 1, "reason": "Back."}, format="json").status_code == 200
    assert outcomes(client_as(receptionist), course) == before


def _home(course):
    return course.sessions.get(sequence=4)


@pytest.mark.parametrize(
    ("performed_on", "message"),
    [("2026-04-13", "2026-04-13 is in the future"), ("2026-03-01", "2026-03-01 is before the enrolment started")],
)
def test_performed_on_in_the_future_or_before_the_start_is_a_400(client_as, clinician, course, performed_on, message):
    home = _home(course)
    with time_machine.travel(at(dt.date(2026, 4, 12), 12), tick=False):
        answer = client_as(clinician).post(
            f"/api/v1/sessions/{home.pk}/complete/",
            {"performed_on": performed_on, "outcomes": [{"measure": "itch_nrs", "value": 4}]}, format="json",
        )
    assert answer.status_code == 400
    assert message in str(answer.json()["performed_on"])
    home.refresh_from_db()
    assert home.status == "planned"


def test_a_home_visit_takes_its_performed_on(client_as, clinician, course):
    home = _home(course)
    with time_machine.travel(at(dt.date(2026, 4, 12), 12), tick=False):
        answer = client_as(clinician).post(
            f"/api/v1/sessions/{home.pk}/complete/",
            {"performed_on": "2026-04-10", "outcomes": [{"measure": "itch_nrs", "value": 4}]}, format="json",
        )
    assert answer.status_code == 200, answer.content
    assert [o["observed_on"] for o in answer.json()["outcomes"]] == ["2026-04-10"]
