"""Helpers shared by the API's resources (the base classes they build on are
core.api's)."""

from rest_framework import negotiation, serializers

from protocols.library import shown


class FirstRendererNegotiation(negotiation.BaseContentNegotiation):
    """A file answer (a calendar, a photo, a CSV) in its own type whatever the
    Accept header says, and its errors as JSON: no 406 for a calendar client
    that asks for text/calendar."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ShownField(serializers.CharField):
    """Read-only text that may be one of the standard library's (a protocol,
    step or measure name, a unit): in the reader's language when it is, as
    stored when staff typed it (protocols.library.shown, SPEC §20)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return shown(super().to_representation(value))
