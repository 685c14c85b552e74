"""SPEC §19 through the API, on the library's third edition: a patient per
branch of each rule with values exactly on each threshold, accept and
override (reason, roles), a booked session cancelled by a switch with its
notice, and the flag a correction after the decision raises."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from protocols import instruments
from protocols.models import Protocol
from protocols.services import load_library
from sessions import services
from sessions.models import Decision, Reminder, ReminderKind, ReminderStatus, SessionStatus
from tests.factories import PatientFactory, complete_over_api, lot_of

from .conftest import at

START = dt.date(2026, 3, 2)
FILL = {
    "pasi": 20, "iga": 3, "dlqi": 10, "easi": 20, "scorad": 40, "itch_nrs": 5, "tcs_use": 10, "wound_area": 10,
    "wound_closed": 0, "hair_density": 100, "hair_thickness": 50, "norwood": 3, "ludwig": 2, "scar_grade": 3,
    "pain_vas": 2, "amount_dispensed": 30, "poem": 14, "pgic": 3, "posas_patient": 30, "posas_observer": 30,
}


AREA_PERCENT = {0: 0, 1: 5, 2: 20, 3: 40, 4: 60, 5: 80, 6: 95}


def _regional(items, weights, item_max, parts):
    """Items of EASI or PASI whose total is sum(severity * area score * weight)
    over `parts` ({region: (severity, area score)}); other regions clear."""
    regions = {}
    for region in weights:
        severity, area = parts.get(region, (0, 0))
        scores = {}
        for item in items:
            scores[item] = min(item_max, severity)
            severity -= scores[item]
        regions[region] = {**scores, "area_percent": AREA_PERCENT[area]}
    return {"regions": regions}


def pasi(total):
    """PASI items for the totals the tests use (lower limbs weigh 0.4, the head 0.1)."""
    parts = {
        Decimal(20): {"lower_limbs": (10, 5)},
        Decimal(5): {"lower_limbs": (3, 4), "head": (2, 1)},  # 4.8 + 0.2
        Decimal("5.1"): {"lower_limbs": (3, 4), "head": (3, 1)},
        Decimal(9): {"lower_limbs": (9, 2), "head": (0, 0), "trunk": (0, 0), "upper_limbs": (9, 1)},  # 7.2 + 1.8
        Decimal(10): {"lower_limbs": (5, 5)},
        Decimal("10.1"): {"lower_limbs": (5, 5), "head": (1, 1)},
    }[Decimal(total)]
    return _regional(instruments.PASI_ITEMS, instruments.PASI_WEIGHTS, 4, parts)


def easi(total):
    parts = {
        Decimal(20): {"lower_limbs": (10, 5)},
        Decimal(12): {"lower_limbs": (6, 5)},
        Decimal(10): {"lower_limbs": (5, 5)},
        Decimal("10.1"): {"lower_limbs": (5, 5), "head_neck": (1, 1)},
    }[Decimal(total)]
    return _regional(instruments.EASI_ITEMS, instruments.EASI_WEIGHTS_FROM_AGE_8, 3, parts)


SCORED = {
    "pasi": pasi,
    "easi": easi,
    "dlqi": lambda total: {"answers": [1] * 10},
    "poem": lambda total: {"answers": [2] * 7},
    "scorad": lambda total: {
        "area_percent": 50, "intensity": dict.fromkeys(instruments.SCORAD_INTENSITY_ITEMS, 1), "pruritus": 5,
        "sleeplessness": 4,
    },
}


def outcome(code, value):
    if code in SCORED:
        return {"measure": code, "items": SCORED[code](value)}
    return {"measure": code, "value": value}


class Course:
    """One patient's course of a library protocol, walked visit by visit with the clock moved."""

    def __init__(self, clinic, key, receptionist, clinician, client, hour=10):
        self.hour = hour  # each course of a test books its own hour with the one clinician
        self.clinic, self.receptionist, self.clinician, self.client = clinic, receptionist, clinician, client
        self.clock = time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC), tick=False)
        self.traveller = self.clock.start()
        protocol = Protocol.objects.get(clinic=clinic, library_key=key, is_current=True)
        self.enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=clinic), protocol=protocol, start_date=START, by=receptionist
        )

    def session(self, sequence):
        return self.enrolment.sessions.select_related("step").get(sequence=sequence)

    def named(self, name, occurrence=1):
        return self.enrolment.sessions.select_related("step").get(step__name=name, occurrence=occurrence)

    def book(self, session):
        session.refresh_from_db()
        day = session.target_date
        self.traveller.move_to(at(day, 8))
        return services.book_session(session=session, start=at(day, self.hour), practitioner=self.clinician,
                                     by=self.receptionist)

    def visit(self, session, over_api=False, **values):
        """Book (unless home) and complete with every measure of the step (FILL, then `values`)."""
        if session.step.kind != "home":
            self.book(session)
        session.refresh_from_db()
        day = session.start.date() if session.start else session.target_date
        self.traveller.move_to(at(day, self.hour, 45))
        codes = list(session.step.measures.values_list("code", flat=True))
        outcomes = [outcome(c, values.get(c, FILL[c])) for c in codes if values.get(c, 0) is not None]
        body = {"outcomes": outcomes}
        missing = [c for c in codes if c in values and values[c] is None]
        if missing:
            body["not_done_reason"] = "Not measured"
            body["outcomes"] = [o for o in outcomes if o["measure"] not in missing]
        if session.step.kind == "treatment":
            body["lot"] = lot_of(self.clinic).pk
        if over_api:
            answer = complete_over_api(self.client(self.clinician), session, body)
            assert answer.status_code == 200, answer.content
            return answer
        return services.complete_session(
            session=session, by=self.clinician, outcomes=body["outcomes"], not_done_reason=body.get("not_done_reason", ""),
            lot=lot_of(self.clinic) if session.step.kind == "treatment" else None,
        )

    def skip_until(self, sequence):
        for session in self.enrolment.sessions.filter(sequence__lt=sequence, status=SessionStatus.PLANNED):
            services.skip_session(session=session, reason="Not part of this test", by=self.clinician)

    def decisions(self):
        answer = self.client(self.clinician).get(f"/api/v1/enrolments/{self.enrolment.pk}/decisions/")
        assert answer.status_code == 200, answer.content
        return answer.json()

    def close(self):
        self.clock.stop()


@pytest.fixture
def course(clinic, receptionist, clinician, client_as):
    load_library(clinic)
    made = []

    def make(key):
        made.append(Course(clinic, key, receptionist, clinician, client_as, hour=10 + 2 * len(made)))
        return made[-1]

    yield make
    for c in reversed(made):  # clocks stop in the reverse order they started
        c.close()


def _decide_psoriasis(course, pasi):
    c = course("psoriasis")
    c.visit(c.session(1), pasi=20)
    week_12 = c.named("Week-12 assessment")
    c.skip_until(week_12.sequence)
    c.visit(week_12, over_api=True, pasi=pasi)
    return c


@pytest.mark.parametrize(
    "pasi, action, rule",
    [
        (5, "switch_to: maintenance", "responder: pasi_75"),  # exactly -75 %: PASI-75
        (Decimal("5.1"), "switch_to: extension", "pasi percent_change <= -50"),  # just short of PASI-75
        (10, "switch_to: extension", "pasi percent_change <= -50"),  # exactly -50 %
        (Decimal("10.1"), "review", "default"),  # just short of PASI-50 (PASI moves in tenths)
        (None, "review", "default"),  # missing value: the default
    ],
)
def test_psoriasis_week_12(course, pasi, action, rule):
    c = _decide_psoriasis(course, pasi)
    (decision,) = c.decisions()
    assert (decision["proposed_action"], decision["rule_text"], decision["status"]) == (action, rule, "pending")
    if pasi is not None:
        assert decision["values"]["measures"]["pasi"]["baseline"] == "20"
        assert decision["values"]["responders"]["pasi_75"] is (pasi == 5)


def test_psoriasis_maintenance_is_anchored_on_the_decision_visit(course, clinician, client_as):
    c = _decide_psoriasis(course, 5)
    week_12 = c.named("Week-12 assessment")
    decision = c.decisions()[0]
    answer = client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["chosen_action"]) == ("accepted", "switch_to: maintenance")
    arm = list(c.enrolment.sessions.filter(arm="maintenance").order_by("sequence"))
    visit_day = week_12.start.astimezone(c.clinic.tz).date()
    assert [s.target_date for s in arm] == [visit_day + dt.timedelta(days=56 * j) for j in (1, 2, 3)]
    assert all((s.target_date - s.window_start).days == 7 == (s.window_end - s.target_date).days for s in arm)
    # The follow-ups stay planned, on their dates.
    assert c.enrolment.sessions.filter(step__follow_up=True, status=SessionStatus.PLANNED).count() == 2


@pytest.mark.parametrize("pasi, action", [(5, "switch_to: maintenance"), (10, "review")])
def test_psoriasis_extension_decides_again_at_week_20_once(course, clinician, client_as, pasi, action):
    c = _decide_psoriasis(course, 10)
    client_as(clinician).post(f"/api/v1/decisions/{c.decisions()[0]['id']}/accept/")
    week_16, week_20 = c.enrolment.sessions.filter(arm="extension").order_by("sequence")
    c.visit(week_16, pasi=9)
    assert len(c.decisions()) == 1  # week 16 decides nothing
    c.visit(week_20, over_api=True, pasi=pasi)
    latest = c.decisions()[0]
    assert latest["proposed_action"] == action  # never a second extension


@pytest.mark.parametrize(
    "easi, action, reason", [(10, "continue", "EASI-50 reached"), (Decimal("10.1"), "review", "early non-response")]
)
def test_atopic_dermatitis_week_4(course, easi, action, reason):
    c = course("atopic-dermatitis")
    c.visit(c.session(1), easi=20)
    week_2 = c.named("Assessment, weeks 2 and 4", 1)
    c.skip_until(week_2.sequence)
    c.visit(week_2, easi=12)
    assert c.decisions() == []  # week 2 is not the decision visit
    c.visit(c.named("Assessment, weeks 2 and 4", 2), over_api=True, easi=easi)
    (decision,) = c.decisions()
    assert (decision["proposed_action"], decision["rule_reason"]) == (action, reason)


@pytest.mark.parametrize("area, action", [(5, "continue"), (Decimal("5.01"), "review")])
def test_wound_week_4_percent_area_reduction(course, area, action):
    c = course("chronic-wound")
    c.visit(c.session(1), wound_area=10)
    week_4 = c.named("Week-4 assessment")
    c.skip_until(week_4.sequence)
    c.visit(week_4, over_api=True, wound_area=area)
    (decision,) = c.decisions()
    assert decision["proposed_action"] == action
    assert decision["values"]["measures"]["wound_area"]["percent_change"] == ("-50.00" if area == 5 else "-49.90")


def test_a_closed_wound_stops_the_dressings_and_keeps_the_outcome_visits(course, clinician, client_as):
    c = course("chronic-wound")
    c.visit(c.session(1), wound_area=10)
    c.visit(c.named("Dressing change", 1), over_api=True, wound_area=8, wound_closed=0)
    assert c.decisions() == []  # an open wound: go on, no proposal
    c.visit(c.named("Dressing change", 2), over_api=True, wound_area=0, wound_closed=1)
    (decision,) = c.decisions()
    assert (decision["proposed_action"], decision["rule_text"]) == ("stop_treatments", "wound_closed = 1")
    answer = client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/")
    assert answer.status_code == 200, answer.content
    dressings = c.enrolment.sessions.filter(step__name="Dressing change")
    assert dressings.filter(status=SessionStatus.CANCELLED).count() == 14
    kept = c.enrolment.sessions.exclude(step__name="Dressing change").exclude(sequence=1)
    assert set(kept.values_list("status", flat=True)) == {SessionStatus.PLANNED}
    assert kept.count() == 4  # week 4, week 12, both follow-ups


@pytest.mark.parametrize(
    "density, action", [(110, "switch_to: maintenance"), (Decimal("109.99"), "stop_treatments")]
)
def test_hair_end_of_course(course, clinician, client_as, density, action):
    c = course("hair-aga")
    c.visit(c.session(1), hair_density=100)
    end = c.named("End-of-course assessment")
    c.skip_until(end.sequence)
    follow_ups = list(c.enrolment.sessions.filter(step__follow_up=True).values_list("target_date", flat=True))
    c.visit(end, over_api=True, hair_density=density)
    (decision,) = c.decisions()
    assert decision["proposed_action"] == action
    assert client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/").status_code == 200
    # The 6- and 12-month follow-ups keep their dates either way.
    assert list(c.enrolment.sessions.filter(step__follow_up=True).values_list("target_date", flat=True)) == follow_ups
    arm = list(c.enrolment.sessions.filter(arm="maintenance").order_by("sequence"))
    if action == "stop_treatments":
        assert arm == []
    else:
        day = end.target_date
        end.refresh_from_db()
        day = end.start.astimezone(c.clinic.tz).date()
        assert [s.target_date for s in arm] == [day + dt.timedelta(days=91), day + dt.timedelta(days=182)]
        assert [(s.window_end - s.window_start).days for s in arm] == [28, 28]


def _scars_to_third(course, grade, book_assessment=False):
    c = course("scars")
    c.visit(c.session(1), scar_grade=3)
    c.visit(c.named("Microneedling with secretome", 1), scar_grade=3)
    c.visit(c.named("Microneedling with secretome", 2), scar_grade=3)
    if book_assessment:
        assessment = c.named("Assessment 3 months after the last session")
        c.book(assessment)
        # The patient was told of the booking: its confirmation went out.
        Reminder.objects.filter(session=assessment, kind=ReminderKind.CONFIRMATION).update(status=ReminderStatus.SENT)
    c.visit(c.named("Microneedling with secretome", 3), over_api=True, scar_grade=grade)
    return c


@pytest.mark.parametrize("grade, action", [(2, "continue"), (3, "switch_to: extension")])
def test_scars_third_session(course, grade, action):
    c = _scars_to_third(course, grade)
    (decision,) = c.decisions()
    assert decision["proposed_action"] == action
    assert decision["values"]["measures"]["scar_grade"]["change"] == str(grade - 3)
    assert decision["values"]["measures"]["scar_grade"]["percent_change"] is None  # a grade


def test_a_switch_cancels_a_booked_session_with_its_notice(course, clinician, client_as):
    c = _scars_to_third(course, 3, book_assessment=True)
    assessment = c.named("Assessment 3 months after the last session")
    assert assessment.status == SessionStatus.BOOKED
    decision = c.decisions()[0]
    answer = client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/")
    assert answer.status_code == 200, answer.content
    assessment.refresh_from_db()
    assert assessment.status == SessionStatus.CANCELLED
    assert Reminder.objects.filter(session=assessment, kind=ReminderKind.CANCELLED, status=ReminderStatus.PENDING).exists()
    names = list(c.enrolment.sessions.filter(arm="extension").order_by("sequence").values_list("step__name", flat=True))
    assert names == ["Extension microneedling with secretome"] * 2 + ["Assessment 3 months after the last extension session"]
    # In the history: the cancelled session's version and the decision's.
    assert assessment.history.filter(status=SessionStatus.CANCELLED).exists()
    assert Decision.objects.get(pk=decision["id"]).history.count() == 2


def test_override_needs_a_reason_a_known_action_and_a_clinician(
    course, clinician, manager, receptionist, client_as
):
    c = _scars_to_third(course, 2)
    decision = c.decisions()[0]
    url = f"/api/v1/decisions/{decision['id']}/override/"
    answer = client_as(receptionist).post(url, {"action": "switch_to: extension", "reason": "Patient asks"}, format="json")
    assert answer.status_code == 403
    assert client_as(receptionist).post(f"/api/v1/decisions/{decision['id']}/accept/").status_code == 403
    answer = client_as(clinician).post(url, {"action": "switch_to: extension", "reason": "  "}, format="json")
    assert answer.status_code == 400 and "reason" in answer.json()
    answer = client_as(clinician).post(url, {"action": "switch_to: nowhere", "reason": "x"}, format="json")
    assert answer.status_code == 400 and "nowhere" in str(answer.json()["action"])
    answer = client_as(clinician).post(url, {"action": "dance", "reason": "x"}, format="json")
    assert answer.status_code == 400 and "action" in answer.json()
    assert c.enrolment.sessions.filter(arm="extension").count() == 0  # nothing changed
    answer = client_as(manager).post(url, {"action": "switch_to: extension", "reason": "Patient asks"}, format="json")
    assert answer.status_code == 200, answer.content
    assert (answer.json()["status"], answer.json()["chosen_action"], answer.json()["override_reason"]) == (
        "overridden", "switch_to: extension", "Patient asks",
    )
    assert c.enrolment.sessions.filter(arm="extension").count() == 3
    again = client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/")
    assert again.status_code == 409


def test_a_correction_after_the_decision_flags_it_and_never_replans(course, clinician, client_as):
    c = _scars_to_third(course, 2)
    decision = c.decisions()[0]
    client_as(clinician).post(f"/api/v1/decisions/{decision['id']}/accept/")
    before = list(c.enrolment.sessions.order_by("sequence").values_list("sequence", "status", "target_date"))
    third = c.named("Microneedling with secretome", 3)
    outcome = third.outcomes.get(measure__code="scar_grade")
    answer = client_as(clinician).patch(f"/api/v1/outcomes/{outcome.pk}/", {"value": 3, "reason": "Misread"}, format="json")
    assert answer.status_code == 200, answer.content
    (flagged,) = c.decisions()
    assert flagged["needs_review"] and "corrected" in flagged["review_reason"]
    assert flagged["status"] == "accepted"
    assert list(c.enrolment.sessions.order_by("sequence").values_list("sequence", "status", "target_date")) == before


def test_a_correction_before_the_decision_updates_the_proposal(course, clinician, client_as):
    c = _scars_to_third(course, 2)
    third = c.named("Microneedling with secretome", 3)
    outcome = third.outcomes.get(measure__code="scar_grade")
    client_as(clinician).patch(f"/api/v1/outcomes/{outcome.pk}/", {"value": 3, "reason": "Misread"}, format="json")
    (decision,) = c.decisions()
    assert (decision["proposed_action"], decision["needs_review"]) == ("switch_to: extension", False)
