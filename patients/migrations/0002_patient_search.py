"""Patient search on PostgreSQL (issue 13): `unaccent` and `pg_trgm`, an
IMMUTABLE wrapper of unaccent (the extension's own function is only STABLE,
so it cannot be indexed), and a trigram index over one search text per
patient: names, record number, email and the phone's digits."""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION regimen_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
"""

# Keep this expression identical to patients.selectors.SEARCH_TEXT_SQL: the
# index is used only for the very same expression.
INDEX = r"""
CREATE INDEX IF NOT EXISTS patient_search_trgm ON patients_patient USING gin (
  (regimen_unaccent(lower(last_name || ' ' || first_name || ' ' || record_number || ' ' || email))
   || ' ' || regexp_replace(phone, '[^0-9]', '', 'g')) gin_trgm_ops
);
CREATE INDEX IF NOT EXISTS patient_clinic_birth ON patients_patient (clinic_id, date_of_birth);
"""

DROP = """
DROP INDEX IF EXISTS patient_search_trgm;
DROP INDEX IF EXISTS patient_clinic_birth;
DROP FUNCTION IF EXISTS regimen_unaccent(text);
"""


def create(apps, schema_editor):
    schema_editor.execute(FUNCTION)
    schema_editor.execute(INDEX)


def drop(apps, schema_editor):
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunPython(create, drop),
    ]
