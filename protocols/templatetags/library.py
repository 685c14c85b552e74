"""`{{ step.name|shown }}`: a standard library text in the reader's language,
what staff typed as it is (protocols.library.shown)."""

from django import template

from protocols import library

register = template.Library()


@register.filter
def shown(text):
    return library.shown(text) if isinstance(text, str) else text
