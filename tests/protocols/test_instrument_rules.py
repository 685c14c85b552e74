"""SPEC §10's instrument rules: EASI half points, DLQI's missing answer,
question 7, "not relevant" and bands, objective SCORAD and its band, and the
responder definitions of the catalogue, with Hypothesis properties."""

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols import instruments
from protocols.instruments import (
    DLQI_YES,
    EASI_ITEMS,
    EASI_REGIONS,
    NOT_RELEVANT,
    dlqi_band,
    dlqi_score,
    easi,
    interpretation,
    objective_scorad,
    responds,
    scorad,
    severity_band_objective_scorad,
)
from protocols.library import RESPONDERS


def _regions(**signs):
    return {region: {**{item: signs.get(item, 0) for item in EASI_ITEMS}, "area_percent": 0} for region in EASI_REGIONS}


def test_easi_takes_half_points():
    # Hanifin et al., Exp Dermatol 2001 (the EASI paper's scoring): a region's
    # signs sum (here 1.5 + 2.5 + 0.5 + 1 = 5.5) × area score (40 % → 3) × weight
    # (trunk, age ≥ 8: 0.3) = 4.95, reported to one place as 5.0.
    regions = _regions()
    regions["trunk"] = {"erythema": 1.5, "oedema_papulation": 2.5, "excoriation": 0.5, "lichenification": 1,
                        "area_percent": 40}
    assert easi(regions=regions, age_years=30) == Decimal("5.0")


@pytest.mark.parametrize("bad", [0.25, 1.3, 3.5, "2"])
def test_easi_refuses_anything_but_half_points(bad):
    regions = _regions()
    regions["head_neck"]["erythema"] = bad
    with pytest.raises(ValueError, match=re.escape("EASI head_neck erythema must be one of 0, 0.5 ... 3")):
        easi(regions=regions, age_years=30)


def test_dlqi_one_unanswered_question_scores_zero_and_is_flagged():
    # Finlay's DLQI instructions: one unanswered question scores 0; two or more invalidate the score.
    score = dlqi_score([3, 2, None, 1, 1, 0, 2, 0, 1, 0])
    assert (score.total, score.unanswered) == (10, (3,))


def test_dlqi_not_relevant_scores_zero_and_is_kept_as_such():
    score = dlqi_score([3, 3, NOT_RELEVANT, 3, 3, 3, NOT_RELEVANT, 3, 3, 3])
    assert (score.total, score.not_relevant) == (24, (3, 7))


@pytest.mark.parametrize("question", [1, 2])
def test_dlqi_questions_1_and_2_have_no_not_relevant_answer(question):
    # The published DLQI offers "not relevant" on questions 3-10 only (instruments.md, corrections).
    answers = [0] * 10
    answers[question - 1] = NOT_RELEVANT
    with pytest.raises(ValueError, match=f'DLQI question {question} has no "not_relevant" answer'):
        dlqi_score(answers)


@pytest.mark.parametrize(("question_7", "points"), [(DLQI_YES, 3), (3, 3), (2, 2), (0, 0), (NOT_RELEVANT, 0)])
def test_dlqi_question_7_yes_is_3_and_no_is_0_to_2(question_7, points):
    assert dlqi_score([0] * 6 + [question_7] + [0] * 3).total == points


@pytest.mark.parametrize(
    ("total", "band"),
    # Hongbo et al., J Invest Dermatol 2005: the published band limits, each side of every boundary.
    [(0, "no effect"), (1, "no effect"), (2, "small effect"), (5, "small effect"), (6, "moderate effect"),
     (10, "moderate effect"), (11, "very large effect"), (20, "very large effect"),
     (21, "extremely large effect"), (30, "extremely large effect")],
)
def test_dlqi_bands(total, band):
    assert dlqi_band(total) == band


SCORAD_51_5 = {
    "area_percent": 40,
    "intensity": {"erythema": 2, "oedema_papulation": 2, "oozing_crusts": 1, "excoriation": 2,
                  "lichenification": 1, "dryness": 1},
    "pruritus": 7,
    "sleeplessness": 5,
}


def test_objective_scorad_leaves_out_the_symptoms():
    # European Task Force on AD, Dermatology 1993 / Kunz 1997: A/5 + 7B/2 = 40/5 + 7 × 9 / 2 = 39.5;
    # with C = 12 the total is 51.5.
    assert scorad(**SCORAD_51_5) == Decimal("51.5")
    assert objective_scorad(**SCORAD_51_5) == Decimal("39.5")
    assert interpretation("scorad", Decimal("51.5"), SCORAD_51_5) == {
        "band": "severe", "objective_scorad": Decimal("39.5"), "objective_band": "moderate",
    }


@pytest.mark.parametrize(("total", "band"), [(0, "mild"), (14.9, "mild"), (15, "moderate"), (40, "moderate"),
                                             (40.1, "severe"), (83, "severe")])
def test_objective_scorad_bands(total, band):
    assert severity_band_objective_scorad(total) == band


def _codes_met(code, baseline, value, higher_is_better=False):
    return [d["code"] for d in RESPONDERS[code]
            if responds(d, baseline=baseline, value=value, higher_is_better=higher_is_better)]


@pytest.mark.parametrize(
    ("code", "baseline", "value", "met"),
    [
        ("easi", 20, 10, ["easi_50"]),
        ("easi", 20, 5, ["easi_50", "easi_75"]),
        ("easi", 20, Decimal("5.01"), ["easi_50"]),  # 74.95 % is not EASI-75
        ("pasi", 10, 1, ["pasi_75", "pasi_90"]),
        ("scorad", 50, 26, []),
        ("dlqi", 14, 10, ["dlqi_4"]),
        ("dlqi", 14, 11, []),
        ("itch_nrs", 8, 4, ["itch_4"]),
        ("iga", 3, 1, ["iga_0_1"]),
        ("iga", 2, 1, []),  # 0/1 but only one grade down
        ("iga", 4, 2, []),  # two grades down but not clear or almost clear
        ("wound_area", Decimal("12.5"), Decimal("6.25"), ["wound_area_50"]),
        ("wound_area", 0, 0, []),  # a zero baseline cannot be halved
    ],
)
def test_responder_definitions_of_the_catalogue(code, baseline, value, met):
    assert _codes_met(code, Decimal(baseline), Decimal(value)) == met


def test_the_direction_comes_from_the_measure():
    definition = {"code": "up_50", "label": "", "kind": "percent_reduction", "percent": 50}
    assert responds(definition, baseline=100, value=150, higher_is_better=True)
    assert not responds(definition, baseline=100, value=150, higher_is_better=False)


answers = st.tuples(
    st.lists(st.integers(0, 3), min_size=2, max_size=2),
    st.lists(st.one_of(st.integers(0, 3), st.just(NOT_RELEVANT)), min_size=8, max_size=8),
).map(lambda parts: parts[0] + parts[1])  # "not relevant" exists on questions 3-10 only


@given(answers, st.integers(0, 9))
def test_dlqi_stays_within_0_to_30_with_a_band(answers, blank):
    answers[blank] = None
    score = dlqi_score(answers)
    assert 0 <= score.total <= 30
    assert dlqi_band(score.total)


half = st.sampled_from([0, 0.5, 1, 1.5, 2, 2.5, 3])


@given(st.fixed_dictionaries({
    region: st.fixed_dictionaries({**{item: half for item in EASI_ITEMS}, "area_percent": st.integers(0, 100)})
    for region in EASI_REGIONS
}), st.integers(0, 100))
def test_easi_with_half_points_stays_within_0_to_72(regions, age):
    assert Decimal(0) <= instruments.easi(regions=regions, age_years=age) <= Decimal(72)
