"""Writing many rows at once (SPEC §15): PostgreSQL `COPY` with the column
list derived from the model, and blocks of primary keys reserved up front so
that rows can point at rows written in the same load.

A row is a dict of attribute names (`clinic_id`, not `clinic`) to values.
Every concrete column the dict leaves out gets the model's default (a
callable default is called, `auto_now`/`auto_now_add` take the load's time,
a blank-able text column without a default is ""), so a column added later
with a default needs no change here. Nothing here sends signals or writes
history: callers that need those use the services.
"""

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Mapping

from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone


def _fill(field: models.Field, now: dt.datetime):
    """The value a column takes when the row does not name it."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.default is not NOT_PROVIDED:
        return field.get_default()
    if field.null:
        return None
    if field.empty_strings_allowed:
        return ""
    raise ValueError(f"{field.model.__name__}.{field.attname} has no default; give it in every row.")


def _has_fill(field: models.Field) -> bool:
    try:
        _fill(field, None)
    except ValueError:
        return False
    return True


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys from the table's own sequence, safe beside
    concurrent inserts (each nextval is atomic)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[models.Model], rows: Iterable[Mapping], *, now: dt.datetime | None = None) -> int:
    """COPY `rows` into the model's table; returns how many were written.

    Rows either all carry their primary key (from `reserve_ids`) or none do
    (the sequence then numbers them)."""
    now = now or timezone.now()
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in first)]
    unknown = set(first) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no column(s) {sorted(unknown)}")
    defaults = {f.attname: _fill(f, now) for f in fields if f.attname not in first or _has_fill(f)}
    json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
    names = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"

    def values(row: Mapping) -> tuple:
        out = []
        for name in names:
            if name in row:
                value = row[name]
            elif name in defaults:
                value = defaults[name]
            else:
                raise ValueError(f"{model.__name__}.{name} has no default; give it in every row.")
            if name in json_columns and value is not None:
                value = json.dumps(value)
            out.append(value)
        return tuple(out)

    written = 0
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in itertools.chain([first], rows):
            copy.write_row(values(row))
            written += 1
    return written
