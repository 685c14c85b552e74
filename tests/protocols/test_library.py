from decimal import Decimal

import pytest

from protocols.library import (
    ADJUNCTS,
    ANCHORS,
    DELIVERY_ROUTES,
    INDICATIONS,
    MEASURES,
    PROTOCOLS,
    STEP_KINDS,
    VALUE_TYPES,
)

# The codes of the table in clinical/instruments.md.
INSTRUMENT_CODES = {
    "hair_density",
    "hair_thickness",
    "anagen_ratio",
    "wrinkle_depth",
    "elasticity_r2",
    "hydration",
    "glogau",
    "wound_area",
    "wound_closed",
    "scorad",
    "easi",
    "pasi",
    "iga",
    "dlqi",
    "itch_nrs",
    "scar_grade",
    "vss",
    "pain_vas",
    "tcs_use",
}
MEASURE_KEYS = {
    "code",
    "name",
    "unit",
    "value_type",
    "min_value",
    "max_value",
    "higher_is_better",
    "used_for",
}
PROTOCOL_KEYS = {"key", "name", "indication", "delivery", "description", "product", "steps"}
STEP_KEYS = {
    "name",
    "kind",
    "repeat",
    "interval_days",
    "anchor",
    "window_before_days",
    "window_after_days",
    "duration_minutes",
    "measures",
    "product",
    "adjunct",
    "primary_endpoint",
}
MEASURES_BY_CODE = {measure["code"]: measure for measure in MEASURES}
PROTOCOLS_BY_KEY = {protocol["key"]: protocol for protocol in PROTOCOLS}
ALL_STEPS = [
    pytest.param(step, id=f"{protocol['key']}:{step['name']}") for protocol in PROTOCOLS for step in protocol["steps"]
]


def nominal_days(steps):
    """Target day of every session when each is done on its target day (SPEC §3)."""
    days = []
    for step in steps:
        for j in range(1, step["repeat"] + 1):
            if step["anchor"] == "start":
                days.append(step["interval_days"] * j)
            else:
                days.append((days[-1] if days else 0) + step["interval_days"])
    return days


def test_catalogue_has_the_19_instrument_measures_once_each():
    codes = [measure["code"] for measure in MEASURES]
    assert len(codes) == 19
    assert len(set(codes)) == 19
    assert set(codes) == INSTRUMENT_CODES


@pytest.mark.parametrize("measure", MEASURES, ids=lambda measure: measure["code"])
def test_measure_fields_are_well_formed(measure):
    assert set(measure) == MEASURE_KEYS
    assert measure["name"]
    assert measure["unit"]
    assert measure["used_for"]
    assert measure["value_type"] in VALUE_TYPES
    assert isinstance(measure["min_value"], Decimal)
    assert isinstance(measure["max_value"], Decimal)
    assert measure["min_value"] < measure["max_value"]
    assert isinstance(measure["higher_is_better"], bool)
    if measure["value_type"] in ("integer", "score"):
        assert measure["min_value"] == measure["min_value"].to_integral_value()
        assert measure["max_value"] == measure["max_value"].to_integral_value()


@pytest.mark.parametrize(
    ("code", "unit", "value_type", "low", "high", "higher_is_better"),
    [
        ("hair_density", "hairs/cm²", "decimal", "0", "600", True),
        ("elasticity_r2", "ratio", "decimal", "0", "1", True),
        ("hydration", "a.u.", "decimal", "0", "130", True),
        ("glogau", "score", "score", "1", "4", False),
        ("wound_closed", "0/1", "integer", "0", "1", True),
        ("scorad", "score", "decimal", "0", "103", False),
        ("easi", "score", "decimal", "0", "72", False),
        ("pasi", "score", "decimal", "0", "72", False),
        ("dlqi", "score", "integer", "0", "30", False),
        ("scar_grade", "score", "score", "1", "4", False),
        ("vss", "score", "score", "0", "13", False),
        ("tcs_use", "g", "decimal", "0", "1000", False),
    ],
)
def test_measure_ranges_match_instruments_md(code, unit, value_type, low, high, higher_is_better):
    measure = MEASURES_BY_CODE[code]
    assert measure["unit"] == unit
    assert measure["value_type"] == value_type
    assert measure["min_value"] == Decimal(low)
    assert measure["max_value"] == Decimal(high)
    assert measure["higher_is_better"] is higher_is_better


def test_each_protocol_marks_its_end_of_course_assessment_as_primary_end_point():
    # clinical/protocols.md: one end point per protocol, an assessment.
    for protocol in PROTOCOLS:
        marked = [step for step in protocol["steps"] if step["primary_endpoint"]]
        assert [step["kind"] for step in marked] == ["assessment"], protocol["key"]


def test_library_has_the_seven_protocols():
    assert [protocol["key"] for protocol in PROTOCOLS] == [
        "hair-aga",
        "photoaging-4wk",
        "post-laser",
        "chronic-wound",
        "atopic-dermatitis",
        "psoriasis",
        "scars",
    ]
    assert len({protocol["name"] for protocol in PROTOCOLS}) == 7


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol["key"])
def test_protocol_fields_are_well_formed(protocol):
    assert set(protocol) == PROTOCOL_KEYS
    assert protocol["indication"] in INDICATIONS
    assert protocol["delivery"] in DELIVERY_ROUTES
    assert protocol["product"]
    assert "Zare et al." in protocol["description"]
    assert protocol["steps"]
    first = protocol["steps"][0]
    assert (first["interval_days"], first["anchor"], first["repeat"]) == (0, "previous", 1)
    assert (first["window_before_days"], first["window_after_days"]) == (0, 0)


@pytest.mark.parametrize("step", ALL_STEPS)
def test_step_fields_are_valid(step):
    assert set(step) == STEP_KEYS
    assert step["name"]
    assert step["kind"] in STEP_KINDS
    assert step["anchor"] in ANCHORS
    assert step["adjunct"] in ADJUNCTS
    assert isinstance(step["repeat"], int)
    assert step["repeat"] >= 1
    assert isinstance(step["interval_days"], int)
    assert step["interval_days"] >= 0
    assert step["window_before_days"] >= 0
    assert step["window_after_days"] >= 0
    assert step["duration_minutes"] >= 0
    assert isinstance(step["measures"], list)
    assert len(set(step["measures"])) == len(step["measures"])
    assert set(step["measures"]) <= set(MEASURES_BY_CODE)
    if step["kind"] == "treatment":
        assert step["product"]
        assert step["duration_minutes"] > 0
    else:
        assert step["product"] == ""
        assert step["adjunct"] == "none"
    if step["kind"] == "home":
        assert step["duration_minutes"] == 0
        assert step["measures"] == []


@pytest.mark.parametrize("step", ALL_STEPS)
def test_anchor_start_steps_never_target_the_start_date(step):
    if step["anchor"] == "start":
        assert step["interval_days"] > 0


def test_hair_protocol_matches_protocols_md():
    hair = PROTOCOLS_BY_KEY["hair-aga"]
    assert (hair["indication"], hair["delivery"]) == ("hair", "injection")
    fields = (
        "kind",
        "repeat",
        "interval_days",
        "anchor",
        "window_before_days",
        "window_after_days",
        "measures",
        "adjunct",
    )
    assert [tuple(step[field] for field in fields) for step in hair["steps"]] == [
        ("assessment", 1, 0, "previous", 0, 0, ["hair_density", "hair_thickness"], "none"),
        ("treatment", 6, 14, "previous", 0, 14, ["pain_vas"], "microneedling"),
        ("assessment", 1, 14, "previous", 0, 7, ["hair_density", "hair_thickness"], "none"),
        ("assessment", 1, 180, "start", 14, 14, ["hair_density"], "none"),
    ]
    # Baseline, six fortnightly sessions (the 12-week course), end of course, 6 months.
    assert nominal_days(hair["steps"]) == [0, 14, 28, 42, 56, 70, 84, 98, 180]


def test_post_laser_procedure_day_uses_fractional_co2():
    procedure, home, *_ = PROTOCOLS_BY_KEY["post-laser"]["steps"]
    assert (procedure["kind"], procedure["adjunct"], procedure["measures"]) == (
        "treatment",
        "fractional_co2",
        ["pain_vas"],
    )
    assert (home["kind"], home["repeat"], home["interval_days"]) == ("home", 7, 1)
    assert nominal_days(PROTOCOLS_BY_KEY["post-laser"]["steps"]) == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        7,
        28,
    ]


def test_psoriasis_week_12_is_anchored_to_start():
    week_12 = PROTOCOLS_BY_KEY["psoriasis"]["steps"][-1]
    assert (week_12["interval_days"], week_12["anchor"], week_12["repeat"]) == (84, "start", 1)
    assert (week_12["window_before_days"], week_12["window_after_days"]) == (7, 7)
    assert nominal_days(PROTOCOLS_BY_KEY["psoriasis"]["steps"]) == [0, 28, 56, 84]


def test_scars_start_with_a_baseline_then_three_monthly_sessions():
    baseline, treatment, assessment = PROTOCOLS_BY_KEY["scars"]["steps"]
    assert (baseline["kind"], baseline["measures"]) == ("assessment", ["scar_grade", "vss"])
    assert (treatment["repeat"], treatment["interval_days"], treatment["anchor"]) == (
        3,
        28,
        "previous",
    )
    assert (treatment["window_before_days"], treatment["window_after_days"]) == (3, 7)
    assert treatment["adjunct"] == "microneedling"
    assert (assessment["interval_days"], assessment["anchor"]) == (90, "previous")
    assert nominal_days(PROTOCOLS_BY_KEY["scars"]["steps"]) == [0, 28, 56, 84, 174]


def test_photoaging_follow_up_records_the_baseline_measures():
    baseline, _home, week_4, follow_up = PROTOCOLS_BY_KEY["photoaging-4wk"]["steps"]
    assert week_4["measures"] == baseline["measures"] == follow_up["measures"]
    assert (follow_up["interval_days"], follow_up["anchor"]) == (90, "start")
