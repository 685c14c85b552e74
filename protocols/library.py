"""The standard catalogue and protocol library that ship with Regimen.

Pure data, so it can be checked by fast tests and loaded into the database by
a data migration or a management command; its only Django part is gettext
(see ``shown`` at the end: the English texts are stored, and translated where
they are shown). Sources:
``clinical/instruments.md`` (measures) and ``clinical/protocols.md``
(protocol templates, from the seed review). Step fields follow SPEC §2 and
their scheduling meaning SPEC §3: with ``anchor="previous"`` a step's target is
the previous session's reference date + ``interval_days``; with
``anchor="start"`` its j-th occurrence (j = 1..repeat) is the enrolment start +
``interval_days`` * j.

The third edition (protocols.md "The third edition", SPEC §19) adds decision
rules and arms to psoriasis, atopic dermatitis, wound, hair and scars; see
``_decision`` and the ``arm`` steps. Arms are anchored on the decision visit
(an arm step's ``anchor="start"`` counts from it).

Before it, this was the second edition of the library (protocols.md "The second
edition of the library"): follow-ups at 6 and 12 months after the last
treatment or dispensing visit (``anchor="treatment"``: the latest treatment
session's reference date + ``interval_days``), dispensing visits for the
topical courses, a week-4 wound assessment, post-laser and scar measures.

Where protocols.md is silent the choice is made here and commented. Defaults:
``anchor="previous"``; a baseline at interval 0 has window 0/0; durations are
30 min for a visit that records instruments, 60 min for an injection,
microneedling or laser session, 30 min for a dressing, 20 min for a review
without instruments and 0 for a home step.
"""

from decimal import Decimal

from django.utils.translation import gettext, gettext_noop

SEED_REVIEW = "Zare et al., Stem Cell Res Ther 16, 177, 2025"

INDICATIONS = ("hair", "photoaging", "wound", "atopic_dermatitis", "psoriasis", "scar", "other")
DELIVERY_ROUTES = ("topical", "microneedling", "injection", "mesotherapy", "other")
STEP_KINDS = ("treatment", "assessment", "home")
ANCHORS = ("previous", "start", "treatment")

# Bumped whenever PROTOCOLS changes. Each protocol names the edition it last
# changed in (its "edition"); load_library adds a new version of a clinic
# protocol loaded from an older edition than that (enrolments keep theirs),
# so photoaging and post-laser, unchanged by the third edition, stay as they are.
# The fourth (protocols.md, "Patient questionnaires in the third edition",
# SPEC §17) gives the patient-reported measures to the visits the notes
# name; psoriasis, wound and acne scars are unchanged by it.
EDITION = 4

# Measures a step records only for one sex (Norwood for men, Ludwig for women,
# clinical/instruments.md): completing the step does not ask for the other
# one; with the sex unknown or "other", neither is required.
SEX_SPECIFIC_MEASURES = {"norwood": "male", "ludwig": "female"}


def asked_of(code: str, sex: str) -> bool:
    """Whether a visit asks a patient of this sex for the measure (the rule above)."""
    return SEX_SPECIFIC_MEASURES.get(code, sex) == sex


ADJUNCTS = ("none", "microneedling", "fractional_co2", "rf_microneedling", "prp")
VALUE_TYPES = ("decimal", "integer", "score")


def _percent(code, label, percent):
    return {"code": code, "label": label, "kind": "percent_reduction", "percent": percent}


def _points(code, label, points):
    return {"code": code, "label": label, "kind": "points_reduction", "points": points}


# Responder definitions by measure code (clinical/instruments.md, SPEC §10),
# loaded onto OutcomeMeasure.responders and judged by
# protocols.instruments.responds; a "reduction" is an improvement in the
# measure's better direction.
RESPONDERS = {
    "easi": [
        _percent("easi_50", gettext_noop("EASI-50"), 50),
        _percent("easi_75", gettext_noop("EASI-75"), 75),
        _percent("easi_90", gettext_noop("EASI-90"), 90),
    ],
    "pasi": [_percent("pasi_75", gettext_noop("PASI-75"), 75), _percent("pasi_90", gettext_noop("PASI-90"), 90)],
    "scorad": [_percent("scorad_50", gettext_noop("SCORAD-50"), 50)],
    "dlqi": [_points("dlqi_4", gettext_noop("DLQI ≥ 4 points"), 4)],
    "itch_nrs": [_points("itch_4", gettext_noop("Peak itch ≥ 4 points"), 4)],
    # The published minimal clinically important difference (instruments.md).
    "poem": [_points("poem_3_4", gettext_noop("POEM ≥ 3.4 points"), "3.4")],
    "iga": [{"code": "iga_0_1", "label": gettext_noop("IGA 0/1 with ≥ 2 grades down"), "kind": "grade", "at_most": 1, "points": 2}],
    "wound_area": [_percent("wound_area_50", gettext_noop("Wound area reduction ≥ 50 %"), 50)],
}


# One entry per row of the table in instruments.md, in its order.
MEASURES = (
    {
        "code": "hair_density",
        "name": gettext_noop("Hair density (phototrichogram)"),
        "unit": gettext_noop("hairs/cm²"),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("600"),
        "higher_is_better": True,
        "used_for": gettext_noop("hair"),
    },
    {
        "code": "hair_thickness",
        "name": gettext_noop("Mean hair shaft diameter"),
        "unit": "µm",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("200"),
        "higher_is_better": True,
        "used_for": gettext_noop("hair"),
    },
    {
        "code": "anagen_ratio",
        "name": gettext_noop("Anagen hairs"),
        "unit": "%",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("100"),
        "higher_is_better": True,
        "used_for": gettext_noop("hair"),
    },
    {
        "code": "wrinkle_depth",
        "name": gettext_noop("Mean wrinkle depth (profilometry)"),
        "unit": "µm",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("2000"),
        "higher_is_better": False,
        "used_for": gettext_noop("photoaging"),
    },
    {
        "code": "elasticity_r2",
        "name": gettext_noop("Gross elasticity, Cutometer R2"),
        "unit": gettext_noop("ratio"),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1"),
        "higher_is_better": True,
        "used_for": gettext_noop("photoaging"),
    },
    {
        "code": "hydration",
        "name": gettext_noop("Stratum corneum hydration, Corneometer"),
        "unit": gettext_noop("a.u."),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("130"),
        "higher_is_better": True,
        "used_for": gettext_noop("photoaging, atopic dermatitis"),
    },
    {
        "code": "glogau",
        "name": gettext_noop("Glogau photoaging class"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("1"),
        "max_value": Decimal("4"),
        "higher_is_better": False,
        "used_for": gettext_noop("photoaging"),
    },
    {
        "code": "wound_area",
        "name": gettext_noop("Wound area (planimetry)"),
        "unit": "cm²",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1000"),
        "higher_is_better": False,
        "used_for": gettext_noop("wounds"),
    },
    {
        "code": "wound_closed",
        "name": gettext_noop("Complete epithelialisation"),
        "unit": "0/1",
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1"),
        "higher_is_better": True,
        "used_for": gettext_noop("wounds"),
    },
    {
        "code": "scorad",
        "name": gettext_noop("SCORAD"),
        "unit": gettext_noop("score"),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("103"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis"),
    },
    {
        "code": "easi",
        "name": gettext_noop("Eczema Area and Severity Index"),
        "unit": gettext_noop("score"),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("72"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis"),
    },
    {
        "code": "pasi",
        "name": gettext_noop("Psoriasis Area and Severity Index"),
        "unit": gettext_noop("score"),
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("72"),
        "higher_is_better": False,
        "used_for": gettext_noop("psoriasis"),
    },
    {
        "code": "iga",
        "name": gettext_noop("Investigator's Global Assessment"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("0"),
        "max_value": Decimal("4"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis, psoriasis"),
    },
    {
        "code": "dlqi",
        "name": gettext_noop("Dermatology Life Quality Index"),
        "unit": gettext_noop("score"),
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("30"),
        "higher_is_better": False,
        "used_for": gettext_noop("all inflammatory"),
        "reported_by": "patient",
    },
    {
        "code": "itch_nrs",
        "name": gettext_noop("Peak itch numeric rating"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("0"),
        "max_value": Decimal("10"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis"),
        "reported_by": "patient",
    },
    {
        "code": "scar_grade",
        "name": gettext_noop("Goodman & Baron qualitative acne-scar grade"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("1"),
        "max_value": Decimal("4"),
        "higher_is_better": False,
        "used_for": gettext_noop("scars"),
    },
    {
        "code": "vss",
        "name": gettext_noop("Vancouver Scar Scale"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("0"),
        "max_value": Decimal("13"),
        "higher_is_better": False,
        "used_for": gettext_noop("scars"),
    },
    {
        "code": "pain_vas",
        "name": gettext_noop("Procedure pain"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("0"),
        "max_value": Decimal("10"),
        "higher_is_better": False,
        "used_for": gettext_noop("injections, microneedling"),
    },
    {
        "code": "tcs_use",
        "name": gettext_noop("Topical corticosteroid used since last visit"),
        "unit": "g",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1000"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis (steroid sparing)"),
    },

    {
        "code": "erythema_grade",
        "name": gettext_noop("Clinician erythema grade"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("0"),
        "max_value": Decimal("4"),
        "higher_is_better": False,
        "used_for": gettext_noop("post-laser"),
    },
    {
        "code": "downtime_days",
        "name": gettext_noop("Days until normal social activity"),
        "unit": gettext_noop("days"),
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("60"),
        "higher_is_better": False,
        "used_for": gettext_noop("post-laser"),
    },
    {
        "code": "reepithelialised",
        "name": gettext_noop("Complete re-epithelialisation"),
        "unit": "0/1",
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1"),
        "higher_is_better": True,
        "used_for": gettext_noop("post-laser, wounds"),
    },
    {
        "code": "posas_observer",
        "name": gettext_noop("POSAS observer scale (6 items, 1–10)"),
        "unit": gettext_noop("score"),
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("6"),
        "max_value": Decimal("60"),
        "higher_is_better": False,
        "used_for": gettext_noop("surgical scars"),
    },
    {
        "code": "posas_patient",
        "name": gettext_noop("POSAS patient scale (6 items, 1–10)"),
        "unit": gettext_noop("score"),
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("6"),
        "max_value": Decimal("60"),
        "higher_is_better": False,
        "used_for": gettext_noop("surgical scars"),
        "reported_by": "patient",
    },
    # Patient-reported measures (instruments.md, SPEC §17).
    {
        "code": "poem",
        "name": gettext_noop("Patient-Oriented Eczema Measure"),
        "unit": "score",
        "value_type": "integer",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("28"),
        "higher_is_better": False,
        "used_for": gettext_noop("atopic dermatitis"),
        "reported_by": "patient",
    },
    # Ordinal: change in points, never a percent (instruments.md, corrections).
    {
        "code": "pgic",
        "name": gettext_noop("Patient Global Impression of Change"),
        "unit": "score",
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("1"),
        "max_value": Decimal("7"),
        "higher_is_better": False,
        "used_for": gettext_noop("hair, photoaging, post-laser"),
        "reported_by": "patient",
    },
    # Decimal, since class 3 vertex is recorded as 3.5, but still an ordinal
    # class: change in points, never a percent (instruments.md, corrections).
    {
        "code": "norwood",
        "name": gettext_noop("Hamilton–Norwood class (men; 3 vertex as 3.5)"),
        "unit": gettext_noop("score"),
        "value_type": "decimal",
        "ordinal": True,
        "min_value": Decimal("1"),
        "max_value": Decimal("7"),
        "higher_is_better": False,
        "used_for": gettext_noop("hair"),
    },
    {
        "code": "ludwig",
        "name": gettext_noop("Ludwig grade (women)"),
        "unit": gettext_noop("score"),
        "value_type": "score",
        "ordinal": True,
        "min_value": Decimal("1"),
        "max_value": Decimal("3"),
        "higher_is_better": False,
        "used_for": gettext_noop("hair"),
    },
    # Not in instruments.md: what a dispensing visit records (protocols.md, second
    # edition: "the amount dispensed"), as a measure so that completing the visit
    # requires it. It has no baseline, so no change or responder is computed for it.
    {
        "code": "amount_dispensed",
        "name": gettext_noop("Product dispensed"),
        "unit": "g",
        "value_type": "decimal",
        "ordinal": False,
        "min_value": Decimal("0"),
        "max_value": Decimal("1000"),
        "higher_is_better": False,
        "used_for": gettext_noop("topical courses (dispensing visit)"),
    },
)


def _step(
    name,
    kind,
    *,
    repeat,
    interval_days,
    window_before_days,
    window_after_days,
    duration_minutes,
    measures=(),
    anchor="previous",
    product="",
    adjunct="none",
    primary_endpoint=False,
    follow_up=False,
    arm="",
    decision=None,
):
    return {
        "name": name,
        "kind": kind,
        "repeat": repeat,
        "interval_days": interval_days,
        "anchor": anchor,
        "window_before_days": window_before_days,
        "window_after_days": window_after_days,
        "duration_minutes": duration_minutes,
        "measures": list(measures),
        "product": product,
        "adjunct": adjunct,
        "primary_endpoint": primary_endpoint,
        "follow_up": follow_up,
        "arm": arm,
        "decision": decision,
    }


HAIR_PRODUCT = gettext_noop("MSC-conditioned medium (MSC-CM) / exosome-rich secretome")
PHOTOAGING_PRODUCT = gettext_noop("ADSC-conditioned medium (ADSC-CM) cream or hydrogel")
POST_LASER_PRODUCT = gettext_noop("Topical MSC secretome")
WOUND_PRODUCT = gettext_noop("ADSC-conditioned medium (ADSC-CM) hydrogel dressing")
ATOPIC_PRODUCT = gettext_noop("Topical MSC-conditioned medium (MSC-CM), used with emollients")
PSORIASIS_PRODUCT = gettext_noop("Topical MSC secretome")
SCAR_PRODUCT = gettext_noop("MSC-conditioned medium (MSC-CM)")

PHOTOAGING_MEASURES = ("wrinkle_depth", "elasticity_r2", "hydration", "glogau")
ATOPIC_MEASURES = ("scorad", "easi", "iga", "itch_nrs", "tcs_use")
PSORIASIS_MEASURES = ("pasi", "iga", "dlqi")
WOUND_MEASURES = ("wound_area", "wound_closed")
POST_LASER_MEASURES = ("erythema_grade", "downtime_days", "reepithelialised")


FOLLOW_UP_NAMES = {6: gettext_noop("Follow-up at 6 months"), 12: gettext_noop("Follow-up at 12 months")}


def _follow_ups(measures, duration_minutes=30):
    """The two follow-ups every protocol ends with (second edition): 6 months
    (182 days, ±14) and 12 months (365 days, ±21) after the last treatment or
    dispensing visit, recording the protocol's primary measures."""
    return [
        _step(
            FOLLOW_UP_NAMES[months],
            "assessment",
            repeat=1,
            interval_days=days,
            anchor="treatment",
            window_before_days=window,
            window_after_days=window,
            duration_minutes=duration_minutes,
            measures=measures,
            follow_up=True,
        )
        for months, days, window in ((6, 182, 14), (12, 365, 21))
    ]


def _dispensing(product):
    """A topical course's dispensing visit (second edition): a treatment step, so
    completing it names the product's lot; the amount goes in `amount_dispensed`.
    15 minutes, on the baseline's day (window 0/0, as the baseline's)."""
    return _step(
        gettext_noop("Dispensing visit"),
        "treatment",
        repeat=1,
        interval_days=0,
        window_before_days=0,
        window_after_days=0,
        duration_minutes=15,
        measures=("amount_dispensed",),
        product=product,
    )


def _weekly_check_ins():
    # Window ±1 (silent in protocols.md): a weekly check-in a day early or late
    # still covers that week of application.
    return _step(
        gettext_noop("Home application, weekly check-in"),
        "home",
        repeat=4,
        interval_days=7,
        anchor="start",
        window_before_days=1,
        window_after_days=1,
        duration_minutes=0,
    )


def _baseline(measures):
    return _step(
        gettext_noop("Baseline assessment"),
        "assessment",
        repeat=1,
        interval_days=0,
        window_before_days=0,
        window_after_days=0,
        duration_minutes=30,
        measures=measures,
    )


def _rule(condition, action, reason=""):
    return {"if": condition, "then": action, "reason": reason}


def _decision(rules, default, default_reason="", at="last"):
    """Decision rules at a step (SPEC §19): checked at its last occurrence
    (``at="every"``: at each), first match wins, else the default."""
    return {"at": at, "rules": list(rules), "default": {"then": default, "reason": default_reason}}


PASI_75 = _rule("responder: pasi_75", "switch_to: maintenance", gettext_noop("PASI-75 reached: maintenance"))
PSORIASIS_REVIEW = gettext_noop("No PASI-50: the clinician decides to stop or change treatment")


def _scar_course(measures, decision=None, *, asked=()):
    """Baseline, three microneedling sessions 4 weeks apart, the assessment 3
    months after the last one (the end point) and the two follow-ups.
    ``asked``: patient-reported measures, at the baseline and the 3-month
    assessment only (fourth edition)."""
    return [
        # Not in protocols.md, which starts with the treatment. Without a step at
        # interval 0 the enrolment start date would hold no visit and the first
        # session would fall 28 days after it with no pre-treatment grading; this
        # baseline records the grade the course is judged against.
        _baseline((*measures, *asked)),
        _step(
            gettext_noop("Microneedling with secretome"),
            "treatment",
            repeat=3,
            interval_days=28,
            window_before_days=3,
            window_after_days=7,
            duration_minutes=60,
            measures=(*measures, "pain_vas"),
            product=SCAR_PRODUCT,
            adjunct="microneedling",
            decision=decision,
        ),
        # Without pain_vas: no procedure is done at this visit.
        _step(
            gettext_noop("Assessment 3 months after the last session"),
            "assessment",
            primary_endpoint=True,
            repeat=1,
            interval_days=90,
            window_before_days=14,
            window_after_days=14,
            duration_minutes=30,
            measures=(*measures, *asked),
        ),
        *_follow_ups(measures),
        *(_scar_extension(measures) if decision else []),
    ]


def _scar_extension(measures):
    """Third edition: two more sessions every 4 weeks when the grade has not
    fallen by a point at the third. The course's 3-month assessment leaves
    the path with the switch, so the arm has its own, 3 months after its
    last session (the end point); the follow-ups keep their dates."""
    return [
        _step(
            gettext_noop("Extension microneedling with secretome"),
            "treatment",
            repeat=2,
            interval_days=28,
            window_before_days=3,
            window_after_days=7,
            duration_minutes=60,
            measures=(*measures, "pain_vas"),
            product=SCAR_PRODUCT,
            adjunct="microneedling",
            arm="extension",
        ),
        _step(
            gettext_noop("Assessment 3 months after the last extension session"),
            "assessment",
            primary_endpoint=True,
            repeat=1,
            interval_days=90,
            window_before_days=14,
            window_after_days=14,
            duration_minutes=30,
            measures=measures,
            arm="extension",
        ),
    ]


PROTOCOLS = (
    {
        "key": "hair-aga",
        "edition": 4,
        "name": gettext_noop("Hair regeneration, androgenetic alopecia"),
        "indication": "hair",
        "delivery": "injection",
        "description": gettext_noop(
            # xgettext:no-python-format
            "MSC-conditioned medium (MSC-CM) / exosome-rich secretome by intralesional microinjection "
            "with microneedling, six sessions every 2 to 4 weeks, with follow-ups 6 and 12 months after "
            "the last injection. The seed review reports a 29 % rise in hair density after a 12-week "
            "course against placebo (Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": HAIR_PRODUCT,
        "steps": [
            # Norwood for men, Ludwig for women (SEX_SPECIFIC_MEASURES).
            _baseline(("hair_density", "hair_thickness", "norwood", "ludwig")),
            _step(
                gettext_noop("Secretome microinjection with microneedling"),
                "treatment",
                repeat=6,
                interval_days=14,
                window_before_days=0,
                window_after_days=14,
                duration_minutes=60,
                measures=("pain_vas",),
                product=HAIR_PRODUCT,
                adjunct="microneedling",
            ),
            # Window 0/+7 (silent in protocols.md): no earlier than 2 weeks after the last
            # session and no later than 3, so it still measures the end of the course.
            _step(
                gettext_noop("End-of-course assessment"),
                "assessment",
                primary_endpoint=True,
                repeat=1,
                interval_days=14,
                window_before_days=0,
                window_after_days=7,
                duration_minutes=30,
                # PGIC at the end of the course and each follow-up (fourth edition).
                measures=("hair_density", "hair_thickness", "pgic"),
                decision=_decision(
                    [
                        _rule(
                            "hair_density percent_change >= 10",
                            "switch_to: maintenance",
                            # xgettext:no-python-format
                            gettext_noop("Density +10 % or more"),
                        )
                    ],
                    "stop_treatments",
                    gettext_noop("Density up less than 10 %: treatment stops, the follow-ups stay"),
                ),
            ),
            # Counted from the last injection, not from the end-of-course visit; a
            # switch to maintenance keeps their dates (they precede the arm).
            *_follow_ups(("hair_density", "hair_thickness", "pgic")),
            # Third edition: one injection every 3 months, twice, from the decision visit.
            _step(
                gettext_noop("Maintenance injection"),
                "treatment",
                repeat=2,
                interval_days=91,
                anchor="start",
                window_before_days=14,
                window_after_days=14,
                duration_minutes=60,
                measures=("pain_vas",),
                product=HAIR_PRODUCT,
                adjunct="microneedling",
                arm="maintenance",
            ),
        ],
    },
    {
        "key": "photoaging-4wk",
        "edition": 4,
        "name": gettext_noop("Photoaging, 4-week topical course"),
        "indication": "photoaging",
        "delivery": "topical",
        "description": gettext_noop(
            "ADSC-conditioned medium (ADSC-CM) cream or hydrogel dispensed at the first visit and "
            "applied at home for 4 weeks, assessed at week 4 and followed up at 3, 6 and 12 months "
            "(Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": PHOTOAGING_PRODUCT,
        "steps": [
            _baseline(PHOTOAGING_MEASURES),
            _dispensing(PHOTOAGING_PRODUCT),
            _weekly_check_ins(),
            _step(
                gettext_noop("Week-4 assessment"),
                "assessment",
                primary_endpoint=True,
                repeat=1,
                interval_days=28,
                anchor="start",
                window_before_days=3,
                window_after_days=3,
                duration_minutes=30,
                measures=(*PHOTOAGING_MEASURES, "pgic"),
            ),
            # Kept from the first edition. Measures (silent in protocols.md): the full
            # baseline set, so durability of every endpoint can be compared.
            _step(
                gettext_noop("Follow-up at 3 months"),
                "assessment",
                repeat=1,
                interval_days=90,
                anchor="start",
                window_before_days=14,
                window_after_days=14,
                duration_minutes=30,
                measures=(*PHOTOAGING_MEASURES, "pgic"),
                follow_up=True,
            ),
            *_follow_ups((*PHOTOAGING_MEASURES, "pgic")),
        ],
    },
    {
        "key": "post-laser",
        "edition": 4,
        "name": gettext_noop("Post-laser recovery"),
        # Recovery after a resurfacing procedure is not one of the disease indications.
        "indication": "other",
        "delivery": "topical",
        "description": gettext_noop(
            "Fractional CO2 laser or RF microneedling followed by topical MSC secretome to speed "
            "recovery, with reviews at day 7 and week 4 (erythema, downtime, re-epithelialisation) and "
            "follow-ups at 6 and 12 months (Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": POST_LASER_PRODUCT,
        "steps": [
            # The template ships with fractional CO2; a clinic using RF microneedling
            # saves a new version with adjunct "rf_microneedling".
            _step(
                gettext_noop("Procedure day"),
                "treatment",
                repeat=1,
                interval_days=0,
                window_before_days=0,
                window_after_days=0,
                duration_minutes=60,
                measures=("pain_vas",),
                product=POST_LASER_PRODUCT,
                adjunct="fractional_co2",
            ),
            # Daily application: a window wider than 0/0 would overlap the next day.
            _step(
                gettext_noop("Home application"),
                "home",
                repeat=7,
                interval_days=1,
                window_before_days=0,
                window_after_days=0,
                duration_minutes=0,
            ),
            # 30 min rather than the first edition's 20: the reviews now record instruments.
            _step(
                gettext_noop("Review at day 7"),
                "assessment",
                repeat=1,
                interval_days=7,
                anchor="start",
                window_before_days=2,
                window_after_days=2,
                duration_minutes=30,
                measures=POST_LASER_MEASURES,
            ),
            _step(
                gettext_noop("Review at week 4"),
                "assessment",
                primary_endpoint=True,
                repeat=1,
                interval_days=28,
                anchor="start",
                window_before_days=7,
                window_after_days=7,
                duration_minutes=30,
                measures=(*POST_LASER_MEASURES, "pgic"),
            ),
            # Erythema only: downtime and re-epithelialisation are settled by week 4.
            *_follow_ups(("erythema_grade", "pgic")),
        ],
    },
    {
        "key": "chronic-wound",
        "edition": 3,
        "name": gettext_noop("Chronic wound / diabetic ulcer"),
        "indication": "wound",
        "delivery": "topical",
        "description": gettext_noop(
            "ADSC-conditioned medium (ADSC-CM) hydrogel dressing changed every 3 to 4 days, 16 times, "
            "with the week-4 area (about 50 % area reduction by week 4 predicts healing by week 12), "
            "the week-12 outcome and follow-ups at 6 and 12 months (Zare et al., Stem Cell Res Ther 16, "
            "177, 2025)."
        ),
        "product": WOUND_PRODUCT,
        "steps": [
            _baseline(("wound_area",)),
            # Window 0/+1: 16 dressings at most 4 days apart end by day 64, before the
            # week-12 window opens (day 77). A dressing after wound_closed = 1 may be
            # skipped with the reason "closed".
            _step(
                gettext_noop("Dressing change"),
                "treatment",
                repeat=16,
                interval_days=3,
                window_before_days=0,
                window_after_days=1,
                duration_minutes=30,
                measures=WOUND_MEASURES,
                product=WOUND_PRODUCT,
                # Third edition: at any dressing, a closed wound stops the dressings.
                decision=_decision(
                    [_rule("wound_closed = 1", "stop_treatments", gettext_noop("Wound closed: no more dressings"))],
                    "continue",
                    at="every",
                ),
            ),
            # Anchored on the start, so it falls among the dressings by date (days 25-31)
            # and moves none of them.
            _step(
                gettext_noop("Week-4 assessment"),
                "assessment",
                repeat=1,
                interval_days=28,
                anchor="start",
                window_before_days=3,
                window_after_days=3,
                duration_minutes=30,
                measures=("wound_area",),
                decision=_decision(
                    [_rule("wound_area percent_change <= -50", "continue", gettext_noop("Area reduced by half or more"))],
                    "review",
                    gettext_noop("fewer than half of such wounds heal by week 12"),
                ),
            ),
            _step(
                gettext_noop("Week-12 outcome"),
                "assessment",
                primary_endpoint=True,
                repeat=1,
                interval_days=84,
                anchor="start",
                window_before_days=7,
                window_after_days=7,
                duration_minutes=30,
                measures=WOUND_MEASURES,
            ),
            *_follow_ups(WOUND_MEASURES),
        ],
    },
    {
        "key": "atopic-dermatitis",
        "edition": 4,
        "name": gettext_noop("Atopic dermatitis, topical steroid-sparing course"),
        "indication": "atopic_dermatitis",
        "delivery": "topical",
        "description": gettext_noop(
            "Topical MSC-conditioned medium (MSC-CM), used with emollients dispensed at the first "
            "visit, for 4 weeks as a topical steroid-sparing course, assessed at weeks 2 and 4 and "
            "followed up at 12 weeks, 6 and 12 months (Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": ATOPIC_PRODUCT,
        "steps": [
            _baseline(("scorad", "easi", "iga", "dlqi", "itch_nrs", "poem", "tcs_use")),
            _dispensing(ATOPIC_PRODUCT),
            _weekly_check_ins(),
            _step(
                gettext_noop("Assessment, weeks 2 and 4"),
                "assessment",
                primary_endpoint=True,
                repeat=2,
                interval_days=14,
                anchor="start",
                window_before_days=3,
                window_after_days=3,
                duration_minutes=30,
                measures=(*ATOPIC_MEASURES, "poem"),
                # Third edition: decided at week 4 (the step's last occurrence).
                decision=_decision(
                    [_rule("responder: easi_50", "continue", gettext_noop("EASI-50 reached"))], "review", gettext_noop("early non-response")
                ),
            ),
            _step(
                gettext_noop("Follow-up at 12 weeks"),
                "assessment",
                repeat=1,
                interval_days=84,
                anchor="start",
                window_before_days=7,
                window_after_days=7,
                duration_minutes=30,
                measures=("scorad", "easi", "dlqi", "poem", "itch_nrs"),
                follow_up=True,
            ),
            *_follow_ups(ATOPIC_MEASURES),
        ],
    },
    {
        "key": "psoriasis",
        "edition": 3,
        "name": gettext_noop("Psoriasis, topical secretome"),
        "indication": "psoriasis",
        "delivery": "topical",
        "description": gettext_noop(
            "Topical MSC secretome dispensed at the first visit and applied at home with weekly "
            "check-ins, with PASI, IGA and DLQI at baseline and week 12, PASI and IGA at weeks 4 and 8, "
            "and follow-ups at 6 and 12 months (Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": PSORIASIS_PRODUCT,
        "steps": [
            _baseline(PSORIASIS_MEASURES),
            _dispensing(PSORIASIS_PRODUCT),
            _weekly_check_ins(),
            _step(
                gettext_noop("Assessment, weeks 4 and 8"),
                "assessment",
                repeat=2,
                interval_days=28,
                anchor="start",
                window_before_days=5,
                window_after_days=5,
                duration_minutes=30,
                measures=("pasi", "iga"),
            ),
            _step(
                gettext_noop("Week-12 assessment"),
                "assessment",
                primary_endpoint=True,
                repeat=1,
                interval_days=84,
                anchor="start",
                window_before_days=7,
                window_after_days=7,
                duration_minutes=30,
                measures=PSORIASIS_MEASURES,
                decision=_decision(
                    [PASI_75, _rule("pasi percent_change <= -50", "switch_to: extension", gettext_noop("PASI-50, not PASI-75"))],
                    "review",
                    PSORIASIS_REVIEW,
                ),
            ),
            *_follow_ups(PSORIASIS_MEASURES),
            # Third edition arms, anchored on the week-12 visit.
            _step(
                gettext_noop("Maintenance review"),
                "assessment",
                repeat=3,
                interval_days=56,
                anchor="start",
                window_before_days=7,
                window_after_days=7,
                duration_minutes=30,
                measures=("pasi", "dlqi"),
                arm="maintenance",
            ),
            # Weeks 16 and 20; the decision is taken again at week 20, once: no
            # second extension (PASI-75 goes to maintenance, anything else to review).
            _step(
                gettext_noop("Extension assessment, weeks 16 and 20"),
                "assessment",
                repeat=2,
                interval_days=28,
                anchor="start",
                window_before_days=5,
                window_after_days=5,
                duration_minutes=30,
                measures=("pasi", "iga"),
                arm="extension",
                decision=_decision([PASI_75], "review", gettext_noop("No PASI-75 after the extension: the clinician decides")),
            ),
        ],
    },
    # protocols.md: the Vancouver Scar Scale is for burn and hypertrophic scars, so
    # the second edition splits the first edition's "Acne and surgical scars":
    # atrophic acne scars keep the Goodman & Baron grade (key "scars", as before),
    # surgical scars get POSAS. VSS stays in the catalogue for a clinic's own
    # burn-scar protocol.
    {
        "key": "scars",
        "edition": 3,
        "name": gettext_noop("Atrophic acne scars"),
        "indication": "scar",
        "delivery": "microneedling",
        "description": gettext_noop(
            "Microneedling with MSC-conditioned medium (MSC-CM) every 4 weeks for 3 sessions, graded "
            "(Goodman & Baron) 3 months after the last session and followed up at 6 and 12 months (Zare "
            "et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": SCAR_PRODUCT,
        "steps": _scar_course(
            ("scar_grade",),
            decision=_decision(
                [_rule("scar_grade change <= -1", "continue", gettext_noop("Goodman & Baron grade down by 1 or more"))],
                "switch_to: extension",
                gettext_noop("Grade not down by 1: two more sessions"),
            ),
        ),
    },
    {
        "key": "surgical-scars",
        "edition": 4,
        "name": gettext_noop("Surgical scars"),
        "indication": "scar",
        "delivery": "microneedling",
        "description": gettext_noop(
            "Microneedling with MSC-conditioned medium (MSC-CM) every 4 weeks for 3 sessions, scored "
            "with POSAS (observer and patient) 3 months after the last session and followed up at 6 and "
            "12 months (Zare et al., Stem Cell Res Ther 16, 177, 2025)."
        ),
        "product": SCAR_PRODUCT,
        "steps": _scar_course(("posas_observer",), asked=("posas_patient",)),
    },
)


# --- Languages (SPEC §20) ----------------------------------------------------------------------------


def _library_texts() -> frozenset[str]:
    """Every text of the catalogue and the library that a person reads (each
    marked with gettext_noop above): measure names, word units and uses,
    responder labels, protocol names, descriptions and products, step names
    and products, decision reasons."""
    texts = set()
    for measure in MEASURES:
        texts.update((measure["name"], measure["unit"], measure["used_for"]))
    texts.update(responder["label"] for responders in RESPONDERS.values() for responder in responders)
    for protocol in PROTOCOLS:
        texts.update((protocol["name"], protocol["description"], protocol["product"]))
        for step in protocol["steps"]:
            texts.update((step["name"], step["product"]))
            if step["decision"]:
                texts.update(rule["reason"] for rule in step["decision"]["rules"])
                texts.add(step["decision"]["default"]["reason"])
    texts.discard("")
    return frozenset(texts)


LIBRARY_TEXTS = _library_texts()


def shown(text: str) -> str:
    """A text as the reader should see it: one of the standard library's
    texts in the active language, anything else (what staff typed) as it is.

    The database keeps the library's English, which is the message id in
    locale/<language>/LC_MESSAGES/django.po: rows stay the same whatever the
    reader's language, a clinic's edit of a library protocol is compared
    and versioned as before, and a protocol a manager saves under a name of
    their own is never translated. Translation happens where a text is
    shown (API answers, pages, emails), through this function."""
    return gettext(text) if text in LIBRARY_TEXTS else text
