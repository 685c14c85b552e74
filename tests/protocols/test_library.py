from decimal import Decimal

import pytest

from protocols.library import (
    ADJUNCTS,
    ANCHORS,
    DELIVERY_ROUTES,
    INDICATIONS,
    MEASURES,
    RESPONDERS,
    SEX_SPECIFIC_MEASURES,
    STEP_KINDS,
    VALUE_TYPES,
)
from protocols.library import (
    PROTOCOLS as LIBRARY,
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
    "erythema_grade",
    "downtime_days",
    "reepithelialised",
    "posas_observer",
    "posas_patient",
    "norwood",
    "ludwig",
}
# Not in instruments.md: what a dispensing visit records (protocols.md, second edition).
# The patient-reported measures instruments.md adds for the questionnaires (SPEC §17).
PATIENT_REPORTED = {"dlqi", "itch_nrs", "posas_patient", "poem", "pgic"}
EXTRA_CODES = {"amount_dispensed", "poem", "pgic"}
MEASURE_KEYS = {
    "code",
    "name",
    "unit",
    "value_type",
    "ordinal",
    "min_value",
    "max_value",
    "higher_is_better",
    "used_for",
}
PROTOCOL_KEYS = {"key", "edition", "name", "indication", "delivery", "description", "product", "steps"}
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
    "follow_up",
    "arm",
    "decision",
}
# The schedule tests read each protocol's main path: an arm is scheduled only
# by a decision (third edition, tests/protocols/test_third_edition.py).
PROTOCOLS = tuple({**p, "steps": [s for s in p["steps"] if not s["arm"]]} for p in LIBRARY)
MEASURES_BY_CODE = {measure["code"]: measure for measure in MEASURES}
PROTOCOLS_BY_KEY = {protocol["key"]: protocol for protocol in PROTOCOLS}
ALL_STEPS = [
    pytest.param(step, id=f"{protocol['key']}:{step['name']}") for protocol in LIBRARY for step in protocol["steps"]
]


def nominal_days(steps):
    """Target day of every session when each is done on its target day (SPEC §3),
    written out independently of protocols.schedule."""
    days = []
    last_treatment = 0
    for step in steps:
        for j in range(1, step["repeat"] + 1):
            if step["anchor"] == "start":
                days.append(step["interval_days"] * j)
            elif step["anchor"] == "treatment":
                days.append(last_treatment + step["interval_days"])
            else:
                days.append((days[-1] if days else 0) + step["interval_days"])
            if step["kind"] == "treatment":
                last_treatment = days[-1]
    return days


def booked_days(steps):
    """nominal_days without home applications (they are never booked)."""
    days = nominal_days(steps)
    kinds = [step["kind"] for step in steps for _ in range(step["repeat"])]
    return [day for day, kind in zip(days, kinds, strict=True) if kind != "home"]


def test_catalogue_has_the_26_instrument_measures_poem_pgic_and_the_amount_dispensed_once_each():
    codes = [measure["code"] for measure in MEASURES]
    assert len(codes) == 29
    assert len(set(codes)) == 29
    assert set(codes) == INSTRUMENT_CODES | EXTRA_CODES


@pytest.mark.parametrize("measure", MEASURES, ids=lambda measure: measure["code"])
def test_measure_fields_are_well_formed(measure):
    # Who reports it (SPEC §17): given for the patient-reported ones, else the clinician.
    assert set(measure) - {"reported_by"} == MEASURE_KEYS
    assert measure.get("reported_by", "clinician") == ("patient" if measure["code"] in PATIENT_REPORTED else "clinician")
    assert measure["name"]
    assert measure["unit"]
    assert measure["used_for"]
    assert measure["value_type"] in VALUE_TYPES
    assert isinstance(measure["min_value"], Decimal)
    assert isinstance(measure["max_value"], Decimal)
    assert measure["min_value"] < measure["max_value"]
    assert isinstance(measure["higher_is_better"], bool)
    assert isinstance(measure["ordinal"], bool)
    if measure["value_type"] == "score":
        assert measure["ordinal"]
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
        ("erythema_grade", "score", "score", "0", "4", False),
        ("downtime_days", "days", "integer", "0", "60", False),
        ("reepithelialised", "0/1", "integer", "0", "1", True),
        ("posas_observer", "score", "integer", "6", "60", False),
        ("posas_patient", "score", "integer", "6", "60", False),
        ("norwood", "score", "decimal", "1", "7", False),
        ("ludwig", "score", "score", "1", "3", False),
        ("amount_dispensed", "g", "decimal", "0", "1000", False),
    ],
)
def test_measure_ranges_match_instruments_md(code, unit, value_type, low, high, higher_is_better):
    measure = MEASURES_BY_CODE[code]
    assert measure["unit"] == unit
    assert measure["value_type"] == value_type
    assert measure["min_value"] == Decimal(low)
    assert measure["max_value"] == Decimal(high)
    assert measure["higher_is_better"] is higher_is_better


def test_ordinal_classes_are_those_of_the_corrections_and_the_other_grades():
    # instruments.md, corrections: IGA, Glogau, Goodman & Baron, erythema grade, Hamilton-Norwood
    # (3.5 for "3 vertex" still a class) and Ludwig get change in points, never a percent; so do
    # SPEC §10's other grades (VSS, pain, peak itch), and PGIC.
    ordinal = {code for code, measure in MEASURES_BY_CODE.items() if measure["ordinal"]}
    assert ordinal == {
        "iga", "glogau", "scar_grade", "erythema_grade", "norwood", "ludwig", "vss", "pain_vas", "itch_nrs", "pgic",
    }


def test_the_responders_of_the_corrections():
    codes = {measure: [d["code"] for d in definitions] for measure, definitions in RESPONDERS.items()}
    assert codes["easi"] == ["easi_50", "easi_75", "easi_90"]
    assert codes["pasi"] == ["pasi_75", "pasi_90"]
    assert codes["scorad"] == ["scorad_50"]
    assert RESPONDERS["dlqi"] == [{"code": "dlqi_4", "label": "DLQI ≥ 4 points", "kind": "points_reduction", "points": 4}]
    assert RESPONDERS["itch_nrs"][0]["points"] == 4


def test_each_protocol_marks_its_end_of_course_assessment_as_primary_end_point():
    # clinical/protocols.md: one end point per protocol's main path, an assessment.
    for protocol in PROTOCOLS:
        marked = [step for step in protocol["steps"] if step["primary_endpoint"]]
        assert [step["kind"] for step in marked] == ["assessment"], protocol["key"]


def test_library_has_the_eight_protocols():
    # The second edition splits the first edition's scars protocol (VSS is for burn
    # and hypertrophic scars): atrophic acne scars and surgical scars.
    assert [protocol["key"] for protocol in PROTOCOLS] == [
        "hair-aga",
        "photoaging-4wk",
        "post-laser",
        "chronic-wound",
        "atopic-dermatitis",
        "psoriasis",
        "scars",
        "surgical-scars",
    ]
    assert len({protocol["name"] for protocol in PROTOCOLS}) == 8


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


FIELDS = (
    "kind",
    "repeat",
    "interval_days",
    "anchor",
    "window_before_days",
    "window_after_days",
    "measures",
    "adjunct",
)


def rows(key):
    return [tuple(step[field] for field in FIELDS) for step in PROTOCOLS_BY_KEY[key]["steps"]]


def follow_up_rows(measures):
    return [
        ("assessment", 1, 182, "treatment", 14, 14, list(measures), "none"),
        ("assessment", 1, 365, "treatment", 21, 21, list(measures), "none"),
    ]


def end_point_measures(protocol):
    (end_point,) = [step for step in protocol["steps"] if step["primary_endpoint"]]
    return end_point["measures"]


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol["key"])
def test_every_protocol_ends_with_follow_ups_at_6_and_12_months_after_the_last_treatment(protocol):
    *_, six, twelve = protocol["steps"]
    for step, interval, window in ((six, 182, 14), (twelve, 365, 21)):
        assert step["kind"] == "assessment"
        assert (step["repeat"], step["interval_days"], step["anchor"]) == (1, interval, "treatment")
        assert (step["window_before_days"], step["window_after_days"]) == (window, window)
        assert step["follow_up"] is True
        assert step["measures"]
        assert set(step["measures"]) <= set(end_point_measures(protocol))
    steps = protocol["steps"]
    days = nominal_days(steps)
    kinds = [step["kind"] for step in steps for _ in range(step["repeat"])]
    last_treatment = max(day for day, kind in zip(days, kinds, strict=True) if kind == "treatment")
    assert days[-2:] == [last_treatment + 182, last_treatment + 365]


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol["key"])
def test_only_assessments_after_the_course_are_follow_ups(protocol):
    for step in protocol["steps"]:
        if step["follow_up"]:
            assert step["kind"] == "assessment"
            assert not step["primary_endpoint"]
    # The baseline and the end point are never follow-ups.
    assert not protocol["steps"][0]["follow_up"]


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda protocol: protocol["key"])
def test_every_protocol_has_a_treatment_for_its_follow_ups_to_count_from(protocol):
    assert any(step["kind"] == "treatment" for step in protocol["steps"])


def test_hair_protocol_matches_the_second_edition():
    hair = PROTOCOLS_BY_KEY["hair-aga"]
    assert (hair["indication"], hair["delivery"]) == ("hair", "injection")
    assert rows("hair-aga") == [
        ("assessment", 1, 0, "previous", 0, 0, ["hair_density", "hair_thickness", "norwood", "ludwig"], "none"),
        ("treatment", 6, 14, "previous", 0, 14, ["pain_vas"], "microneedling"),
        # PGIC at the end of the course and each follow-up (fourth edition, SPEC §17).
        ("assessment", 1, 14, "previous", 0, 7, ["hair_density", "hair_thickness", "pgic"], "none"),
        *follow_up_rows(["hair_density", "hair_thickness", "pgic"]),
    ]
    # Baseline, six fortnightly sessions (the 12-week course), end of course 2 weeks after
    # the sixth, then 6 and 12 months counted from the last injection (day 84), not from
    # the start (the first edition's day 180 could fall before the last injection).
    assert nominal_days(hair["steps"]) == [0, 14, 28, 42, 56, 70, 84, 98, 84 + 182, 84 + 365]


def test_norwood_is_for_men_and_ludwig_for_women():
    assert SEX_SPECIFIC_MEASURES == {"norwood": "male", "ludwig": "female"}


@pytest.mark.parametrize("key", ["photoaging-4wk", "atopic-dermatitis", "psoriasis"])
def test_topical_courses_begin_with_a_dispensing_visit_then_weekly_check_ins(key):
    protocol = PROTOCOLS_BY_KEY[key]
    baseline, dispensing, home, *_ = protocol["steps"]
    assert baseline["kind"] == "assessment"
    assert (dispensing["kind"], dispensing["repeat"], dispensing["interval_days"], dispensing["anchor"]) == (
        "treatment",
        1,
        0,
        "previous",
    )
    # A treatment step: completing it names a lot of the product (SPEC §12).
    assert dispensing["product"] == protocol["product"]
    assert dispensing["measures"] == ["amount_dispensed"]
    assert (home["kind"], home["repeat"], home["interval_days"], home["anchor"]) == ("home", 4, 7, "start")
    # Dispensed on the baseline's day, so the follow-ups count from the start date.
    assert booked_days(protocol["steps"])[:2] == [0, 0]
    assert nominal_days(protocol["steps"])[-2:] == [182, 365]


def test_photoaging_keeps_its_week_4_end_point_and_3_month_follow_up():
    measures = ["wrinkle_depth", "elasticity_r2", "hydration", "glogau", "pgic"]  # PGIC: fourth edition
    assert rows("photoaging-4wk")[3:] == [
        ("assessment", 1, 28, "start", 3, 3, measures, "none"),
        ("assessment", 1, 90, "start", 14, 14, measures, "none"),
        *follow_up_rows(measures),
    ]
    steps = PROTOCOLS_BY_KEY["photoaging-4wk"]["steps"]
    assert steps[3]["primary_endpoint"] and steps[4]["follow_up"]
    assert booked_days(steps) == [0, 0, 28, 90, 182, 365]


def test_psoriasis_matches_the_second_edition():
    steps = PROTOCOLS_BY_KEY["psoriasis"]["steps"]
    assert rows("psoriasis")[3:] == [
        ("assessment", 2, 28, "start", 5, 5, ["pasi", "iga"], "none"),
        ("assessment", 1, 84, "start", 7, 7, ["pasi", "iga", "dlqi"], "none"),
        *follow_up_rows(["pasi", "iga", "dlqi"]),
    ]
    assert steps[4]["primary_endpoint"]
    assert booked_days(steps) == [0, 0, 28, 56, 84, 182, 365]


def test_atopic_dermatitis_matches_the_second_edition():
    steps = PROTOCOLS_BY_KEY["atopic-dermatitis"]["steps"]
    scores = ["scorad", "easi", "iga", "itch_nrs", "tcs_use"]
    # Fourth edition: POEM and peak itch asked before weeks 2, 4 and 12 (SPEC §17).
    assert rows("atopic-dermatitis")[3:] == [
        ("assessment", 2, 14, "start", 3, 3, [*scores, "poem"], "none"),
        ("assessment", 1, 84, "start", 7, 7, ["scorad", "easi", "dlqi", "poem", "itch_nrs"], "none"),
        *follow_up_rows(scores),
    ]
    assert steps[3]["primary_endpoint"]
    assert booked_days(steps) == [0, 0, 14, 28, 84, 182, 365]


def test_wound_dressings_cannot_run_into_the_week_12_assessment():
    steps = PROTOCOLS_BY_KEY["chronic-wound"]["steps"]
    assert rows("chronic-wound") == [
        ("assessment", 1, 0, "previous", 0, 0, ["wound_area"], "none"),
        ("treatment", 16, 3, "previous", 0, 1, ["wound_area", "wound_closed"], "none"),
        ("assessment", 1, 28, "start", 3, 3, ["wound_area"], "none"),
        ("assessment", 1, 84, "start", 7, 7, ["wound_area", "wound_closed"], "none"),
        *follow_up_rows(["wound_area", "wound_closed"]),
    ]
    dressing, week_12 = steps[1], steps[3]
    assert week_12["primary_endpoint"]
    # Every dressing at the end of its window: 16 × (3 + 1) days.
    latest_last_dressing = dressing["repeat"] * (dressing["interval_days"] + dressing["window_after_days"])
    assert latest_last_dressing == 64
    assert latest_last_dressing < week_12["interval_days"] - week_12["window_before_days"]
    # The last dressing on time is day 48; the follow-ups count from it.
    assert nominal_days(steps)[-2:] == [48 + 182, 48 + 365]


def test_post_laser_reviews_record_erythema_downtime_and_re_epithelialisation():
    procedure, home, day_7, week_4, *_ = PROTOCOLS_BY_KEY["post-laser"]["steps"]
    assert (procedure["kind"], procedure["adjunct"], procedure["measures"]) == (
        "treatment",
        "fractional_co2",
        ["pain_vas"],
    )
    assert (home["kind"], home["repeat"], home["interval_days"]) == ("home", 7, 1)
    assert day_7["measures"] == ["erythema_grade", "downtime_days", "reepithelialised"]
    assert week_4["measures"] == ["erythema_grade", "downtime_days", "reepithelialised", "pgic"]
    assert week_4["primary_endpoint"]
    assert rows("post-laser")[4:] == follow_up_rows(["erythema_grade", "pgic"])
    assert nominal_days(PROTOCOLS_BY_KEY["post-laser"]["steps"]) == [0, 1, 2, 3, 4, 5, 6, 7, 7, 28, 182, 365]


@pytest.mark.parametrize(
    ("key", "measures", "asked"),
    [("scars", ["scar_grade"], []), ("surgical-scars", ["posas_observer"], ["posas_patient"])],
)
def test_scars_start_with_a_baseline_then_three_monthly_sessions(key, measures, asked):
    # `asked`: the patient's scale, at the baseline and the 3-month assessment only (fourth edition).
    baseline, treatment, assessment, *_ = PROTOCOLS_BY_KEY[key]["steps"]
    assert (baseline["kind"], baseline["measures"]) == ("assessment", [*measures, *asked])
    assert (treatment["repeat"], treatment["interval_days"], treatment["anchor"]) == (3, 28, "previous")
    assert (treatment["window_before_days"], treatment["window_after_days"]) == (3, 7)
    assert treatment["adjunct"] == "microneedling"
    assert treatment["measures"] == [*measures, "pain_vas"]
    assert (assessment["interval_days"], assessment["anchor"], assessment["measures"]) == (
        90, "previous", [*measures, *asked]
    )
    assert assessment["primary_endpoint"]
    # VSS is for burn and hypertrophic scars, not these.
    assert all("vss" not in step["measures"] for step in PROTOCOLS_BY_KEY[key]["steps"])
    assert nominal_days(PROTOCOLS_BY_KEY[key]["steps"]) == [0, 28, 56, 84, 174, 84 + 182, 84 + 365]
