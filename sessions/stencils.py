"""The patient emails' templates rendered once per clinic and shape, then
filled in for each email.

A reminder scan sends the same few templates to many patients of a clinic,
and rendering a Django template cost more than everything else of
composing an email together (docs/benchmarks.md). So a template is rendered
once with a marker where each of the email's own values (its *fields*: the
patient's name, the times, the links) goes, and cut there into a stencil;
an email is the stencil's pieces with its values put in, escaped in HTML as
the template engine escapes them, and as they are in text.

A stencil belongs to a template, a clinic (the values of its columns: a
renamed clinic gets new stencils) and a shape: which fields are there and
which of them are empty, since a template may show a line only when a field
has a value. The templates get the clinic, values that follow from it and
the fields, and nothing else of the email, so a template can only print a
field or test whether it is there, which a stencil reproduces. The first
email of every stencil is rendered the plain way as well and compared: a
template that does more with a field (a filter, a comparison) is rendered
the plain way for that clinic and shape from then on, with a warning.
"""

import html
import logging
import re
import threading

from django.db.models import Model
from django.template.loader import get_template

log = logging.getLogger(__name__)

# A private-use character: no text of ours, no filter and no escaping writes it.
MARK = "\ue000"
FIELD = re.compile(f"{MARK}(\\w+){MARK}")
# Stencils kept per process: clinics × kinds × two formats × a few shapes.
KEPT = 2048

# key -> the pieces (text, field name, text, …, text), or None: render plainly.
_stencils: dict[tuple, list[str] | None] = {}
_UNMADE = object()
_keeping = threading.Lock()  # for a worker that sends from threads


def render(name: str, *, clinic: Model, shared: dict, fields: dict[str, str]) -> str:
    """The template `name` for one email: `shared` the values that follow
    from `clinic`, `fields` the email's own strings."""
    template = get_template(name)
    # A field with a value is only there; an empty one is part of the shape
    # as it is ("" and None print differently).
    shape = tuple((field, True) if value else (field, value) for field, value in fields.items())
    key = (template.template, name, _columns(clinic), shape)
    escaped = name.endswith(".html")  # ours: HTML escapes, text (autoescape off) does not
    pieces = _stencils.get(key, _UNMADE)
    if pieces is _UNMADE:
        pieces = _made(template, name, shared, fields, escaped=escaped)
        with _keeping:
            while len(_stencils) >= KEPT:
                del _stencils[next(iter(_stencils))]  # the oldest
            _stencils[key] = pieces
    if pieces is None:
        return template.render(shared | fields)
    return _filled(pieces, fields, escaped=escaped)


def _made(template, name: str, shared: dict, fields: dict[str, str], *, escaped: bool) -> list[str] | None:
    marked = {field: f"{MARK}{field}{MARK}" if value else value for field, value in fields.items()}
    pieces = FIELD.split(template.render(shared | marked))
    # The check: this email both ways. A marker that is not a field's came
    # from the clinic's own text; it is rendered plainly too.
    named = all(pieces[index] in fields for index in range(1, len(pieces), 2))
    if not named or _filled(pieces, fields, escaped=escaped) != template.render(shared | fields):
        log.warning("template %s does more with a field than print it: rendered for each email", name)
        return None
    return pieces


def _filled(pieces: list[str], fields: dict[str, str], *, escaped: bool) -> str:
    parts = pieces.copy()
    for index in range(1, len(parts), 2):
        value = fields[parts[index]]
        parts[index] = html.escape(value) if escaped else value
    return "".join(parts)


def _columns(instance: Model) -> tuple:
    """The model's loaded column values, in a fixed order (a JSON column's
    list or dict by its repr)."""
    loaded = instance.__dict__
    return (type(instance), *(_hashable(loaded[f.attname]) for f in instance._meta.concrete_fields
                              if f.attname in loaded))


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
