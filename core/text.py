"""Text rules for every field a person types (SPEC §14, issue 30).

A CR or LF in a name ends up in an email header (a From display name, a
subject) and breaks every message to that person; bidi overrides and
zero-width characters make a name read differently from what it holds
("Anna" and "An\u200bna" are two patients). Single-line fields refuse all
of them; multi-line fields (notes) keep their line breaks and tabs and
refuse the rest. ESC and BEL in a note reach a terminal that tails a log or
an export; an RLO makes a reason read backwards.

The rule lives on the model field (`validators=[single_line]` or
`[multi_line]`), so ModelForms, ModelSerializers and the admin apply it;
plain form and serializer fields name the same validator, and services that
write without full_clean call `check_text`, which reads the field's rule.
"""

import unicodedata
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import get_language, gettext

# Bidirectional embeddings, overrides and isolates (Unicode TR9), and marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Zero-width and invisible joiners/spaces, the word joiner and the BOM.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e")
LINE_BREAKS = frozenset("\n\r")
# Letters that draw nothing (issue 30: U+3164 passed the name check): the
# Hangul fillers. Format characters (Cf: the soft hyphen, tag characters
# U+E0000–U+E007F, and the above) are refused by category.
INVISIBLE_LETTERS = frozenset("\u3164\u115f\u1160\uffa0")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character a field of this kind may not hold, or None."""
    for char in value:
        if multiline and (char in LINE_BREAKS or char == "\t"):
            continue
        if char in BIDI_CONTROLS or char in ZERO_WIDTH or char in INVISIBLE_LETTERS:
            return char
        # Cc: C0/C1 controls (NUL, CR, LF, ESC, DEL…); Cf: invisible format
        # characters (soft hyphen, tags…); Zl/Zp: line and paragraph separators.
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return char
    return None


def describe(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'control character').lower()})"


@deconstructible
class PlainTextValidator:
    """Refuses control, bidi-override and zero-width characters; a multi-line
    validator lets line breaks and tabs through."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        char = forbidden_character(value, multiline=self.multiline)
        if char is not None:
            raise ValidationError(self.message(char), code="forbidden_character")

    def message(self, char: str) -> str:
        if self.multiline:
            text = gettext(
                "This text may not contain %(character)s: control, bidi-override and zero-width characters are "
                "refused (line breaks and tabs are fine)."
            )
        else:
            text = gettext(
                "This single-line text may not contain %(character)s: line breaks, tabs, control, bidi-override "
                "and zero-width characters are refused."
            )
        return text % {"character": describe(char)}

    def __eq__(self, other) -> bool:
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline


single_line = PlainTextValidator()
multi_line = PlainTextValidator(multiline=True)


def text_rule(model, field: str) -> PlainTextValidator | None:
    """The text validator a model field declares (single_line or multi_line), if any."""
    for validator in model._meta.get_field(field).validators:
        if isinstance(validator, PlainTextValidator):
            return validator
    return None


def check_text(model, values: Mapping[str, object], *, names: Mapping[str, str] | None = None) -> None:
    """For services that write text without a form's or a model's full_clean:
    run the rule each model field declares on the value about to be written,
    so every door (API, pages, admin, commands) refuses the same characters.
    `values` is keyed by the model's field names; `names` gives the caller's
    name for a field where it differs (a service's `change_note` is
    BookingChange.note), so the ValidationError names what was sent. Fields
    without a text rule (dates, choices) are passed over, so a service may
    hand its whole input. Only the values given are checked: a row saved
    before the rules existed can still be changed elsewhere."""
    errors: dict[str, list[str]] = {}
    for field, value in values.items():
        rule = text_rule(model, field)
        if rule is None:
            continue
        try:
            rule(value)
        except ValidationError as error:
            errors[(names or {}).get(field, field)] = error.messages
    if errors:
        raise ValidationError(errors)


def header_text(value: str) -> str:
    """A value made safe for an email header: every forbidden character
    becomes a space and runs of spaces one. For rows saved before the rules
    above existed, whose CR/LF would otherwise fail every message."""
    if value.isprintable():
        # No control, format (bidi, zero-width) or line-separator character:
        # nothing to replace, only spaces to tidy. Most names take this path.
        return " ".join(value.split())
    cleaned = "".join(" " if forbidden_character(char) else char for char in value)
    return " ".join(cleaned.split())


# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value for a cell of any CSV export: text a spreadsheet would run as
    a formula gets a leading apostrophe, so it shows as the text it is. That
    includes `+49 30 …` and `-2+3+cmd|' /C calc'!A0`: a digit after the sign
    does not make a cell safe. None is an empty cell; numbers and dates stay
    what they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def in_sentence(label) -> str:
    """A choice's label as it stands inside a sentence: English writes it in
    lower case ("the vertex photograph"), German keeps the capital of its
    nouns ("das Foto Scheitel")."""
    return str(label).lower() if (get_language() or "en").startswith("en") else str(label)
