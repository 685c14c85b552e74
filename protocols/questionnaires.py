"""What a patient reads and answers in the questionnaire before a visit
(SPEC §17, clinical/instruments.md "Patient-reported measures").

The product ships the wording of the instruments that are free to
reproduce (POEM, the peak itch NRS, the POSAS patient scale, PGIC), English
in the source and German through the gettext catalogue. DLQI's wording is
licensed (Cardiff University): the clinic's manager enters it per language
(`InstrumentWording`), and until then the questionnaire leaves DLQI out.

Answers are kept as the page posts them, by question key ("0", "1" ...,
"overall"), and turned into a value or a scored instrument's items here;
protocols.outcome_values checks and scores them as it does staff's.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.languages import Language
from core.text import check_text, single_line

from . import instruments
from .models import InstrumentWording

# The languages a licensed wording may be entered in: every language of the product (SPEC §20).
WORDING_LANGUAGES = tuple(Language.values)
LICENSED = ("dlqi",)
# The order of the instruments on the page.
ORDER = ("poem", "itch_nrs", "dlqi", "posas_patient", "pgic")
# The DLQI answer labels a manager enters with the questions.
DLQI_ANSWER_KEYS = ("very_much", "a_lot", "a_little", "not_at_all", "not_relevant", "yes", "no")


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]  # (answer as posted, label)
    optional: bool = False  # may be left unanswered (the instrument's own rules say how many)


@dataclass(frozen=True)
class Instrument:
    code: str
    title: str
    instructions: str
    questions: tuple[Question, ...]
    attribution: str = ""


def language_of(code: str | None) -> str:
    """The wording language for a language code ("de-at" → "de"), else English."""
    short = (code or settings.LANGUAGE_CODE or "en")[:2].lower()
    return short if short in WORDING_LANGUAGES else "en"


_DAYS = (
    ("0", pgettext_lazy("POEM answer", "No days")),
    ("1", pgettext_lazy("POEM answer", "1–2 days")),
    ("2", pgettext_lazy("POEM answer", "3–4 days")),
    ("3", pgettext_lazy("POEM answer", "5–6 days")),
    ("4", pgettext_lazy("POEM answer", "Every day")),
)
_POEM_QUESTIONS = (
    _("Over the last week, on how many days has your skin been itchy because of your eczema?"),
    _("Over the last week, on how many nights has your sleep been disturbed because of your eczema?"),
    _("Over the last week, on how many days has your skin been bleeding because of your eczema?"),
    _("Over the last week, on how many days has your skin been weeping or oozing clear fluid because of your eczema?"),
    _("Over the last week, on how many days has your skin been cracked because of your eczema?"),
    _("Over the last week, on how many days has your skin been flaking off because of your eczema?"),
    _("Over the last week, on how many days has your skin felt dry or rough because of your eczema?"),
)
_POSAS_QUESTIONS = (
    _("Has the scar been painful in the past few weeks?"),
    _("Has the scar been itching in the past few weeks?"),
    _("Is the colour of the scar different from your normal skin at present?"),
    _("Is the stiffness of the scar different from your normal skin at present?"),
    _("Is the thickness of the scar different from your normal skin at present?"),
    _("Is the scar more irregular than your normal skin at present?"),
)


def _scale(low: int, high: int, low_label, high_label) -> tuple[tuple[str, str], ...]:
    """A numeric rating scale: each number a choice, the ends labelled."""
    choices = []
    for n in range(low, high + 1):
        label = str(n)
        if n == low:
            label = f"{n} – {low_label}"
        elif n == high:
            label = f"{n} – {high_label}"
        choices.append((str(n), label))
    return tuple(choices)


def _poem() -> Instrument:
    return Instrument(
        "poem",
        _("Your eczema over the last week (POEM)"),
        _("Please choose one answer for each of the seven questions. If you cannot answer one, you may leave one "
          "question out."),
        tuple(Question(str(i), text, _DAYS, optional=True) for i, text in enumerate(_POEM_QUESTIONS)),
        _("Patient-Oriented Eczema Measure (POEM) © University of Nottingham."),
    )


def _itch() -> Instrument:
    return Instrument(
        "itch_nrs",
        _("Your itch in the last 24 hours"),
        _("Please choose one number."),
        (
            Question(
                "0",
                _("How would you rate your itch at its worst in the last 24 hours, from 0 (no itch) to 10 (worst "
                  "itch imaginable)?"),
                _scale(0, 10, _("no itch"), _("worst itch imaginable")),
            ),
        ),
    )


def _posas() -> Instrument:
    ends = (_("no, not at all"), _("yes, very much"))
    return Instrument(
        "posas_patient",
        _("Your scar (POSAS patient scale)"),
        _("Please compare your scar with your normal skin and choose a number from 1 (as normal skin) to 10 "
          "(very different) for each question."),
        (
            *(Question(str(i), text, _scale(1, 10, *ends)) for i, text in enumerate(_POSAS_QUESTIONS)),
            Question(
                "overall",
                _("What is your overall opinion of the scar compared with normal skin?"),
                _scale(1, 10, _("as normal skin"), _("very different")),
                optional=True,
            ),
        ),
        _("Patient and Observer Scar Assessment Scale (POSAS), patient scale, by the POSAS group."),
    )


_PGIC_CHOICES = (
    ("1", _("Very much improved")),
    ("2", _("Much improved")),
    ("3", _("Minimally improved")),
    ("4", _("No change")),
    ("5", _("Minimally worse")),
    ("6", _("Much worse")),
    ("7", _("Very much worse")),
)


def _pgic() -> Instrument:
    return Instrument(
        "pgic",
        _("How your skin has changed"),
        _("Please choose the one answer that fits best."),
        (
            Question(
                "0",
                _("Since the start of your treatment, how would you describe the change (if any) in the condition "
                  "being treated?"),
                _PGIC_CHOICES,
            ),
        ),
    )


def _dlqi(wording: InstrumentWording) -> Instrument:
    labels = wording.answers
    scale = [(str(n), labels.get(key, "")) for n, key in zip((3, 2, 1, 0), DLQI_ANSWER_KEYS[:4], strict=True)]
    not_relevant = (instruments.NOT_RELEVANT, labels.get("not_relevant", ""))
    no = labels.get("no", "")
    work = (
        (instruments.DLQI_YES, labels.get("yes", "")),
        *((str(n), f"{no}: {labels.get(key, '')}") for n, key in zip((2, 1, 0), DLQI_ANSWER_KEYS[1:4], strict=True)),
        not_relevant,
    )
    questions = []
    for index, text in enumerate(wording.questions[: instruments.DLQI_QUESTIONS]):
        number = index + 1
        if number == instruments.DLQI_WORK_QUESTION:
            choices = work
        elif number >= instruments.DLQI_NOT_RELEVANT_FROM:
            choices = (*scale, not_relevant)
        else:
            choices = tuple(scale)
        questions.append(Question(str(index), text, tuple(choices), optional=True))
    return Instrument(
        "dlqi",
        _("Dermatology Life Quality Index (DLQI)"),
        wording.instructions,
        tuple(questions),
        "© Dermatology Life Quality Index. A Y Finlay, G K Khan, April 1992.",
    )


def wording_complete(wording: InstrumentWording | None) -> bool:
    return (
        wording is not None
        and len(wording.questions) == instruments.DLQI_QUESTIONS
        and all(str(q).strip() for q in wording.questions)
        and all(str(wording.answers.get(key, "")).strip() for key in DLQI_ANSWER_KEYS)
    )


def licensed_wording(clinic_id: int, code: str, language: str) -> InstrumentWording | None:
    wording = InstrumentWording.objects.filter(clinic_id=clinic_id, code=code, language=language_of(language)).first()
    return wording if wording_complete(wording) else None


def instrument(code: str, *, clinic_id: int, language: str) -> Instrument | None:
    """The instrument as the patient reads it in `language`, or None when
    its licensed wording has not been entered for that language."""
    if code == "dlqi":
        wording = licensed_wording(clinic_id, code, language)
        return _dlqi(wording) if wording else None
    return {"poem": _poem, "itch_nrs": _itch, "posas_patient": _posas, "pgic": _pgic}[code]()


def known(code: str) -> bool:
    return code in ORDER


def parse_answer(question: Question, raw) -> object:
    """A posted answer as stored: an integer, or a word answer ("not_relevant",
    "yes"); ValueError when it is not one of the question's choices."""
    raw = "" if raw is None else str(raw).strip()
    if raw == "":
        return None
    if raw not in {value for value, _label in question.choices}:
        raise ValueError(raw)
    return int(raw) if raw.lstrip("-").isdigit() else raw


def as_outcome(code: str, answers: dict) -> dict:
    """The outcome the answers make, for protocols.outcome_values: a value,
    or a scored instrument's items."""
    if code in ("itch_nrs", "pgic"):
        return {"measure": code, "value": answers.get("0")}
    if code == "posas_patient":
        return {
            "measure": code,
            "items": {"answers": [answers.get(str(i)) for i in range(instruments.POSAS_PATIENT_ITEMS)],
                      "overall": answers.get("overall")},
        }
    count = instruments.POEM_QUESTIONS if code == "poem" else instruments.DLQI_QUESTIONS
    return {"measure": code, "items": {"answers": [answers.get(str(i)) for i in range(count)]}}


def answers_from_outcome(code: str, value, items) -> dict:
    """The page's answers from a recorded value (to show or change it)."""
    if items is None:
        return {"0": int(value)} if value is not None else {}
    answers = {str(i): a for i, a in enumerate(items.get("answers", []))}
    if code == "posas_patient":
        answers["overall"] = items.get("overall")
    return {key: a for key, a in answers.items() if a is not None}


# --- The manager enters the licensed wording ------------------------------------------------------------


def wording_of(clinic_id: int, code: str, language: str) -> InstrumentWording | None:
    return InstrumentWording.objects.filter(clinic_id=clinic_id, code=code, language=language).first()


def set_wording(*, clinic, code: str, language: str, instructions: str, questions, answers, by) -> InstrumentWording:
    """The clinic's licensed wording of `code` in `language` (manager only):
    the ten DLQI questions in order and its seven answer labels, each
    non-empty. A ValidationError names the field."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from clinics.models import Role

    if not by.has_role(Role.MANAGER) or by.clinic_id != clinic.pk:
        raise PermissionDenied(_("Only the clinic's manager may enter licensed wording."))
    if code not in LICENSED:
        raise ValidationError({"code": [_("Only DLQI has licensed wording to enter.")]})
    if language not in WORDING_LANGUAGES:
        raise ValidationError({"language": [_("Choose one of: %(languages)s.") % {"languages": ", ".join(WORDING_LANGUAGES)}]})
    questions = [str(q).strip() for q in (questions or [])]
    if len(questions) != instruments.DLQI_QUESTIONS or not all(questions):
        raise ValidationError({"questions": [_("Give the ten DLQI questions in order, none empty.")]})
    answers = {key: str((answers or {}).get(key, "")).strip() for key in DLQI_ANSWER_KEYS}
    if missing := [key for key, label in answers.items() if not label]:
        raise ValidationError({"answers": [_("Give every answer label; missing: %(keys)s.") % {"keys": ", ".join(missing)}]})
    # The text rules of issue 30: the instructions may run over lines; each
    # question and answer label is one line without control or bidi characters.
    check_text(InstrumentWording, {"instructions": instructions or ""})
    for field, texts in (("questions", questions), ("answers", list(answers.values()))):
        for text in texts:
            try:
                single_line(text)
            except ValidationError as error:
                raise ValidationError({field: error.messages}) from None
    wording, _created = InstrumentWording.objects.update_or_create(
        clinic=clinic, code=code, language=language,
        defaults={"instructions": (instructions or "").strip(), "questions": questions, "answers": answers,
                  "updated_by": by},
    )
    return wording
