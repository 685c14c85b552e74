"""create_clinic, create_staff and load_protocol_library, through call_command
(and once through manage.py, to see an error and no traceback)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from clinics.models import Clinic, OpeningHours, Role, User
from protocols.library import EDITION, MEASURES, PROTOCOLS
from protocols.models import OutcomeMeasure, Protocol, Step
from tests.db import database_url
from tests.factories import ClinicFactory

ROOT = Path(__file__).resolve().parents[2]
LIBRARY_KEYS = {spec["key"] for spec in PROTOCOLS}


def library_counts():
    return (
        OutcomeMeasure.objects.count(),
        Protocol.objects.count(),
        Step.objects.count(),
        Step.measures.through.objects.count(),
        Protocol.history.count(),
    )


# --- create_clinic ---------------------------------------------------------------------------


def test_create_clinic_makes_a_clinic_with_the_eight_protocols(run):
    out = run("create_clinic", "Charité Skin", "--slug", "charite", "--timezone", "Europe/Berlin",
              "--sender-email", "desk@charite.example")

    clinic = Clinic.objects.get(slug="charite")
    assert (clinic.name, clinic.timezone, clinic.sender_email) == ("Charité Skin", "Europe/Berlin", "desk@charite.example")
    assert set(clinic.protocols.filter(is_current=True).values_list("library_key", flat=True)) == LIBRARY_KEYS
    assert OutcomeMeasure.objects.count() == len(MEASURES)
    assert sorted(OpeningHours.objects.filter(clinic=clinic).values_list("weekday", flat=True)) == [0, 1, 2, 3, 4]
    assert "8 standard protocols" in out


def test_create_clinic_takes_the_slug_from_the_name(run):
    run("create_clinic", "Hautzentrum Mitte", "--timezone", "America/New_York")
    clinic = Clinic.objects.get(slug="hautzentrum-mitte")
    assert (clinic.timezone, clinic.language) == ("America/New_York", "en")  # English unless asked


def test_create_clinic_with_the_language_it_writes_to_patients_in(run):
    run("create_clinic", "Hautpraxis Pankow", "--timezone", "Europe/Berlin", "--language", "de")
    assert Clinic.objects.get(slug="hautpraxis-pankow").language == "de"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Derm", "--slug", "derm", "--timezone", "Mars/Olympus_Mons"], "not an IANA time zone"),
        (["Derm", "--slug", "derm", "--timezone", ""], "IANA time zone"),
        (["Derm", "--slug", "not a slug!", "--timezone", "Europe/Berlin"], "slug"),
        (["   ", "--slug", "derm", "--timezone", "Europe/Berlin"], "NAME must not be empty"),
        (["Derm", "--slug", "derm", "--timezone", "Europe/Berlin", "--sender-email", "nope"], "sender_email"),
    ],
)
def test_create_clinic_refuses_bad_arguments_and_creates_nothing(run, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_clinic", *args)
    assert not Clinic.objects.exists()
    assert not Protocol.objects.exists()


def test_create_clinic_refuses_a_taken_slug(run):
    run("create_clinic", "Derm", "--slug", "derm", "--timezone", "Europe/Berlin")
    with pytest.raises(CommandError, match="slug 'derm' exists"):
        run("create_clinic", "Other Derm", "--slug", "derm", "--timezone", "Europe/Paris")
    assert Clinic.objects.get(slug="derm").name == "Derm"
    assert Protocol.objects.count() == len(PROTOCOLS)


@pytest.mark.django_db
def test_manage_py_reports_bad_input_without_a_traceback():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url(),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "create_clinic", "Derm", "--slug", "derm", "--timezone", "Mars/Olympus_Mons",
         "--skip-checks"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "CommandError: --timezone: 'Mars/Olympus_Mons' is not an IANA time zone such as Europe/Berlin." in result.stderr
    assert "Traceback" not in result.stderr


# --- create_staff ----------------------------------------------------------------------------


@pytest.fixture
def derm(db):
    return ClinicFactory(slug="derm")


def test_create_staff_makes_a_user_of_the_clinic(run, derm):
    out = run("create_staff", "lena", "--clinic", "derm", "--role", "clinician", "--password", "s3cret-enough",
              "--first-name", "Lena", "--last-name", "Weber", "--email", "lena@derm.example")

    user = User.objects.get(username="lena")
    assert (user.clinic, user.role, user.get_full_name(), user.email) == (derm, Role.CLINICIAN, "Lena Weber", "lena@derm.example")
    assert user.check_password("s3cret-enough")
    assert not user.is_staff and not user.is_superuser
    assert "Created clinician 'lena'" in out


def test_a_manager_may_use_the_admin(run, derm):
    run("create_staff", "max", "--clinic", "derm", "--role", "manager", "--password", "s3cret-enough")
    manager = User.objects.get(username="max")
    assert manager.is_staff and not manager.is_superuser and manager.has_role(Role.MANAGER)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ann", "--clinic", "nowhere", "--role", "reception", "--password", "s3cret-enough"], "No clinic with slug 'nowhere'"),
        (["ann", "--clinic", "derm", "--role", "doctor", "--password", "s3cret-enough"], "Unknown role 'doctor'"),
        (["ann", "--clinic", "derm", "--role", "reception", "--password", "short"], "--password"),
        (["ann smith!", "--clinic", "derm", "--role", "reception", "--password", "s3cret-enough"], "Username"),
        (["ann", "--clinic", "derm", "--role", "reception", "--password", "s3cret-enough", "--email", "ann@"], "--email"),
    ],
)
def test_create_staff_refuses_bad_arguments(run, derm, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_staff", *args)
    assert not User.objects.exists()


def test_create_staff_refuses_a_taken_username(run, derm):
    run("create_staff", "ann", "--clinic", "derm", "--role", "reception", "--password", "s3cret-enough")
    with pytest.raises(CommandError, match="User 'ann' exists"):
        run("create_staff", "ann", "--clinic", "derm", "--role", "manager", "--password", "other-s3cret")
    ann = User.objects.get(username="ann")
    assert ann.role == Role.RECEPTION and ann.check_password("s3cret-enough")


# --- load_protocol_library -------------------------------------------------------------------


def test_load_protocol_library_gives_every_clinic_the_library_once(run):
    first, second = ClinicFactory(slug="first"), ClinicFactory(slug="second")

    out = run("load_protocol_library")

    assert OutcomeMeasure.objects.count() == len(MEASURES) == 29  # with POEM and PGIC (SPEC §17)
    for clinic in (first, second):
        assert set(clinic.protocols.values_list("library_key", flat=True)) == LIBRARY_KEYS
        assert clinic.protocols.count() == len(PROTOCOLS) == 8
        assert set(clinic.protocols.values_list("library_edition", flat=True)) == {EDITION}
    assert f"Outcome measures: {len(MEASURES)} created or updated" in out
    assert f"added or gave a new version to 8 of the 8 standard protocols (edition {EDITION})" in out

    before = library_counts()
    again = run("load_protocol_library")
    assert library_counts() == before
    assert "Outcome measures: 0 created or updated" in again
    assert "Nothing changed." in again


def test_load_protocol_library_without_clinics_loads_the_catalogue(run):
    out = run("load_protocol_library")
    assert OutcomeMeasure.objects.count() == len(MEASURES)
    assert not Protocol.objects.exists()
    assert "No clinic yet" in out


def test_load_protocol_library_restores_an_edited_catalogue_entry(run):
    run("load_protocol_library")
    OutcomeMeasure.objects.filter(code="hair_density").update(max_value=5)
    out = run("load_protocol_library")
    assert OutcomeMeasure.objects.get(code="hair_density").max_value == 600
    assert "Outcome measures: 1 created or updated" in out
