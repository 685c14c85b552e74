"""`anchor = "treatment"` (library, second edition): a follow-up counts from
the latest treatment session before it, not from the visits in between."""

import datetime as dt

from protocols.schedule import PREVIOUS, TREATMENT, StepRule
from tests.protocols.schedule_helpers import Course, d


def rule(repeat=1, interval=0, anchor=PREVIOUS, before=0, after=0, treatment=False) -> StepRule:
    return StepRule(repeat, interval, anchor, before, after, is_treatment=treatment)


# Baseline, three fortnightly treatments, an assessment 14 days after, follow-ups at 182 and 365
# days after the last treatment.
COURSE = [
    rule(1, 0),
    rule(3, 14, after=14, treatment=True),
    rule(1, 14, after=7),
    rule(1, 182, TREATMENT, 14, 14),
    rule(1, 365, TREATMENT, 21, 21),
]


def test_follow_ups_count_from_the_last_treatment():
    course = Course(d("2026-03-02"), COURSE)
    last = d("2026-03-02") + dt.timedelta(days=42)
    assert course.targets()[-2:] == [(last + dt.timedelta(days=182)).isoformat(), (last + dt.timedelta(days=365)).isoformat()]
    assert course.window(6) == ((last + dt.timedelta(days=168)).isoformat(), (last + dt.timedelta(days=196)).isoformat())


def test_a_late_end_of_course_visit_or_6_month_visit_moves_no_follow_up():
    course = Course(d("2026-03-02"), COURSE)
    before = course.targets()[-2:]
    course.complete(5, d(course.targets()[4]) + dt.timedelta(days=6))
    course.complete(6, d(course.targets()[5]) + dt.timedelta(days=10))
    assert course.targets()[-1] == before[-1]
    assert course.targets()[-2] == before[-2]


def test_a_late_last_treatment_moves_both_follow_ups():
    course = Course(d("2026-03-02"), COURSE)
    late = d(course.targets()[3]) + dt.timedelta(days=9)
    course.complete(4, late)
    assert course.targets()[-2:] == [(late + dt.timedelta(days=182)).isoformat(), (late + dt.timedelta(days=365)).isoformat()]


def test_a_skipped_last_treatment_passes_its_target_on():
    course = Course(d("2026-03-02"), COURSE)
    target = d(course.targets()[3])
    course.skip(4)
    assert course.targets()[-2] == (target + dt.timedelta(days=182)).isoformat()


def test_without_a_treatment_the_start_date_is_the_reference():
    course = Course(d("2026-03-02"), [rule(1, 0), rule(1, 182, TREATMENT, 14, 14)])
    assert course.targets() == ["2026-03-02", "2026-08-31"]
