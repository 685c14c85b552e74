"""Properties of the schedule engine over random protocols and random
histories of bookings, completions, skips and no-shows."""

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.schedule import (
    BOOKED,
    COMPLETED,
    FROZEN,
    PLANNED,
    PREVIOUS,
    SKIPPED,
    START,
    cascade,
    initial_schedule,
    reference_date,
)
from tests.protocols.schedule_helpers import Course, rule

rules_strategy = st.lists(
    st.builds(
        rule,
        repeat=st.integers(1, 8),
        interval=st.integers(0, 60),
        anchor=st.sampled_from([PREVIOUS, START]),
        before=st.integers(0, 14),
        after=st.integers(0, 14),
    ),
    min_size=1,
    max_size=4,
)
start_strategy = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))
operation_strategy = st.tuples(
    st.sampled_from(["complete", "book", "skip", "no_show", "cancel_booking"]),
    st.integers(0, 10_000),  # which session (modulo the count)
    st.integers(-20, 40),  # days from its target
)


def check_invariants(course: Course, frozen_seen: dict) -> None:
    results = cascade(course.start, course.states)
    states = course.states
    # Sequences are 1..N in step/occurrence order, and stay so.
    assert [s.sequence for s in states] == list(range(1, len(states) + 1))
    assert [r.sequence for r in results] == sorted(r.sequence for r in results)
    assert {r.sequence for r in results} == {s.sequence for s in states if s.status not in FROZEN}
    previous_reference = course.start
    for s in states:
        if s.status not in FROZEN:
            first, last = course.windows[s.sequence]
            assert first <= s.target_date <= last
            assert (s.target_date - first).days == s.rule.window_before_days
            assert (last - s.target_date).days == s.rule.window_after_days
            if s.rule.anchor == PREVIOUS:
                assert s.target_date == previous_reference + dt.timedelta(days=s.rule.interval_days)
            booked_outside = s.status == BOOKED and not first <= s.booked_date <= last
            assert course.out_of_window[s.sequence] is booked_outside
        if s.rule.anchor == START:
            assert s.target_date == course.start + dt.timedelta(days=s.rule.interval_days * s.occurrence)
        previous_reference = reference_date(s)
    # Frozen sessions never change once frozen.
    for s in states:
        if s.status in FROZEN:
            assert frozen_seen.setdefault(s.sequence, s) == s
    # Idempotent: its own output fed back changes nothing.
    assert cascade(course.start, course.states) == results


@settings(max_examples=200, deadline=None)
@given(start=start_strategy, rules=rules_strategy)
def test_initial_schedule_orders_and_windows(start, rules):
    planned = initial_schedule(start, rules)
    assert [p.sequence for p in planned] == list(range(1, sum(r.repeat for r in rules) + 1))
    assert [(p.step_index, p.occurrence) for p in planned] == [
        (i, j) for i, r in enumerate(rules) for j in range(1, r.repeat + 1)
    ]
    for p in planned:
        r = rules[p.step_index]
        assert p.dates.window_start <= p.dates.target_date <= p.dates.window_end
        if r.anchor == START:
            assert p.dates.target_date == start + dt.timedelta(days=r.interval_days * p.occurrence)
    # A fresh schedule is already a fixed point of the cascade.
    course = Course(start, rules)
    assert [r.dates for r in course.run()] == [p.dates for p in planned]


@settings(max_examples=200, deadline=None)
@given(start=start_strategy, rules=rules_strategy, operations=st.lists(operation_strategy, max_size=25))
def test_random_histories_keep_every_rule(start, rules, operations):
    course = Course(start, rules)
    frozen_seen: dict = {}
    start_targets = {
        s.sequence: s.target_date for s in course.states if s.rule.anchor == START
    }
    check_invariants(course, frozen_seen)
    for name, pick, offset in operations:
        sequence = pick % len(course.states) + 1
        s = course[sequence]
        day = s.target_date + dt.timedelta(days=offset)
        if name == "complete" and s.status in (PLANNED, BOOKED):
            course.complete(sequence, s.booked_date if s.status == BOOKED else day)
        elif name == "book" and s.status in (PLANNED, BOOKED):
            course.book(sequence, day)
        elif name == "skip" and s.status in (PLANNED, BOOKED):
            course.skip(sequence)
        elif name in ("no_show", "cancel_booking") and s.status == BOOKED:
            getattr(course, name)(sequence)
        else:
            continue
        check_invariants(course, frozen_seen)
        assert {q: course[q].target_date for q in start_targets} == start_targets
    # Every session that was ever completed or skipped is still so.
    for sequence, frozen in frozen_seen.items():
        assert course[sequence] == frozen
        assert frozen.status in (COMPLETED, SKIPPED)


@settings(max_examples=100, deadline=None)
@given(start=start_strategy, rules=rules_strategy, data=st.data())
def test_cascade_is_a_function_of_the_state_alone(start, rules, data):
    """Whatever targets the planned sessions held before, the cascade gives
    the same answer: it never depends on stale dates."""
    course = Course(start, rules)
    scrambled = [
        replace(s, target_date=s.target_date + dt.timedelta(days=data.draw(st.integers(-30, 30))))
        for s in course.states
    ]
    assert cascade(start, scrambled) == cascade(start, course.states)
