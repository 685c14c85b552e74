"""Scored outcome instruments and response definitions (``clinical/instruments.md``).

Pure functions over plain values; of Django only gettext, for the labels of
the item layouts people read (SPEC §20). Every input is checked and a bad one
raises ``ValueError`` naming the item (by its key, as an API caller sends it)
and its allowed range, so a form or API can show the message as is. Scores are ``Decimal`` rounded to one decimal
place, half up, as they are reported clinically.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

SCORAD_INTENSITY_ITEMS = (
    "erythema",
    "oedema_papulation",
    "oozing_crusts",
    "excoriation",
    "lichenification",
    "dryness",
)
EASI_ITEMS = ("erythema", "oedema_papulation", "excoriation", "lichenification")
PASI_ITEMS = ("erythema", "induration", "desquamation")
AREA_KEY = "area_percent"

# Region weights; their keys are the region keys a caller passes.
EASI_WEIGHTS_FROM_AGE_8 = {
    "head_neck": Decimal("0.1"),
    "upper_limbs": Decimal("0.2"),
    "trunk": Decimal("0.3"),
    "lower_limbs": Decimal("0.4"),
}
EASI_WEIGHTS_UNDER_8 = {
    "head_neck": Decimal("0.2"),
    "upper_limbs": Decimal("0.2"),
    "trunk": Decimal("0.3"),
    "lower_limbs": Decimal("0.3"),
}
PASI_WEIGHTS = {
    "head": Decimal("0.1"),
    "upper_limbs": Decimal("0.2"),
    "trunk": Decimal("0.3"),
    "lower_limbs": Decimal("0.4"),
}
EASI_REGIONS = tuple(EASI_WEIGHTS_FROM_AGE_8)
PASI_REGIONS = tuple(PASI_WEIGHTS)

SCORAD_MAX = Decimal("103")
DLQI_QUESTIONS = 10

# Lower bound (inclusive) of each area score above 0: 1-9 % → 1, 10-29 % → 2, ...
# A fractional percentage between bands (e.g. 9.5 %) takes the lower band, and
# any involvement above 0 % scores at least 1.
_AREA_BANDS = ((90, 6), (70, 5), (50, 4), (30, 3), (10, 2))

_ONE_PLACE = Decimal("0.1")


def _round(value: Decimal) -> Decimal:
    return value.quantize(_ONE_PLACE, rounding=ROUND_HALF_UP)


def _number(item: str, value, low, high=None) -> Decimal:
    """A finite number within [low, high] as a Decimal (floats via their repr)."""
    if high is None:
        allowed = f"{item} must be a number of at least {low}"
    else:
        allowed = f"{item} must be a number from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{allowed}, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{allowed}, got {value!r}")
        value = Decimal(repr(value))
    elif isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{allowed}, got {value!r}")
    number = Decimal(value)
    if number < low or (high is not None and number > high):
        raise ValueError(f"{allowed}, got {value}")
    return number


def _integer(item: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{item} must be an integer from {low} to {high}, got {value!r}")
    return value


def _half_point(item: str, value, low: int, high: int) -> Decimal:
    """A sign graded in half points (EASI: 0, 0.5 ... 3)."""
    try:
        number = _number(item, value, low, high)
    except ValueError:
        number = None
    if number is None or number * 2 != (number * 2).to_integral_value():
        raise ValueError(f"{item} must be one of {low}, {low + 0.5} ... {high} (half points), got {value!r}")
    return number


def _exact_keys(what: str, mapping, expected: Sequence[str]) -> None:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{what} must be a mapping with keys {', '.join(expected)}")
    missing = [key for key in expected if key not in mapping]
    unknown = sorted(str(key) for key in mapping if key not in expected)
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ValueError(f"{what} must have exactly the keys {', '.join(expected)} ({'; '.join(parts)})")


def area_score(percent) -> int:
    """EASI/PASI area score 0-6 for the percentage of a region affected (0-100)."""
    percent = _number("area percent", percent, 0, 100)
    if percent == 0:
        return 0
    for lower_bound, score in _AREA_BANDS:
        if percent >= lower_bound:
            return score
    return 1


def scorad(*, area_percent, intensity: Mapping[str, int], pruritus, sleeplessness) -> Decimal:
    """SCORAD = A/5 + 7B/2 + C, 0-103.

    ``area_percent`` is A (0-100); ``intensity`` maps each of
    ``SCORAD_INTENSITY_ITEMS`` to 0-3 (B is their sum, 0-18); ``pruritus`` and
    ``sleeplessness`` are the two 0-10 visual analogue scores summed into C.
    """
    a = _number("SCORAD area percent (A)", area_percent, 0, 100)
    _exact_keys("SCORAD intensity", intensity, SCORAD_INTENSITY_ITEMS)
    b = sum(_integer(f"SCORAD intensity {item}", intensity[item], 0, 3) for item in SCORAD_INTENSITY_ITEMS)
    pruritus = _number("SCORAD pruritus", pruritus, 0, 10)
    sleeplessness = _number("SCORAD sleeplessness", sleeplessness, 0, 10)
    c = pruritus + sleeplessness
    return _round(a / 5 + Decimal(7) * b / 2 + c)


def severity_band_scorad(total) -> str:
    """The band of a SCORAD total: mild below 25, moderate 25 to 50, severe above 50."""
    total = _number("SCORAD total", total, 0, SCORAD_MAX)
    if total < 25:
        return "mild"
    if total <= 50:
        return "moderate"
    return "severe"


def _regional_index(name, regions, weights, items, item_max, *, grade=_integer) -> Decimal:
    _exact_keys(f"{name} regions", regions, tuple(weights))
    total = Decimal(0)
    for region, weight in weights.items():
        scores = regions[region]
        _exact_keys(f"{name} region {region}", scores, (*items, AREA_KEY))
        severity = sum(grade(f"{name} {region} {item}", scores[item], 0, item_max) for item in items)
        area = area_score(_number(f"{name} {region} {AREA_KEY}", scores[AREA_KEY], 0, 100))
        total += severity * area * weight
    return _round(total)


def easi(*, regions: Mapping[str, Mapping], age_years: int) -> Decimal:
    """Eczema Area and Severity Index, 0-72.

    ``regions`` maps each of ``EASI_REGIONS`` to its ``EASI_ITEMS`` (0-3 each,
    in half points: 0, 0.5 ... 3) and ``area_percent`` (0-100). Children aged
    0-7 use different weights.
    """
    age = _integer("EASI age in years", age_years, 0, 150)
    weights = EASI_WEIGHTS_UNDER_8 if age < 8 else EASI_WEIGHTS_FROM_AGE_8
    return _regional_index("EASI", regions, weights, EASI_ITEMS, 3, grade=_half_point)


def pasi(*, regions: Mapping[str, Mapping]) -> Decimal:
    """Psoriasis Area and Severity Index, 0-72.

    ``regions`` maps each of ``PASI_REGIONS`` to its ``PASI_ITEMS`` (0-4 each)
    and ``area_percent`` (0-100).
    """
    return _regional_index("PASI", regions, PASI_WEIGHTS, PASI_ITEMS, 4)


NOT_RELEVANT = "not_relevant"
DLQI_WORK_QUESTION = 7  # "prevented you from working or studying?": yes (3), else no and 0-2
# The published questionnaire offers "not relevant" only on questions 3-10:
# questions 1 (itchy, sore, painful, stinging) and 2 (embarrassed,
# self-conscious) concern everyone (instruments.md, corrections).
DLQI_NOT_RELEVANT_FROM = 3
DLQI_YES = "yes"
DLQI_BANDS = ((1, "no effect"), (5, "small effect"), (10, "moderate effect"), (20, "very large effect"),
              (30, "extremely large effect"))


@dataclass(frozen=True)
class DlqiScore:
    total: int
    unanswered: tuple[int, ...]  # question numbers left out (at most one; it scores 0)
    not_relevant: tuple[int, ...]


def dlqi_score(answers: Sequence) -> DlqiScore:
    """DLQI from the ten answers in order (Finlay & Khan 1994 and its scoring
    rules): each 0-3, ``"not_relevant"`` (questions 3-10 only; scores 0,
    kept as such), or None (unanswered). Question 7 is ``"yes"`` (prevented work or study: 3) or, for
    "no", 0-2; 3 is read as "yes". One unanswered question scores 0 and is
    flagged; two or more make the questionnaire invalid."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(f"DLQI answers must be a sequence of {DLQI_QUESTIONS} answers")
    if len(answers) != DLQI_QUESTIONS:
        raise ValueError(f"DLQI answers must have exactly {DLQI_QUESTIONS} items, got {len(answers)}")
    total, unanswered, not_relevant = 0, [], []
    for number, answer in enumerate(answers, start=1):
        if answer is None:
            unanswered.append(number)
        elif answer == NOT_RELEVANT and number < DLQI_NOT_RELEVANT_FROM:
            raise ValueError(
                f'DLQI question {number} has no "{NOT_RELEVANT}" answer (only questions '
                f"{DLQI_NOT_RELEVANT_FROM}-{DLQI_QUESTIONS} have); give 0-3 or null (unanswered)"
            )
        elif answer == NOT_RELEVANT:
            not_relevant.append(number)
        elif number == DLQI_WORK_QUESTION and answer == DLQI_YES:
            total += 3
        elif number == DLQI_WORK_QUESTION:
            try:
                total += _integer(f"DLQI question {number}", answer, 0, 3)
            except ValueError:
                raise ValueError(
                    f'DLQI question 7 must be "yes" (prevented work or study), 0-2, or "{NOT_RELEVANT}", '
                    f"got {answer!r}"
                ) from None
        else:
            try:
                total += _integer(f"DLQI question {number}", answer, 0, 3)
            except ValueError:
                relevant = f', "{NOT_RELEVANT}"' if number >= DLQI_NOT_RELEVANT_FROM else ""
                raise ValueError(
                    f"DLQI question {number} must be 0-3{relevant} or null (unanswered), got {answer!r}"
                ) from None
    if len(unanswered) > 1:
        raise ValueError(
            f"DLQI questions {', '.join(map(str, unanswered))} are unanswered; at most one may be left out"
        )
    return DlqiScore(total, tuple(unanswered), tuple(not_relevant))


def dlqi(answers: Sequence) -> int:
    """Dermatology Life Quality Index, 0-30 (see dlqi_score)."""
    return dlqi_score(answers).total


def dlqi_band(total) -> str:
    """Hongbo et al. 2005: 0-1 no effect ... 21-30 extremely large effect on the patient's life."""
    total = _integer("DLQI total", total, 0, 30)
    return next(band for upper, band in DLQI_BANDS if total <= upper)


POEM_QUESTIONS = 7
# Days of the last week: no days 0, 1-2 days 1, 3-4 days 2, 5-6 days 3, every day 4.
POEM_BANDS = ((2, "clear or almost clear"), (7, "mild"), (16, "moderate"), (24, "severe"), (28, "very severe"))
POSAS_PATIENT_ITEMS = 6  # pain, itch, colour, stiffness, thickness, irregularity


@dataclass(frozen=True)
class PoemScore:
    total: int
    unanswered: tuple[int, ...]  # at most one; it scores 0


def poem_score(answers: Sequence) -> PoemScore:
    """POEM from its seven answers in order (University of Nottingham's
    scoring): each 0-4 or None (unanswered). One unanswered question scores 0
    and is flagged; two or more make the questionnaire invalid."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(f"POEM answers must be a sequence of {POEM_QUESTIONS} answers")
    if len(answers) != POEM_QUESTIONS:
        raise ValueError(f"POEM answers must have exactly {POEM_QUESTIONS} items, got {len(answers)}")
    total, unanswered = 0, []
    for number, answer in enumerate(answers, start=1):
        if answer is None:
            unanswered.append(number)
            continue
        try:
            total += _integer(f"POEM question {number}", answer, 0, 4)
        except ValueError:
            raise ValueError(f"POEM question {number} must be 0-4 or null (unanswered), got {answer!r}") from None
    if len(unanswered) > 1:
        raise ValueError(
            f"POEM questions {', '.join(map(str, unanswered))} are unanswered; at most one may be left out"
        )
    return PoemScore(total, tuple(unanswered))


def poem_band(total) -> str:
    """POEM bands (Charman et al. 2013): 0-2 clear or almost clear ... 25-28 very severe."""
    total = _integer("POEM total", total, 0, 28)
    return next(band for upper, band in POEM_BANDS if total <= upper)


def posas_patient(answers: Sequence, overall=None) -> int:
    """POSAS patient scale, 6-60: the sum of its six items (pain, itch,
    colour, stiffness, thickness, irregularity), each 1-10 and each required;
    the overall opinion (1-10, or None) is kept as an item and not summed."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValueError(f"POSAS patient answers must be a sequence of {POSAS_PATIENT_ITEMS} answers")
    if len(answers) != POSAS_PATIENT_ITEMS:
        raise ValueError(f"POSAS patient answers must have exactly {POSAS_PATIENT_ITEMS} items, got {len(answers)}")
    if overall is not None:
        _integer("POSAS patient overall opinion", overall, 1, 10)
    return sum(
        _integer(f"POSAS patient item {number}", answer, 1, 10) for number, answer in enumerate(answers, start=1)
    )


def objective_scorad(*, area_percent, intensity: Mapping[str, int], **_symptoms) -> Decimal:
    """Objective SCORAD = A/5 + 7B/2 (0-83), without the patient's symptoms."""
    a = _number("SCORAD area percent (A)", area_percent, 0, 100)
    _exact_keys("SCORAD intensity", intensity, SCORAD_INTENSITY_ITEMS)
    b = sum(_integer(f"SCORAD intensity {item}", intensity[item], 0, 3) for item in SCORAD_INTENSITY_ITEMS)
    return _round(a / 5 + Decimal(7) * b / 2)


def severity_band_objective_scorad(total) -> str:
    """Objective SCORAD (Kunz et al. 1997): mild below 15, moderate 15 to 40, severe above 40."""
    total = _number("objective SCORAD", total, 0, 83)
    if total < 15:
        return "mild"
    if total <= 40:
        return "moderate"
    return "severe"


def interpretation(code: str, value, items) -> dict | None:
    """What a clinician reads beside a scored value: DLQI's band and flagged
    answers, SCORAD's band, objective SCORAD and its band; None otherwise."""
    if code == "dlqi":
        result = {"band": dlqi_band(int(value))}
        if items:
            answers = items["answers"]
            # Answers stored before "not relevant" was refused on questions 1
            # and 2 still score 0 there; they are shown, not re-judged.
            result.update(
                unanswered=[n for n, a in enumerate(answers, start=1) if a is None],
                not_relevant=[n for n, a in enumerate(answers, start=1) if a == NOT_RELEVANT],
            )
        return result
    if code == "poem":
        result = {"band": poem_band(int(value))}
        if items:
            result["unanswered"] = [n for n, a in enumerate(items["answers"], start=1) if a is None]
        return result
    if code == "posas_patient" and items:
        return {"overall_opinion": items.get("overall")}
    if code == "scorad":
        result = {"band": severity_band_scorad(value)}
        if items:
            objective = objective_scorad(**items)
            result.update(objective_scorad=objective, objective_band=severity_band_objective_scorad(objective))
        return result
    return None


# The keys of each scored instrument's items, by measure code: the keyword
# arguments of its function above (EASI's age comes from the patient instead).
ITEM_KEYS = {
    "scorad": ("area_percent", "intensity", "pruritus", "sleeplessness"),
    "easi": ("regions",),
    "pasi": ("regions",),
    "dlqi": ("answers",),
    "poem": ("answers",),
    "posas_patient": ("answers", "overall"),
}
# Measures that may come from their items or be given as a total: the POSAS
# patient scale was a typed-in total before the questionnaires (SPEC §17).
ITEMS_OPTIONAL = ("posas_patient",)
ITEM_CODES = tuple(ITEM_KEYS)
# Scored instruments: never a bare total (SPEC §10).
SCORED_CODES = tuple(code for code in ITEM_KEYS if code not in ITEMS_OPTIONAL)


# --- Item layouts: how each scored instrument's items are entered ------------------------------
# Defined once; the Complete page builds its inputs and the API documents its
# `items` from these. A path leads into the items mapping (an int indexes a list).

INSTRUMENT_NAMES = {"scorad": "SCORAD", "easi": "EASI", "pasi": "PASI", "dlqi": "DLQI", "poem": "POEM",
                    "posas_patient": _("POSAS patient scale")}
_SIGN_LABELS = {
    "erythema": _("Erythema"),
    "oedema_papulation": _("Oedema / papulation"),
    "oozing_crusts": _("Oozing / crusts"),
    "excoriation": _("Excoriation"),
    "lichenification": _("Lichenification"),
    "dryness": _("Dryness"),
    "induration": _("Induration"),
    "desquamation": _("Desquamation"),
}
_REGION_LABELS = {
    "head_neck": _("Head and neck"),
    "head": _("Head"),
    "upper_limbs": _("Upper limbs"),
    "trunk": _("Trunk"),
    "lower_limbs": _("Lower limbs"),
}


@dataclass(frozen=True)
class Item:
    path: tuple
    label: str
    high: int
    whole: bool  # a whole-number grade; otherwise any number (areas, visual analogue scores)
    half: bool = False  # graded in half points (EASI's signs)
    choices: tuple = ()  # (stored answer, label): a questionnaire's answers (DLQI)
    optional: bool = False  # may be left unanswered (stored as null)


@dataclass(frozen=True)
class ItemGroup:
    legend: str
    items: tuple[Item, ...]


_DLQI_RELEVANT_CHOICES = (
    (3, _("Very much (3)")), (2, _("A lot (2)")), (1, _("A little (1)")), (0, _("Not at all (0)"))
)
_DLQI_CHOICES = (*_DLQI_RELEVANT_CHOICES, (NOT_RELEVANT, _("Not relevant (0)")))
_DLQI_WORK_CHOICES = ((DLQI_YES, _("Yes, prevented work or study (3)")), (2, _("No, but a lot (2)")),
                      (1, _("No, but a little (1)")), (0, _("No, not at all (0)")), (NOT_RELEVANT, _("Not relevant (0)")))


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _sign(key: str) -> str:
    return _SIGN_LABELS.get(key, _words(key))


def _regional_layout(regions, signs, high, *, half=False) -> tuple[ItemGroup, ...]:
    return tuple(
        ItemGroup(
            format_lazy(
                _("{region} (signs 0–{high} in half points)") if half else _("{region} (signs 0–{high})"),
                region=_REGION_LABELS.get(region, _words(region)),
                high=high,
            ),
            (
                *(Item(("regions", region, key), _sign(key), high, not half, half=half) for key in signs),
                Item(("regions", region, AREA_KEY), _("Area affected (%)"), 100, False),
            ),
        )
        for region in regions
    )


ITEM_LAYOUTS: dict[str, tuple[ItemGroup, ...]] = {
    "scorad": (
        ItemGroup(_("Extent"), (Item(("area_percent",), _("Area affected (%)"), 100, False),)),
        ItemGroup(
            _("Intensity (0–3 each)"),
            tuple(Item(("intensity", key), _sign(key), 3, True) for key in SCORAD_INTENSITY_ITEMS),
        ),
        ItemGroup(
            _("Symptoms (0–10 each)"),
            (Item(("pruritus",), _("Pruritus"), 10, False), Item(("sleeplessness",), _("Sleeplessness"), 10, False)),
        ),
    ),
    "easi": _regional_layout(EASI_REGIONS, EASI_ITEMS, 3, half=True),
    "pasi": _regional_layout(PASI_REGIONS, PASI_ITEMS, 4),
    "dlqi": (
        ItemGroup(
            _("Answers (one question may be left unanswered; “not relevant”, on questions 3–10, scores 0)"),
            tuple(
                Item(
                    ("answers", index),
                    format_lazy(_("Question {number}"), number=index + 1),
                    3,
                    True,
                    choices=(
                        _DLQI_WORK_CHOICES if index + 1 == DLQI_WORK_QUESTION
                        else _DLQI_CHOICES if index + 1 >= DLQI_NOT_RELEVANT_FROM
                        else _DLQI_RELEVANT_CHOICES
                    ),
                    optional=True,
                )
                for index in range(DLQI_QUESTIONS)
            ),
        ),
    ),
    "poem": (
        ItemGroup(
            "Answers (days of the last week: 0 none, 1 one or two, 2 three or four, 3 five or six, 4 every day; "
            "one question may be left unanswered)",
            tuple(
                Item(("answers", index), f"Question {index + 1}", 4, True,
                     choices=tuple((n, str(n)) for n in range(5)), optional=True)
                for index in range(POEM_QUESTIONS)
            ),
        ),
    ),
}


def items_from_paths(values: Mapping[tuple, object]) -> dict:
    """The nested items mapping from {path: value}; list paths (DLQI's
    answers) become lists in index order."""
    items: dict = {}
    for path, value in values.items():
        *parents, last = path
        node = items
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    for key, node in items.items():
        if isinstance(node, dict) and node and all(isinstance(k, int) for k in node):
            items[key] = [node[index] for index in sorted(node)]
    return items


def describe_layout(code: str) -> str:
    """One line for the API docs: the shape of ``code``'s items and their ranges."""

    def node_text(path_items: list[tuple[tuple, Item]]) -> str:
        heads: dict = {}
        for path, item in path_items:
            heads.setdefault(path[0], []).append((path[1:], item))
        parts = []
        for head, rest in heads.items():
            if isinstance(head, int) and code == "poem":
                return f"[{len(heads)} answers in order, each 0-4, or null (unanswered: at most one)]"
            if isinstance(head, int):
                return (
                    f'[{len(heads)} answers in order, each 0-{rest[0][1].high}, "{NOT_RELEVANT}" (questions '
                    f'{DLQI_NOT_RELEVANT_FROM}-{len(heads)} only), or null (unanswered: at most one); '
                    f'question {DLQI_WORK_QUESTION} is "{DLQI_YES}" or 0-2]'
                )
            if rest == [((), rest[0][1])]:
                item = rest[0][1]
                kind = "an integer " if item.whole else "half points " if item.half else ""
                parts.append(f'"{head}": {kind}0-{item.high}')
            else:
                parts.append(f'"{head}": {node_text(rest)}')
        return "{" + ", ".join(parts) + "}"

    return node_text([(item.path, item) for group in ITEM_LAYOUTS[code] for item in group.items])


def score_items(code: str, items: Mapping, *, age_years: int | None = None) -> Decimal:
    """The score of the instrument ``code`` (one of ``SCORED_CODES``) from its
    items, a mapping with exactly the keys ``ITEM_KEYS[code]``. EASI needs the
    patient's ``age_years``."""
    if code not in ITEM_KEYS:
        raise ValueError(f"{code} is not computed from items; scored instruments are {', '.join(ITEM_CODES)}")
    _exact_keys(f"{code.upper()} items", items, ITEM_KEYS[code])
    if code == "scorad":
        return scorad(**items)
    if code == "easi":
        return easi(regions=items["regions"], age_years=age_years)
    if code == "pasi":
        return pasi(regions=items["regions"])
    if code == "poem":
        return Decimal(poem_score(items["answers"]).total)
    if code == "posas_patient":
        return Decimal(posas_patient(items["answers"], items["overall"]))
    return Decimal(dlqi(items["answers"]))


def percent_change(baseline, value) -> Decimal | None:
    """(value - baseline) / baseline * 100, or None when the baseline is 0."""
    # Every catalogue measure is >= 0, and a negative baseline would flip the sign.
    baseline = _number("baseline", baseline, 0)
    value = _number("value", value, 0)
    if baseline == 0:
        return None
    return _round((value - baseline) / baseline * 100)


def reduction_response(baseline, value, threshold_percent) -> bool:
    """Whether value is at least ``threshold_percent`` below baseline (EASI-75, PASI-90...).

    Compared exactly, not on the rounded percentage, so 74.96 % is not EASI-75.
    A baseline of 0 cannot be reduced, so it is never a response.
    """
    baseline = _number("baseline", baseline, 0)
    value = _number("value", value, 0)
    threshold = _number("threshold percent", threshold_percent, 0, 100)
    if threshold == 0:
        raise ValueError("threshold percent must be above 0 and at most 100, got 0")
    if baseline == 0:
        return False
    # (baseline - value) / baseline * 100 >= threshold, without dividing.
    return (baseline - value) * 100 >= threshold * baseline


def improvement(baseline, value, *, higher_is_better: bool) -> Decimal:
    """How far ``value`` moved from ``baseline`` in the measure's better
    direction (a fall for SCORAD, a rise for hair density)."""
    change = Decimal(value) - Decimal(baseline)
    return change if higher_is_better else -change


def responds(definition: Mapping, *, baseline, value, higher_is_better: bool) -> bool:
    """Whether ``value`` meets a responder definition (``OutcomeMeasure.responders``)
    against ``baseline``:

    - ``percent_reduction``: an improvement of at least ``percent`` % of the
      baseline (EASI-75: a fall of 75 %); a baseline of 0 never responds;
    - ``points_reduction``: an improvement of at least ``points`` (DLQI's 4);
    - ``grade``: at most ``at_most`` and at least ``points`` better (IGA 0/1
      with 2 grades down).
    """
    baseline, value = Decimal(baseline), Decimal(value)
    better = improvement(baseline, value, higher_is_better=higher_is_better)
    kind = definition["kind"]
    if kind == "percent_reduction":
        # better / baseline * 100 >= percent, without dividing (74.96 % is not 75).
        return baseline != 0 and better * 100 >= Decimal(definition["percent"]) * abs(baseline)
    if kind == "points_reduction":
        return better >= Decimal(definition["points"])
    if kind == "grade":
        return value <= Decimal(definition["at_most"]) and better >= Decimal(definition["points"])
    raise ValueError(f"unknown responder kind {kind!r}")
