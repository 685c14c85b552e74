"""SPEC §3's date rules, straight against the pure engine (no database)."""

import datetime as dt

import pytest

from protocols.schedule import (
    BOOKED,
    CANCELLED,
    COMPLETED,
    PLANNED,
    PREVIOUS,
    SKIPPED,
    START,
    SessionState,
    cascade,
    initial_schedule,
    reference_date,
    window_around,
)
from tests.protocols.schedule_helpers import Course, d, rule

HAIR = [rule(1, 0), rule(6, 14, after=14)]


# --- SPEC §3's worked example ----------------------------------------------------------------------


def test_worked_example_initial_dates():
    course = Course(d("2026-03-02"), HAIR)
    assert course.targets() == [
        "2026-03-02", "2026-03-16", "2026-03-30", "2026-04-13", "2026-04-27", "2026-05-11", "2026-05-25",
    ]
    assert course.window(1) == ("2026-03-02", "2026-03-02")
    assert course.window(2) == ("2026-03-16", "2026-03-30")


def test_worked_example_late_completion_moves_treatment_two():
    course = Course(d("2026-03-02"), HAIR)
    course.complete(1, d("2026-03-02"))
    course.complete(2, d("2026-03-25"))
    assert course[3].target_date == d("2026-04-08")
    assert course.window(3) == ("2026-04-08", "2026-04-22")
    # ... and everything after it follows, fourteen days apart.
    assert course.targets()[3:] == ["2026-04-22", "2026-05-06", "2026-05-20", "2026-06-03"]


def test_initial_schedule_numbers_steps_then_occurrences():
    planned = initial_schedule(d("2026-03-02"), [rule(2, 1), rule(3, 1), rule(1, 1)])
    assert [(p.sequence, p.step_index, p.occurrence) for p in planned] == [
        (1, 0, 1), (2, 0, 2), (3, 1, 1), (4, 1, 2), (5, 1, 3), (6, 2, 1),
    ]


# --- every anchor x window combination -----------------------------------------------------------

WINDOWS = {"none": (0, 0), "before_only": (3, 0), "after_only": (0, 5), "both": (2, 4)}


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        # After a baseline 5 days in: `previous` counts from the baseline,
        # `start` from the enrolment's start date.
        (PREVIOUS, ["2026-03-17", "2026-03-27", "2026-04-06"]),
        (START, ["2026-03-12", "2026-03-22", "2026-04-01"]),
    ],
)
def test_targets_and_windows_for_each_anchor_and_window(anchor, expected, window):
    before, after = window
    course = Course(d("2026-03-02"), [rule(1, 5), rule(3, 10, anchor, before, after)])
    assert course.targets() == ["2026-03-07", *expected]
    for sequence, target in zip((2, 3, 4), expected, strict=True):
        target_date = d(target)
        assert course.windows[sequence] == (
            target_date - dt.timedelta(days=before),
            target_date + dt.timedelta(days=after),
        )


@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        (PREVIOUS, ["2026-03-31", "2026-04-10"]),  # four days late moves both later ones
        (START, ["2026-03-22", "2026-04-01"]),  # never moves
    ],
)
def test_late_completion_per_anchor_and_window(anchor, expected, window):
    before, after = window
    course = Course(d("2026-03-02"), [rule(1, 5), rule(3, 10, anchor, before, after)])
    course.complete(1, course[1].target_date)
    course.complete(2, course[2].target_date + dt.timedelta(days=4))
    assert course.targets()[2:] == expected
    for sequence in (3, 4):
        first, last = course.windows[sequence]
        assert first == course[sequence].target_date - dt.timedelta(days=before)
        assert last == course[sequence].target_date + dt.timedelta(days=after)


def test_zero_interval_puts_sessions_on_the_same_day():
    course = Course(d("2026-03-02"), [rule(3, 0)])
    assert course.targets() == ["2026-03-02"] * 3


def test_first_session_counts_from_the_start_date():
    assert Course(d("2026-03-02"), [rule(1, 14)]).targets() == ["2026-03-16"]
    assert Course(d("2026-03-02"), [rule(1, 14, START)]).targets() == ["2026-03-16"]


def test_start_anchor_counts_from_start_even_after_other_steps():
    # A weekly block, then monthly checks counted from day 0, not from the block.
    course = Course(d("2026-03-02"), [rule(3, 7), rule(2, 30, START)])
    assert course.targets() == ["2026-03-09", "2026-03-16", "2026-03-23", "2026-04-01", "2026-05-01"]


def test_previous_step_after_start_step_follows_its_reference():
    course = Course(d("2026-03-02"), [rule(2, 30, START), rule(1, 7)])
    assert course.targets() == ["2026-04-01", "2026-05-01", "2026-05-08"]
    course.book(2, d("2026-05-04"))
    assert course.targets() == ["2026-04-01", "2026-05-01", "2026-05-11"]


# --- month ends and 29 February --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "rules", "expected"),
    [
        ("2026-01-31", [rule(2, 30)], ["2026-03-02", "2026-04-01"]),  # February 2026 has 28 days
        ("2028-01-31", [rule(1, 30)], ["2028-03-01"]),  # 2028 is a leap year
        ("2026-01-31", [rule(1, 28)], ["2026-02-28"]),
        ("2028-01-31", [rule(1, 29)], ["2028-02-29"]),
        ("2027-01-31", [rule(1, 29)], ["2027-03-01"]),
        ("2028-02-28", [rule(1, 1)], ["2028-02-29"]),
        ("2027-02-28", [rule(1, 1)], ["2027-03-01"]),
        ("2028-02-29", [rule(1, 365)], ["2029-02-28"]),
        ("2028-02-29", [rule(1, 366)], ["2029-03-01"]),
        ("2026-04-30", [rule(2, 31)], ["2026-05-31", "2026-07-01"]),
        ("2026-12-31", [rule(1, 1)], ["2027-01-01"]),
        ("2028-01-30", [rule(2, 30, START)], ["2028-02-29", "2028-03-30"]),
        ("2027-01-30", [rule(2, 30, START)], ["2027-03-01", "2027-03-31"]),
    ],
)
def test_month_ends_and_leap_days_are_plain_day_counts(start, rules, expected):
    assert Course(d(start), rules).targets() == expected


@pytest.mark.parametrize(
    ("target", "window"),
    [
        ("2028-02-29", ("2028-02-28", "2028-03-01")),
        ("2027-03-01", ("2027-02-28", "2027-03-02")),
        ("2027-01-01", ("2026-12-31", "2027-01-02")),
    ],
)
def test_windows_cross_month_and_year_ends(target, window):
    dates = window_around(d(target), rule(1, 0, before=1, after=1))
    assert (dates.window_start.isoformat(), dates.window_end.isoformat()) == window


def test_completion_on_leap_day_passes_it_on():
    course = Course(d("2028-02-01"), [rule(1, 14, after=14), rule(1, 14)])
    course.complete(1, d("2028-02-29"))
    assert course[2].target_date == d("2028-03-14")


# --- reference dates -------------------------------------------------------------------------------


def state(status, *, target="2026-03-16", booked=None, completed=None) -> SessionState:
    return SessionState(
        sequence=1,
        occurrence=1,
        rule=rule(1, 14),
        status=status,
        target_date=d(target),
        booked_date=d(booked) if booked else None,
        completed_date=d(completed) if completed else None,
    )


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (state(PLANNED), "2026-03-16"),
        (state(BOOKED, booked="2026-03-20"), "2026-03-20"),
        (state(COMPLETED, booked="2026-03-20", completed="2026-03-22"), "2026-03-22"),
        (state(COMPLETED, completed="2026-03-10"), "2026-03-10"),  # early completions count too
        (state(SKIPPED), "2026-03-16"),
        (state(CANCELLED), "2026-03-16"),
        # A no-show is planned again: a left-over booked date does not count.
        (state(PLANNED, booked="2026-03-20"), "2026-03-16"),
        (state(SKIPPED, booked="2026-03-20"), "2026-03-16"),
    ],
)
def test_reference_date_is_completed_then_booked_then_target(session, expected):
    assert reference_date(session) == d(expected)


def test_skipped_session_passes_its_target_not_its_booking_on():
    course = Course(d("2026-03-02"), [rule(3, 14)])
    course.book(1, d("2026-03-20"))
    assert course[2].target_date == d("2026-04-03")
    course.skip(1)
    assert course.targets() == ["2026-03-16", "2026-03-30", "2026-04-13"]


def test_no_show_returns_the_reference_to_the_target():
    course = Course(d("2026-03-02"), [rule(3, 14, after=14)])
    course.book(1, d("2026-03-25"))
    assert course[2].target_date == d("2026-04-08")
    course.no_show(1)
    assert course[1].status == PLANNED
    assert course.targets() == ["2026-03-16", "2026-03-30", "2026-04-13"]


def test_cancelling_a_booking_moves_later_sessions_back():
    course = Course(d("2026-03-02"), [rule(2, 14, before=3, after=7)])
    course.book(1, d("2026-03-13"))
    assert course[2].target_date == d("2026-03-27")
    course.cancel_booking(1)
    assert course[2].target_date == d("2026-03-30")


# --- a cascade across ten sessions ----------------------------------------------------------------


def test_cascade_across_ten_sessions():
    course = Course(d("2026-01-05"), [rule(1, 0), rule(9, 14, before=3, after=7)])
    assert course.targets() == [
        "2026-01-05", "2026-01-19", "2026-02-02", "2026-02-16", "2026-03-02",
        "2026-03-16", "2026-03-30", "2026-04-13", "2026-04-27", "2026-05-11",
    ]
    course.book(7, d("2026-03-31"))
    assert course.window(7) == ("2026-03-27", "2026-04-06")
    assert course.out_of_window[7] is False

    course.complete(1, d("2026-01-05"))
    course.complete(2, d("2026-01-24"))  # five days late
    assert course.targets()[2:6] == ["2026-02-07", "2026-02-21", "2026-03-07", "2026-03-21"]
    # Session 7 keeps its booking, but its new window 04-01..04-11 no longer holds 03-31.
    assert course[7].booked_date == d("2026-03-31")
    assert course[7].target_date == d("2026-04-04")
    assert course.window(7) == ("2026-04-01", "2026-04-11")
    assert course.out_of_window[7] is True
    # Its booked date, not its target, is what the sessions after it count from.
    assert course.targets()[7:] == ["2026-04-14", "2026-04-28", "2026-05-12"]

    course.book(3, d("2026-02-09"))
    assert course[4].target_date == d("2026-02-23")
    course.skip(3)  # passes its target 02-07 on, not the booking it had
    assert course[3].status == SKIPPED
    assert course.targets()[3:6] == ["2026-02-21", "2026-03-07", "2026-03-21"]

    course.book(4, d("2026-02-23"))
    assert course.targets()[4:7] == ["2026-03-09", "2026-03-23", "2026-04-06"]
    assert course.out_of_window[7] is True

    course.no_show(4)  # planned again: its target counts
    assert course[4].status == PLANNED
    assert course.targets()[4:7] == ["2026-03-07", "2026-03-21", "2026-04-04"]

    course.book(6, d("2026-03-18"))  # three days early, inside 03-18..03-28
    assert course[7].target_date == d("2026-04-01")
    assert course.window(7) == ("2026-03-29", "2026-04-08")
    assert course.out_of_window[7] is False  # back inside its window

    course.complete(4, d("2026-02-21"))
    course.complete(5, d("2026-03-06"))
    assert course[6].target_date == d("2026-03-20")
    assert course.out_of_window[6] is False
    course.complete(6, d("2026-03-18"))
    course.complete(7, d("2026-03-31"))
    assert course.targets() == [
        "2026-01-05", "2026-01-19", "2026-02-07", "2026-02-21", "2026-03-07",
        "2026-03-20", "2026-04-01", "2026-04-14", "2026-04-28", "2026-05-12",
    ]
    assert [s.status for s in course.states] == [COMPLETED] * 2 + [SKIPPED] + [COMPLETED] * 4 + [PLANNED] * 3


def test_booked_later_session_out_of_window_and_back():
    course = Course(d("2026-03-02"), HAIR)
    course.book(3, d("2026-04-01"))  # window 03-30..04-13
    course.book(2, d("2026-03-29"))  # 13 days late
    assert course.window(3) == ("2026-04-12", "2026-04-26")
    assert course[3].booked_date == d("2026-04-01")
    assert course[3].status == BOOKED
    assert course.out_of_window[3] is True
    course.book(2, d("2026-03-17"))  # rebooked earlier
    assert course.window(3) == ("2026-03-31", "2026-04-14")
    assert course.out_of_window[3] is False


def test_booked_session_whose_own_booking_is_outside_is_flagged():
    # Booked before its window (an override): flagged by the cascade itself.
    course = Course(d("2026-03-02"), HAIR)
    course.book(2, d("2026-03-10"))
    assert course.out_of_window[2] is True
    assert course[3].target_date == d("2026-03-24")


# --- anchor = start never moves -------------------------------------------------------------------


def test_start_anchored_sessions_never_move():
    rules = [rule(1, 0), rule(2, 7), rule(4, 28, START, before=2, after=2), rule(1, 14)]
    course = Course(d("2026-03-02"), rules)
    fixed = ["2026-03-30", "2026-04-27", "2026-05-25", "2026-06-22"]
    assert course.targets()[3:7] == fixed

    course.complete(1, d("2026-03-05"))
    course.book(2, d("2026-03-20"))
    course.no_show(2)
    course.book(3, d("2026-04-02"))
    course.skip(3)
    course.book(4, d("2026-04-03"))  # outside 03-28..04-01, kept and flagged
    assert course.out_of_window[4] is True
    course.book(5, d("2026-04-26"))
    course.complete(4, d("2026-04-03"))
    course.cancel_booking(5)
    assert course.targets()[3:7] == fixed
    assert course.window(5) == ("2026-04-25", "2026-04-29")
    # The last step counts from the last start-anchored session's reference.
    assert course[8].target_date == d("2026-07-06")
    course.book(7, d("2026-06-24"))
    assert course[8].target_date == d("2026-07-08")
    assert course.targets()[3:7] == fixed


def test_cascade_leaves_frozen_sessions_out_and_is_idempotent():
    course = Course(d("2026-03-02"), HAIR)
    course.complete(1, d("2026-03-03"))
    course.skip(2)
    course.book(3, d("2026-04-02"))
    first = cascade(course.start, course.states)
    assert [r.sequence for r in first] == [3, 4, 5, 6, 7]
    assert cascade(course.start, course.states) == first
