"""SPEC §19: decision rules as data, evaluated and re-planned by pure
functions of protocols/schedule.py."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols import schedule
from protocols.schedule import (
    BOOKED,
    COMPLETED,
    PLANNED,
    PREVIOUS,
    START,
    Action,
    Facts,
    OpenSession,
    Reading,
    RuleError,
    SessionState,
    StepRule,
    cascade,
    evaluate,
    leaving,
    parse_action,
    parse_condition,
    parse_rule_set,
    plan_arm,
)

PSORIASIS = {
    "rules": [
        {"if": "responder: pasi_75", "then": "switch_to: maintenance"},
        {"if": "pasi percent_change <= -50", "then": "switch_to: extension"},
    ],
    "default": {"then": "review"},
}


def facts(value, baseline, responders=None):
    return Facts({"pasi": Reading(value, baseline)}, responders or {})


def test_conditions_and_actions_read_as_written():
    assert parse_condition("responder: pasi_75").responder == "pasi_75"
    c = parse_condition("wound_area  percent_change >= 50")
    assert (c.measure, c.basis, c.op, c.number) == ("wound_area", "percent_change", ">=", Decimal(50))
    assert parse_condition("wound_closed = 1").basis == "value"
    assert parse_action("switch_to: maintenance") == Action("switch_to", "maintenance")
    assert parse_action("stop_treatments").kind == "stop_treatments"


@pytest.mark.parametrize(
    "text", ["", "pasi", "pasi >> 3", "pasi ratio < 3", "pasi < three", "pasi < NaN", "responder:", "a b c d e"]
)
def test_bad_conditions_are_refused(text):
    with pytest.raises(RuleError):
        parse_condition(text)


@pytest.mark.parametrize("text", ["", "jump", "switch_to:", "switch_to: a b", None, 3])
def test_bad_actions_are_refused(text):
    with pytest.raises(RuleError):
        parse_action(text)


def test_rule_set_needs_a_default():
    with pytest.raises(RuleError, match="default"):
        parse_rule_set({"rules": []})
    with pytest.raises(RuleError, match="rule 1"):
        parse_rule_set({"rules": [{"if": "pasi < 1", "then": "fly"}], "default": {"then": "review"}})


def test_first_match_wins_on_the_thresholds():
    rules = parse_rule_set(PSORIASIS)
    assert evaluate(rules, facts(Decimal(5), Decimal(20), {"pasi_75": True})).action.arm == "maintenance"
    # Exactly -50 % is PASI-50: the extension.
    verdict = evaluate(rules, facts(Decimal(10), Decimal(20), {"pasi_75": False}))
    assert (verdict.action.arm, verdict.rule_index) == ("extension", 2)
    verdict = evaluate(rules, facts(Decimal("10.01"), Decimal(20), {"pasi_75": False}))
    assert (verdict.action.kind, verdict.rule_index) == ("review", None)


def test_a_missing_value_gives_the_default():
    rules = parse_rule_set(PSORIASIS)
    assert evaluate(rules, Facts({}, {})).action.kind == "review"
    assert evaluate(rules, facts(Decimal(3), None, {"pasi_75": None})).action.kind == "review"


def test_ordinal_has_no_percent_change():
    assert Reading(Decimal(2), Decimal(3), ordinal=True).of("percent_change") is None
    assert Reading(Decimal(2), Decimal(3), ordinal=True).of("change") == Decimal(-1)


def test_leaving_keeps_follow_ups_and_assessments_as_the_action_says():
    open_ = [OpenSession(5, "treatment", False), OpenSession(6, "assessment", False), OpenSession(7, "assessment", True)]
    assert leaving(Action("switch_to", "x"), open_) == [5, 6]
    assert leaving(Action("stop_treatments"), open_) == [5]
    assert leaving(Action("continue"), open_) == leaving(Action("review"), open_) == []


def test_an_arm_is_anchored_on_the_decision_visit_and_the_cascade_agrees():
    decision = dt.date(2026, 3, 30)
    rules = [StepRule(3, 56, START, 7, 7)]
    planned = plan_arm(decision, rules, first_sequence=12)
    assert [p.sequence for p in planned] == [12, 13, 14]
    assert [p.dates.target_date for p in planned] == [decision + dt.timedelta(days=56 * j) for j in (1, 2, 3)]
    states = [SessionState(1, 1, StepRule(1, 0, PREVIOUS, 0, 0), COMPLETED, dt.date(2026, 1, 5),
                           completed_date=dt.date(2026, 1, 5))]
    states += [SessionState(p.sequence, p.occurrence, rules[0], PLANNED, p.dates.target_date, arm_anchor=decision)
               for p in planned]
    assert [r.dates for r in cascade(dt.date(2026, 1, 5), states)] == [p.dates for p in planned]


actions = st.one_of(
    st.sampled_from(["continue", "stop_treatments", "review"]),
    st.sampled_from(["a", "b"]).map(lambda arm: f"switch_to: {arm}"),
)
conditions = st.one_of(
    st.sampled_from(["pasi_75", "easi_50"]).map(lambda code: f"responder: {code}"),
    st.tuples(
        st.sampled_from(["pasi", "easi"]),
        st.sampled_from(["value", "change", "percent_change"]),
        st.sampled_from(list(schedule.OPERATORS)),
        st.integers(-100, 100),
    ).map(lambda t: " ".join(map(str, t))),
)
rule_sets = st.builds(
    lambda rules, default: {"rules": [{"if": c, "then": a} for c, a in rules], "default": {"then": default}},
    st.lists(st.tuples(conditions, actions), max_size=6),
    actions,
)
maybe = st.one_of(st.none(), st.decimals(0, 72, places=2))
facts_strategy = st.builds(
    lambda p, pb, e, eb, r1, r2: Facts(
        {"pasi": Reading(p, pb), "easi": Reading(e, eb)}, {"pasi_75": r1, "easi_50": r2}
    ),
    maybe, maybe, maybe, maybe, st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.booleans()),
)


@given(rule_sets, facts_strategy)
def test_a_rule_set_always_yields_exactly_one_action(data, fact):
    rules = parse_rule_set(data)
    verdict = evaluate(rules, fact)
    assert verdict.action.kind in schedule.ACTIONS
    if verdict.rule_index is None:
        assert verdict.action == rules.default
        assert not any(schedule.holds(r.condition, fact) is True for r in rules.rules)
    else:
        assert verdict.action == rules.rules[verdict.rule_index - 1].action
        # first match: no earlier rule holds
        assert not any(schedule.holds(r.condition, fact) is True for r in rules.rules[: verdict.rule_index - 1])


step_rules = st.lists(
    st.builds(StepRule, st.integers(1, 6), st.integers(0, 120), st.sampled_from([PREVIOUS, START]),
              st.integers(0, 30), st.integers(0, 30), st.booleans()),
    min_size=1, max_size=4,
)


@given(
    st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)),
    step_rules,
    st.integers(1, 40),
    st.lists(st.tuples(st.integers(0, 200), st.integers(-10, 10)), max_size=6),
)
def test_replanning_keeps_windows_valid(decision, rules, first, bookings):
    planned = plan_arm(decision, rules, first_sequence=first)
    assert [p.sequence for p in planned] == list(range(first, first + len(planned)))
    for p in planned:
        assert p.dates.window_start <= p.dates.target_date <= p.dates.window_end
        assert p.dates.target_date >= decision
    # Bookings and completions inside the arm, then the cascade: still valid windows.
    states = []
    rule_of = [rules[p.step_index] for p in planned]
    for p, r in zip(planned, rule_of, strict=True):
        states.append(SessionState(p.sequence, p.occurrence, r, PLANNED, p.dates.target_date, arm_anchor=decision))
    for which, shift in bookings:
        i = which % len(states)
        day = states[i].target_date + dt.timedelta(days=shift)
        states[i] = SessionState(states[i].sequence, states[i].occurrence, states[i].rule, BOOKED,
                                 states[i].target_date, booked_date=day, arm_anchor=decision)
    for result in cascade(decision - dt.timedelta(days=90), states):
        assert result.dates.window_start <= result.dates.target_date <= result.dates.window_end
