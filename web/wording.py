"""Small helpers for words the staff pages put into sentences."""

from django.utils.translation import get_language


def in_sentence(label: str) -> str:
    """A choice's label as it stands inside a sentence: English writes it in
    lower case ("the vertex photograph"), German keeps the capital of its
    nouns ("das Foto Scheitel")."""
    return str(label).lower() if (get_language() or "en").startswith("en") else str(label)
