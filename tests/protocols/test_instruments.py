import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.instruments import (
    EASI_ITEMS,
    EASI_REGIONS,
    PASI_ITEMS,
    PASI_REGIONS,
    SCORAD_INTENSITY_ITEMS,
    area_score,
    dlqi,
    easi,
    pasi,
    percent_change,
    reduction_response,
    scorad,
    severity_band_scorad,
)


def intensity(*scores):
    return dict(zip(SCORAD_INTENSITY_ITEMS, scores, strict=True))


def easi_regions(**by_region):
    """easi_regions(head_neck=((2, 2, 1, 1), 15), ...); unnamed regions are clear."""
    regions = {region: {**dict.fromkeys(EASI_ITEMS, 0), "area_percent": 0} for region in EASI_REGIONS}
    for region, (scores, area) in by_region.items():
        regions[region] = {**dict(zip(EASI_ITEMS, scores, strict=True)), "area_percent": area}
    return regions


def pasi_regions(**by_region):
    regions = {region: {**dict.fromkeys(PASI_ITEMS, 0), "area_percent": 0} for region in PASI_REGIONS}
    for region, (scores, area) in by_region.items():
        regions[region] = {**dict(zip(PASI_ITEMS, scores, strict=True)), "area_percent": area}
    return regions


def worst(items, item_max, regions):
    return {region: {**dict.fromkeys(items, item_max), "area_percent": 100} for region in regions}


# SCORAD


def test_scorad_worked_example():
    # A = 40, B = 9, C = 7 + 5 = 12: 40/5 + 7 * 9 / 2 + 12 = 8 + 31.5 + 12.
    total = scorad(area_percent=40, intensity=intensity(2, 2, 1, 1, 1, 2), pruritus=7, sleeplessness=5)
    assert total == Decimal("51.5")
    assert severity_band_scorad(total) == "severe"


def test_scorad_range_is_0_to_103():
    assert scorad(area_percent=0, intensity=intensity(0, 0, 0, 0, 0, 0), pruritus=0, sleeplessness=0) == Decimal("0.0")
    assert scorad(area_percent=100, intensity=intensity(3, 3, 3, 3, 3, 3), pruritus=10, sleeplessness=10) == Decimal(
        "103.0"
    )


def test_scorad_accepts_fractional_area_and_visual_analogue_scores():
    total = scorad(
        area_percent=Decimal("12.5"),
        intensity=intensity(1, 0, 0, 1, 0, 1),
        pruritus=6.5,
        sleeplessness=Decimal("2.3"),
    )
    assert total == Decimal("21.8")  # 2.5 + 10.5 + 8.8


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        (Decimal("0.25"), Decimal("0.1")),  # 0.05 rounds half up
        (Decimal("33.3"), Decimal("6.7")),  # 6.66
        (Decimal("0.2"), Decimal("0.0")),  # 0.04
    ],
)
def test_scorad_rounds_to_one_place_half_up(area, expected):
    assert scorad(area_percent=area, intensity=intensity(0, 0, 0, 0, 0, 0), pruritus=0, sleeplessness=0) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"area_percent": 101}, "SCORAD area percent (A) must be a number from 0 to 100"),
        ({"area_percent": -1}, "SCORAD area percent (A) must be a number from 0 to 100"),
        ({"pruritus": 11}, "SCORAD pruritus must be a number from 0 to 10"),
        ({"sleeplessness": -0.5}, "SCORAD sleeplessness must be a number from 0 to 10"),
        ({"pruritus": float("nan")}, "SCORAD pruritus must be a number from 0 to 10"),
        ({"pruritus": "5"}, "SCORAD pruritus must be a number from 0 to 10"),
        ({"pruritus": True}, "SCORAD pruritus must be a number from 0 to 10"),
        (
            {"intensity": intensity(0, 0, 0, 0, 0, 4)},
            "SCORAD intensity dryness must be an integer from 0 to 3",
        ),
        (
            {"intensity": intensity(0, 0, 0, 0, 0, 1.5)},
            "SCORAD intensity dryness must be an integer from 0 to 3",
        ),
        ({"intensity": {**intensity(0, 0, 0, 0, 0, 0), "oedema": 1}}, "unknown oedema"),
        ({"intensity": {"erythema": 1}}, "missing oedema_papulation"),
    ],
)
def test_scorad_rejects_bad_items(kwargs, message):
    arguments = {
        "area_percent": 10,
        "intensity": intensity(1, 1, 1, 1, 1, 1),
        "pruritus": 5,
        "sleeplessness": 5,
        **kwargs,
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        scorad(**arguments)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "mild"),
        (Decimal("24.9"), "mild"),
        (25, "moderate"),
        (Decimal("50.0"), "moderate"),
        (Decimal("50.1"), "severe"),
        (103, "severe"),
    ],
)
def test_scorad_severity_bands(total, band):
    assert severity_band_scorad(total) == band


@pytest.mark.parametrize("total", [-1, Decimal("103.1")])
def test_scorad_severity_rejects_totals_out_of_range(total):
    with pytest.raises(ValueError, match="SCORAD total must be a number from 0 to 103"):
        severity_band_scorad(total)


@given(
    area=st.decimals(min_value=0, max_value=100, places=1),
    scores=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    pruritus=st.integers(0, 10),
    sleeplessness=st.integers(0, 10),
)
def test_scorad_always_within_0_and_103(area, scores, pruritus, sleeplessness):
    total = scorad(
        area_percent=area,
        intensity=intensity(*scores),
        pruritus=pruritus,
        sleeplessness=sleeplessness,
    )
    assert Decimal(0) <= total <= Decimal(103)
    assert severity_band_scorad(total) in {"mild", "moderate", "severe"}


# Area score


@pytest.mark.parametrize(
    ("percent", "score"),
    [
        (0, 0),
        (Decimal("0.5"), 1),
        (1, 1),
        (9, 1),
        (Decimal("9.5"), 1),
        (10, 2),
        (29, 2),
        (30, 3),
        (49, 3),
        (50, 4),
        (69, 4),
        (70, 5),
        (89, 5),
        (90, 6),
        (100, 6),
    ],
)
def test_area_score_bands(percent, score):
    assert area_score(percent) == score


@pytest.mark.parametrize("percent", [-1, Decimal("100.1"), None, "50"])
def test_area_score_rejects_bad_percentages(percent):
    with pytest.raises(ValueError, match="area percent must be a number from 0 to 100"):
        area_score(percent)


# EASI


def test_easi_worked_example_adult():
    regions = easi_regions(
        head_neck=((2, 2, 1, 1), 15),  # 6 * 2 * 0.1 = 1.2
        upper_limbs=((1, 1, 1, 0), 35),  # 3 * 3 * 0.2 = 1.8
        trunk=((2, 1, 0, 0), 55),  # 3 * 4 * 0.3 = 3.6
        lower_limbs=((3, 2, 2, 1), 95),  # 8 * 6 * 0.4 = 19.2
    )
    assert easi(regions=regions, age_years=30) == Decimal("25.8")


@pytest.mark.parametrize(
    ("age", "head_neck", "lower_limbs"),
    [
        (0, Decimal("1.6"), Decimal("2.4")),
        (7, Decimal("1.6"), Decimal("2.4")),
        (8, Decimal("0.8"), Decimal("3.2")),
        (70, Decimal("0.8"), Decimal("3.2")),
    ],
)
def test_easi_uses_child_weights_up_to_age_7(age, head_neck, lower_limbs):
    assert easi(regions=easi_regions(head_neck=((2, 1, 1, 0), 20)), age_years=age) == head_neck
    assert easi(regions=easi_regions(lower_limbs=((2, 1, 1, 0), 20)), age_years=age) == lower_limbs


@pytest.mark.parametrize("age", [3, 40])
def test_easi_maximum_is_72_at_any_age(age):
    assert easi(regions=worst(EASI_ITEMS, 3, EASI_REGIONS), age_years=age) == Decimal("72.0")
    assert easi(regions=easi_regions(), age_years=age) == Decimal("0.0")


@pytest.mark.parametrize(
    ("change", "age", "message"),
    [
        (
            {"trunk": {"lichenification": 4}},
            30,
            "EASI trunk lichenification must be one of 0, 0.5 ... 3 (half points), got 4",
        ),
        (
            {"trunk": {"area_percent": 120}},
            30,
            "EASI trunk area_percent must be a number from 0 to 100",
        ),
        ({"trunk": {"induration": 1}}, 30, "unknown induration"),
        ({}, -1, "EASI age in years must be an integer from 0 to 150"),
        ({}, 7.5, "EASI age in years must be an integer from 0 to 150"),
    ],
)
def test_easi_rejects_bad_items(change, age, message):
    regions = easi_regions()
    for region, items in change.items():
        regions[region] = {**regions[region], **items}
    with pytest.raises(ValueError, match=re.escape(message)):
        easi(regions=regions, age_years=age)


def test_easi_rejects_pasi_region_names():
    regions = easi_regions()
    regions["head"] = regions.pop("head_neck")
    with pytest.raises(ValueError, match="missing head_neck; unknown head"):
        easi(regions=regions, age_years=30)


@given(
    scores=st.lists(st.integers(0, 3), min_size=16, max_size=16),
    areas=st.lists(st.integers(0, 100), min_size=4, max_size=4),
    age=st.integers(0, 100),
)
def test_easi_always_within_0_and_72(scores, areas, age):
    regions = {
        region: {
            **dict(zip(EASI_ITEMS, scores[4 * i : 4 * i + 4], strict=True)),
            "area_percent": areas[i],
        }
        for i, region in enumerate(EASI_REGIONS)
    }
    assert Decimal(0) <= easi(regions=regions, age_years=age) <= Decimal(72)


# PASI


def test_pasi_worked_example():
    regions = pasi_regions(
        head=((2, 2, 1), 5),  # 5 * 1 * 0.1 = 0.5
        upper_limbs=((3, 3, 2), 25),  # 8 * 2 * 0.2 = 3.2
        trunk=((1, 1, 1), 0),  # no area, no score
        lower_limbs=((4, 3, 3), 75),  # 10 * 5 * 0.4 = 20.0
    )
    assert pasi(regions=regions) == Decimal("23.7")


def test_pasi_range_is_0_to_72():
    assert pasi(regions=worst(PASI_ITEMS, 4, PASI_REGIONS)) == Decimal("72.0")
    assert pasi(regions=pasi_regions()) == Decimal("0.0")


@pytest.mark.parametrize(
    ("region", "items", "message"),
    [
        ("head", {"erythema": 5}, "PASI head erythema must be an integer from 0 to 4"),
        (
            "lower_limbs",
            {"desquamation": -1},
            "PASI lower_limbs desquamation must be an integer from 0 to 4",
        ),
        (
            "upper_limbs",
            {"area_percent": -5},
            "PASI upper_limbs area_percent must be a number from 0 to 100",
        ),
    ],
)
def test_pasi_rejects_bad_items(region, items, message):
    regions = pasi_regions()
    regions[region] = {**regions[region], **items}
    with pytest.raises(ValueError, match=re.escape(message)):
        pasi(regions=regions)


def test_pasi_rejects_a_missing_region_and_a_missing_area():
    regions = pasi_regions()
    del regions["trunk"]
    with pytest.raises(ValueError, match="missing trunk"):
        pasi(regions=regions)
    regions = pasi_regions()
    del regions["head"]["area_percent"]
    with pytest.raises(ValueError, match=r"PASI region head .*missing area_percent"):
        pasi(regions=regions)


# DLQI


def test_dlqi_sums_the_ten_answers():
    assert dlqi([3] * 10) == 30
    assert dlqi([0] * 10) == 0
    assert dlqi((1, 2, 0, 3, 1, 0, 3, 2, 1, 0)) == 13


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([1] * 9, "DLQI answers must have exactly 10 items, got 9"),
        ([1] * 11, "DLQI answers must have exactly 10 items, got 11"),
        ([0] * 6 + [4] + [0] * 3, 'DLQI question 7 must be "yes" (prevented work or study), 0-2, or "not_relevant"'),
        ([-1] + [0] * 9, "DLQI question 1 must be 0-3 or null (unanswered), got -1"),
        ([0, 0, -1] + [0] * 7, 'DLQI question 3 must be 0-3, "not_relevant" or null (unanswered), got -1'),
        ([0] * 9 + [True], 'DLQI question 10 must be 0-3, "not_relevant" or null (unanswered), got True'),
        ([0] * 5 + ["yes"] + [0] * 4, 'DLQI question 6 must be 0-3, "not_relevant" or null'),
        ([None, 0, None] + [0] * 7, "DLQI questions 1, 3 are unanswered; at most one may be left out"),
        ("0123012301", "DLQI answers must be a sequence of 10 answers"),
        (None, "DLQI answers must be a sequence of 10 answers"),
    ],
)
def test_dlqi_rejects_bad_answers(answers, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dlqi(answers)


# Responses


@pytest.mark.parametrize(
    ("baseline", "value", "change"),
    [
        (100, 129, Decimal("29.0")),  # the seed's hair-density response
        (Decimal("12.0"), Decimal("3.0"), Decimal("-75.0")),
        (3, 2, Decimal("-33.3")),
        (16, 17, Decimal("6.3")),  # 6.25 rounds half up
        (5, 5, Decimal("0.0")),
        (Decimal("0.5"), 0, Decimal("-100.0")),
    ],
)
def test_percent_change(baseline, value, change):
    assert percent_change(baseline, value) == change


@pytest.mark.parametrize("value", [0, 10])
def test_percent_change_is_none_from_a_zero_baseline(value):
    assert percent_change(0, value) is None


@pytest.mark.parametrize(
    ("baseline", "value", "message"),
    [
        (-1, 5, "baseline must be a number of at least 0"),
        (5, -1, "value must be a number of at least 0"),
        ("5", 1, "baseline must be a number of at least 0"),
    ],
)
def test_percent_change_rejects_bad_values(baseline, value, message):
    with pytest.raises(ValueError, match=message):
        percent_change(baseline, value)


@pytest.mark.parametrize(
    ("baseline", "value", "threshold", "responds"),
    [
        (20, 5, 75, True),  # EASI-75 exactly
        (20, Decimal("5.01"), 75, False),  # 74.95 % is not EASI-75 even if rounded to 75.0
        (20, 2, 90, True),
        (Decimal("30.0"), Decimal("3.1"), 90, False),
        (40, 20, 50, True),  # SCORAD-50
        (10, 12, 50, False),  # worse
        (0, 0, 75, False),  # nothing to reduce
        (3, 0, 100, True),
    ],
)
def test_reduction_response(baseline, value, threshold, responds):
    assert reduction_response(baseline, value, threshold) is responds


@pytest.mark.parametrize("threshold", [0, -10, 101])
def test_reduction_response_rejects_thresholds_out_of_range(threshold):
    with pytest.raises(ValueError, match="threshold percent must be"):
        reduction_response(20, 5, threshold)
