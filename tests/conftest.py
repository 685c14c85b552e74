import pytest
from rest_framework.test import APIClient

from clinics.models import Role
from tests.factories import ClinicFactory, PatientFactory, UserFactory, lot_of, make_protocol


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: LocaleMiddleware leaves
    the last request's language active in the thread (a German request
    would otherwise make the next test's messages German)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Charité Skin", slug="charite", timezone="Europe/Berlin")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Elsewhere Derm", slug="elsewhere", timezone="America/New_York")


@pytest.fixture
def receptionist(clinic):
    return UserFactory(clinic=clinic, role=Role.RECEPTION, username="rita")


@pytest.fixture
def clinician(clinic):
    return UserFactory(clinic=clinic, role=Role.CLINICIAN, username="claire")


@pytest.fixture
def manager(clinic):
    return UserFactory(clinic=clinic, role=Role.MANAGER, username="max")


@pytest.fixture
def outsider(other_clinic):
    """A manager of another clinic: sees none of ours."""
    return UserFactory(clinic=other_clinic, role=Role.MANAGER, username="otto")


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Hanna", last_name="Weber")


@pytest.fixture
def lot(clinic):
    """A lot of the clinic's secretome, usable until 2030."""
    return lot_of(clinic)


@pytest.fixture
def hair_protocol(clinic):
    return make_protocol(clinic)


def pytest_sessionstart(session):
    """The German catalogue compiled when it is newer than its .mo (`make
    test` compiles it too): a bare pytest run must not test stale German."""
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    for po in Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            call_command("compilemessages", verbosity=0, ignore_patterns=[".venv", "var", ".git", "node_modules"])
            return


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: a test that needs a server must
    fail when the server is missing, never quietly not run."""
    import os

    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        reporter.write_line(f"CI=true: {skipped} skipped test(s) count as failures", red=True)
        session.exitstatus = 1


@pytest.fixture
def client_as():
    """client_as(user) is an API client acting as that user; client_as(None) is anonymous."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
