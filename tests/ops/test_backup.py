"""docs/operations.md's backup and restore, done for real: pg_dump a
database holding the demo, pg_restore it into a fresh database, and find
the same rows in every table."""

import io
import shutil
import subprocess

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.db import conninfo

pytestmark = pytest.mark.django_db(transaction=True)


def _conninfo(name: str) -> dict:
    return conninfo(name)


def _env(info: dict) -> dict:
    import os

    return {**os.environ, "PGHOST": info["host"], "PGPORT": info["port"], "PGUSER": info["user"],
            "PGPASSWORD": info["password"]}


def _counts(info: dict) -> dict[str, int]:
    tables = sorted({m._meta.db_table for m in apps.get_models()})
    with psycopg.connect(**info) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_dump_and_restore_keeps_every_row(tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        assert shutil.which(tool), f"{tool} is needed (Debian: apt-get install postgresql-client)"
    with override_settings(DEBUG=True):
        call_command("load_protocol_library", verbosity=0)
        call_command("load_demo", stdout=io.StringIO())
    source = _conninfo(connection.settings_dict["NAME"])
    target = {**source, "dbname": source["dbname"] + "_restored"}
    dump = tmp_path / "regimen.dump"
    # As in docs/operations.md: a custom-format dump, restored into an empty database.
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), source["dbname"]],
                   env=_env(source), check=True, timeout=300)
    with psycopg.connect(**{**source, "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target["dbname"]}"')
        admin.execute(f'CREATE DATABASE "{target["dbname"]}"')
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", target["dbname"], str(dump)],
                       env=_env(source), check=True, timeout=300)
        before, after = _counts(source), _counts(target)
        assert after == before
        assert before["patients_patient"] > 0 and before["treatment_sessions_session"] > 0
        # The audit log stays append-only after a restore.
        with psycopg.connect(**target) as conn, pytest.raises(psycopg.errors.RaiseException):
            conn.execute("DELETE FROM audit_auditevent")
    finally:
        with psycopg.connect(**{**source, "dbname": "postgres"}, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target["dbname"]}" WITH (FORCE)')
