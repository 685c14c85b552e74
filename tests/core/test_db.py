"""core/db.py: a statement sent without waiting, on Django's connection to
the real PostgreSQL."""

import pytest
from django.db import DataError, connection

from clinics.models import Clinic
from core.db import Unawaited

pytestmark = pytest.mark.django_db

RENAME = "UPDATE clinics_clinic SET name = %s WHERE id = %s"


def test_a_statement_runs_without_being_waited_for_and_its_effect_is_seen_after_the_wait(clinic, other_clinic):
    with Unawaited() as marks:
        marks.send(RENAME, ["L'été 100 % Clinic", clinic.pk])
        assert marks.in_flight
        marks.wait()
        assert not marks.in_flight
        marks.send(RENAME, ["Second", other_clinic.pk])
    # The exit waited for the second: the connection is free and both rows changed.
    assert dict(Clinic.objects.filter(pk__in=[clinic.pk, other_clinic.pk]).values_list("pk", "name")) == {
        clinic.pk: "L'été 100 % Clinic", other_clinic.pk: "Second"}


def test_a_query_inside_waits_for_the_statement_first(clinic):
    with Unawaited() as marks:
        marks.send(RENAME, ["Renamed", clinic.pk])
        # Without the wait the connection would still be busy with the UPDATE.
        assert Clinic.objects.get(pk=clinic.pk).name == "Renamed"
        assert not marks.in_flight


def test_a_failed_statement_raises_on_every_later_wait_and_its_result_is_read(clinic):
    marks = Unawaited()
    with pytest.raises(DataError, match="invalid input syntax"), marks:
        marks.send(RENAME, ["Renamed", "not a number"])
        with pytest.raises(DataError):
            marks.wait()
        marks.wait()  # the same error again: nothing goes on as if it had been done
    # Nothing is left unread on the connection: it is idle in the (failed) test transaction.
    from psycopg import pq

    assert connection.connection.pgconn.transaction_status == pq.TransactionStatus.INERROR
