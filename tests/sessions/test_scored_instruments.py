"""Scored instruments recorded from their items (clinical/instruments.md):
complete_session and correct_outcome compute SCORAD, EASI, PASI and DLQI
with protocols.instruments and keep the items with the value."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from protocols.instruments import EASI_ITEMS, EASI_REGIONS, SCORAD_INTENSITY_ITEMS, score_items
from protocols.models import OutcomeMeasure
from sessions import services
from sessions.models import OutcomeMeasurement, SessionStatus
from tests.factories import PatientFactory, complete_visit, make_protocol, step

from .conftest import clock, enrol, sessions_of, utc

# A = 40 %, B = 2+2+1+2+1+1 = 9, C = 7 + 5 = 12: 40/5 + 7*9/2 + 12 = 51.5
SCORAD_ITEMS = {
    "area_percent": 40,
    "intensity": dict(zip(SCORAD_INTENSITY_ITEMS, (2, 2, 1, 2, 1, 1), strict=True)),
    "pruritus": 7,
    "sleeplessness": 5,
}


def easi_items(head_neck=((2, 2, 1, 1), 15), lower_limbs=((1, 1, 1, 1), 55)):
    """Head and neck: severity 6, area score 2; lower limbs: severity 4, area score 4; the rest clear.
    From age 8: 6*2*0.1 + 4*4*0.4 = 7.6; aged 0-7: 6*2*0.2 + 4*4*0.3 = 7.2."""
    regions = {region: {**dict.fromkeys(EASI_ITEMS, 0), "area_percent": 0} for region in EASI_REGIONS}
    for region, (scores, area) in {"head_neck": head_neck, "lower_limbs": lower_limbs}.items():
        regions[region] = {**dict(zip(EASI_ITEMS, scores, strict=True)), "area_percent": area}
    return {"regions": regions}


@pytest.fixture
def ad_protocol(clinic):
    return make_protocol(
        clinic,
        name="Atopic dermatitis, secretome",
        indication="atopic_dermatitis",
        delivery="topical",
        steps=[step("Assessment", "assessment", window_after_days=14, duration_minutes=30)],
    )


@pytest.fixture
def assessment_of(ad_protocol, receptionist, clinician):
    """assessment_of(patient): the patient's assessment, enrolled for 2026-03-01 and
    booked at 10:00 Berlin that day."""

    def make(patient):
        session = sessions_of(enrol(patient, ad_protocol, "2026-03-01", receptionist))[0]
        with clock("2026-02-20T09:00:00+00:00"):
            return services.book_session(
                session=session, start=utc(2026, 3, 1, 9, 0), practitioner=clinician, by=receptionist
            )

    return make


@pytest.fixture
def assessment(assessment_of, patient):
    return assessment_of(patient)


# Berlin is at +01:00: 23:30 UTC on 1 March is already 2 March in the clinic.
LATE_EVENING = "2026-03-01T23:30:00+00:00"


def recorded(session):
    return {m.measure.code: m for m in OutcomeMeasurement.objects.filter(session=session).select_related("measure")}


def test_scorad_from_items_is_computed_and_stored_with_them(assessment, clinician):
    done = complete_visit(assessment, clinician, LATE_EVENING, outcomes=[{"measure": "scorad", "items": SCORAD_ITEMS}])
    assert done.status == SessionStatus.COMPLETED
    scorad = recorded(done)["scorad"]
    assert scorad.value == Decimal("51.5")
    assert scorad.items == SCORAD_ITEMS
    assert scorad.history.get().items == SCORAD_ITEMS


@pytest.mark.parametrize(
    ("code", "items"),
    [("scorad", "area_percent, intensity, pruritus, sleeplessness"), ("easi", "regions"), ("pasi", "regions"),
     ("dlqi", "answers")],
)
def test_a_bare_total_of_a_scored_instrument_is_refused_naming_its_items(assessment, clinician, code, items):
    name = OutcomeMeasure.objects.get(code=code).name
    # SPEC §10: a SCORAD of 51.5432 typed in has nothing behind it.
    with pytest.raises(ValidationError) as refused:
        complete_visit(assessment, clinician, LATE_EVENING, outcomes=[{"measure": code, "value": "20"}, {"measure": "itch_nrs", "value": 6}])
    assert refused.value.message_dict["outcomes"] == [
        f"{name}: give its items ({items}), not a total; the value is computed from them."
    ]
    assert not OutcomeMeasurement.objects.exists()


@pytest.mark.parametrize(
    ("born", "value"),
    [
        (dt.date(1980, 5, 17), "7.6"),  # an adult
        (dt.date(2020, 6, 1), "7.2"),  # aged 5: head and neck weigh 0.2, lower limbs 0.3
        (dt.date(2018, 3, 1), "7.6"),  # 8 on the visit date, 1 March
        # 8 on 2 March, the day the values were typed in (Berlin), but the visit was on 1 March (SPEC §10).
        (dt.date(2018, 3, 2), "7.2"),
    ],
)
def test_easi_weights_follow_the_patients_age_on_the_visit_date(assessment_of, clinic, clinician, born, value):
    session = assessment_of(PatientFactory(clinic=clinic, date_of_birth=born))
    done = complete_visit(session, clinician, LATE_EVENING, outcomes=[{"measure": "easi", "items": easi_items()}])
    easi = recorded(done)["easi"]
    assert easi.value == Decimal(value)
    assert easi.items == easi_items()


def test_pasi_and_dlqi_from_items_are_stored_as_plain_json(assessment, clinician):
    clear = {"erythema": 0, "induration": 0, "desquamation": 0, "area_percent": 0}
    # Head: severity 5 x area score 1 x 0.1 = 0.5; trunk: 8 x 2 x 0.3 = 4.8.
    pasi = {
        "regions": {
            "head": {"erythema": 2, "induration": 2, "desquamation": 1, "area_percent": 5},
            "upper_limbs": clear,
            "trunk": {"erythema": 3, "induration": 3, "desquamation": 2, "area_percent": Decimal("25.5")},
            "lower_limbs": clear,
        }
    }
    answers = (1, 2, 0, 3, 1, 0, 3, 0, 1, 2)
    done = complete_visit(
        assessment,
        clinician,
        LATE_EVENING,
        outcomes=[{"measure": "pasi", "items": pasi}, {"measure": "dlqi", "items": {"answers": answers}}],
    )
    rows = recorded(done)
    assert rows["pasi"].value == Decimal("5.3")
    assert rows["pasi"].items["regions"]["trunk"]["area_percent"] == 25.5
    assert rows["dlqi"].value == 13
    assert rows["dlqi"].items == {"answers": list(answers)}


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ({"measure": "scorad", "value": 51.5, "items": SCORAD_ITEMS}, "SCORAD: give the value or the items, not both."),
        ({"measure": "scorad"}, "SCORAD: give its items"),
        (
            {"measure": "itch_nrs", "items": {"answers": [6]}},
            "Peak itch numeric rating: give its value; it is not computed from items.",
        ),
        (
            {"measure": "scorad", "items": {**SCORAD_ITEMS, "intensity": {**SCORAD_ITEMS["intensity"], "dryness": 4}}},
            "SCORAD intensity dryness must be an integer from 0 to 3, got 4",
        ),
        (
            {"measure": "scorad", "items": {**SCORAD_ITEMS, "pruritus": "7"}},
            "SCORAD pruritus must be a number from 0 to 10, got '7'",
        ),
        (
            {"measure": "scorad", "items": {"area_percent": 40, "extra": 1}},
            "SCORAD items must have exactly the keys area_percent, intensity, pruritus, sleeplessness "
            "(missing intensity, pruritus, sleeplessness; unknown extra)",
        ),
        ({"measure": "scorad", "items": [40, 9, 12]}, "SCORAD items must be a mapping with keys"),
        ({"measure": "dlqi", "items": {"answers": [1] * 9}}, "Dermatology Life Quality Index: DLQI answers must have exactly 10 items, got 9"),
        (
            {"measure": "easi", "items": {"regions": {**easi_items()["regions"], "head": {}}}},
            "Eczema Area and Severity Index: EASI regions must have exactly the keys",
        ),
    ],
)
def test_bad_items_are_refused_on_outcomes_and_change_nothing(assessment, clinician, outcome, message):
    with pytest.raises(ValidationError) as refused:
        complete_visit(assessment, clinician, LATE_EVENING, outcomes=[{"measure": "pain_vas", "value": 3}, outcome])
    assert list(refused.value.message_dict) == ["outcomes"]
    assert [m for m in refused.value.message_dict["outcomes"] if m.startswith(message)], refused.value.message_dict
    assessment.refresh_from_db()
    assert assessment.status == SessionStatus.BOOKED
    assert not OutcomeMeasurement.objects.exists()
    assert not OutcomeMeasurement.history.exists()


def test_a_computed_value_is_still_range_checked(assessment, clinician):
    # The catalogue's range is the last word: a narrowed range refuses a computed 51.5.
    OutcomeMeasure.objects.filter(code="scorad").update(max_value=50)
    with pytest.raises(ValidationError) as refused:
        complete_visit(assessment, clinician, LATE_EVENING, outcomes=[{"measure": "scorad", "items": SCORAD_ITEMS}])
    assert refused.value.message_dict["outcomes"] == ["SCORAD: 51.5 is outside 0–50 score."]
    assert not OutcomeMeasurement.objects.exists()


def test_a_correction_rescores_items_never_takes_a_bare_total(assessment, clinician):
    done = complete_visit(assessment, clinician, LATE_EVENING, outcomes=[{"measure": "scorad", "items": SCORAD_ITEMS}])
    scorad = recorded(done)["scorad"]
    milder = {**SCORAD_ITEMS, "area_percent": 10, "pruritus": 2}  # 2 + 31.5 + 7 = 40.5
    with clock("2026-03-03T09:00:00+00:00"):
        services.correct_outcome(measurement=scorad, items=milder, reason="Mistyped.", by=clinician)
    scorad.refresh_from_db()
    assert (scorad.value, scorad.items) == (Decimal("40.5"), milder)

    with clock("2026-03-03T09:05:00+00:00"), pytest.raises(ValidationError) as refused:
        services.correct_outcome(measurement=scorad, items={**milder, "pruritus": 11}, reason="Mistyped.", by=clinician)
    assert refused.value.message_dict == {"items": ["SCORAD pruritus must be a number from 0 to 10, got 11"]}
    with clock("2026-03-03T09:05:00+00:00"), pytest.raises(ValidationError) as refused:
        services.correct_outcome(measurement=scorad, value=40, items=milder, reason="Mistyped.", by=clinician)
    assert refused.value.message_dict == {"items": ["SCORAD: give the value or the items, not both."]}
    scorad.refresh_from_db()
    assert (scorad.value, scorad.items) == (Decimal("40.5"), milder)

    with clock("2026-03-03T09:10:00+00:00"), pytest.raises(ValidationError) as refused:
        services.correct_outcome(measurement=scorad, value=38, reason="Mistyped.", by=clinician)
    assert list(refused.value.message_dict) == ["value"]
    assert [(h.value, h.items, h.history_change_reason) for h in scorad.history.order_by("history_date")] == [
        (Decimal("51.5"), SCORAD_ITEMS, None),
        (Decimal("40.5"), milder, "Mistyped."),
    ]


def test_an_easi_correction_scores_at_the_age_on_the_visit_date(assessment_of, clinic, clinician):
    # 7 on the visit's date (1 March), 8 by the day of the correction: the child's weights still apply.
    session = assessment_of(PatientFactory(clinic=clinic, date_of_birth=dt.date(2018, 3, 4)))
    milder = {"regions": {r: {**v, "area_percent": 0} for r, v in easi_items()["regions"].items()}}
    easi = recorded(complete_visit(session, clinician, LATE_EVENING, outcomes=[{"measure": "easi", "items": milder}]))["easi"]
    with clock("2026-03-05T09:00:00+00:00"):
        services.correct_outcome(measurement=easi, items=easi_items(), reason="Mistyped.", by=clinician)
    easi.refresh_from_db()
    assert (easi.value, easi.items) == (Decimal("7.2"), easi_items())


def test_score_items_names_the_instruments_it_knows():
    assert score_items("scorad", SCORAD_ITEMS) == Decimal("51.5")
    with pytest.raises(ValueError, match="hair_density is not computed from items"):
        score_items("hair_density", {})
    with pytest.raises(ValueError, match="EASI age in years"):
        score_items("easi", easi_items(), age_years=None)
