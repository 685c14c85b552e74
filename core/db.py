"""A statement sent to PostgreSQL without waiting for its result.

The reminder outbox marks each row `sent` right after its message and must
know the mark has committed before the next message can be delivered; in
between, the SMTP conversation and the mark's round trip to PostgreSQL can
run at the same time instead of one after the other (docs/benchmarks.md).
libpq's asynchronous call (PQsendQueryParams) does this on Django's own
connection, so the statement belongs to whatever transaction is open there
and commits by itself in autocommit. Other databases (SQLite for `make run`)
run the statement at once.
"""

import contextlib
import datetime as dt
import functools
import re
import select

from django.db import DEFAULT_DB_ALIAS, connections

PLACEHOLDER = re.compile(r"%s")


class Unawaited:
    """At most one statement in flight on a connection. `send` hands it to
    the server and returns; `wait` (or the next `send`) reads its result and
    raises its error as Django's database errors. Use it as a context
    manager: inside, any other query on the connection waits for the
    statement first, and the exit waits for the last one. Opening a
    transaction is not a query: call `wait` before `atomic()`. A statement that
    failed fails every later `wait` too, so that nothing goes on as if it
    had been done."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS):
        self.connection = connections[using]
        self.in_flight = False
        self.failure: Exception | None = None
        self._wrapping = self.connection.execute_wrapper(self._wait_first)

    def __enter__(self) -> "Unawaited":
        self._wrapping.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._wrapping.__exit__(*exc)
        if exc[0] is None:
            self.wait()
        elif self.in_flight:
            # Leaving on an error: read the result all the same, so that the
            # connection is free for the next query; the first error stands.
            with contextlib.suppress(Exception):
                self.wait()

    def _wait_first(self, execute, sql, params, many, context):
        self.wait()
        return execute(sql, params, many, context)

    def send(self, sql: str, params: list) -> None:
        """`sql` with %s placeholders, as Django's cursors take it."""
        self.wait()
        if self.connection.vendor != "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params)
            return
        self.connection.ensure_connection()
        pgconn = self.connection.connection.pgconn
        with self.connection.wrap_database_errors:
            pgconn.send_query_params(_numbered(sql), [_text(value) for value in params])
            # In libpq's (default) blocking mode the call has written the
            # query out; flush() confirms nothing is left in its buffer.
            while pgconn.flush():
                _wait_for(pgconn.socket, select.POLLOUT)
        self.in_flight = True

    def wait(self) -> None:
        if self.failure is not None:
            raise self.failure
        if not self.in_flight:
            return
        self.in_flight = False
        try:
            with self.connection.wrap_database_errors:
                self._result()
        except Exception as error:
            self.failure = error
            raise

    def _result(self) -> None:
        from psycopg import errors, pq

        pgconn = self.connection.connection.pgconn
        pgconn.consume_input()
        while pgconn.is_busy():
            _wait_for(pgconn.socket, select.POLLIN)
            pgconn.consume_input()
        failure = None
        while (result := pgconn.get_result()) is not None:
            if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK) and failure is None:
                failure = errors.error_from_result(result, encoding=self.connection.connection.info.encoding)
        if failure is not None:
            raise failure


@functools.lru_cache(maxsize=16)
def _numbered(sql: str) -> bytes:
    """The statement with libpq's $1, $2, … for Django's %s (written once
    per statement, not once per email)."""
    numbered = iter(range(1, sql.count("%s") + 1))
    return PLACEHOLDER.sub(lambda _: f"${next(numbered)}", sql).encode()


def _wait_for(fd: int, event: int) -> None:
    """Block until the socket is ready (poll, unlike select, takes any fd)."""
    poller = select.poll()
    poller.register(fd, event)
    poller.poll()


def _text(value) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat().encode()
    return str(value).encode()
