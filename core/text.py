"""Text rules for names and other single-line fields (SPEC §14).

A CR or LF in a name ends up in an email header (a From display name, a
subject) and breaks every message to that person; bidi overrides and
zero-width characters make a name read differently from what it holds
("Anna" and "An\u200bna" are two patients). Single-line fields refuse all
of them; multi-line fields (notes) keep their line breaks and tabs and
refuse the rest.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import get_language

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
            kind = "This text" if self.multiline else "This single-line text"
            raise ValidationError(
                f"{kind} may not contain {describe(char)}: control, bidi-override and zero-width characters "
                "are refused.",
                code="forbidden_character",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, PlainTextValidator) and other.multiline == self.multiline


single_line = PlainTextValidator()
multi_line = PlainTextValidator(multiline=True)


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
