"""Issue 24: an audit log a manager can read — who, what in words, when,
from where, a correction's reason; filters by staff member, patient name
and action; only successful reads logged."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from sessions import services
from sessions.models import OutcomeMeasurement
from tests.factories import PatientFactory, make_protocol, step
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def rows_text(page) -> str:
    html = page.content.decode()
    return html[html.index("<table class=\"audit\">"):html.index("</table>")]


def test_the_log_says_who_did_what_in_words(manager, receptionist, patient, client):
    desk = Client(REMOTE_ADDR="203.0.113.9")
    login(desk, receptionist)
    desk.get(reverse("patient_detail", args=[patient.pk]))
    boss = login(Client(), manager)
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    assert api.get("/api/v1/exports/outcomes.csv").status_code == 200
    table = rows_text(boss.get(reverse("audit_log")))
    assert "Read Hanna Weber&#x27;s record" in table or "Read Hanna Weber's record" in table
    assert "Exported the outcomes CSV" in table
    assert receptionist.display_name in table and manager.display_name in table
    assert "203.0.113.9" in table
    assert f"#{patient.pk}" not in table


def test_filters_by_staff_member_patient_name_and_action(manager, receptionist, clinician, patient, clinic):
    other = PatientFactory(clinic=clinic, first_name="Jürgen", last_name="Müller")
    login(Client(), receptionist).get(reverse("patient_detail", args=[patient.pk]))
    login(Client(), clinician).get(reverse("patient_detail", args=[other.pk]))
    boss = login(Client(), manager)
    page = boss.get(reverse("audit_log"))
    html = page.content.decode()
    assert 'name="staff"' in html and 'name="patient_name"' in html and 'name="action"' in html
    assert 'name="user"' not in html and 'name="object_type"' not in html
    by_staff = rows_text(boss.get(reverse("audit_log"), {"staff": clinician.pk, "action": "view"}))
    assert "Müller" in by_staff and "Hanna Weber" not in by_staff
    by_name = rows_text(boss.get(reverse("audit_log"), {"patient_name": "muller"}))
    assert "Müller" in by_name and "Hanna Weber" not in by_name
    assert boss.get(reverse("audit_log"), {"staff": "nobody"}).status_code == 200  # a bad filter is shown, not a 500


def test_a_correction_shows_its_reason(manager, clinician, receptionist, patient, clinic):
    protocol = make_protocol(clinic, name="One", steps=[step("Baseline assessment", "assessment",
                                                             measures=["hair_density"])])
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    session = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow,
                                     by=receptionist).sessions.get()
    start = dt.datetime.combine(tomorrow, dt.time(10), tzinfo=clinic.tz)
    session = services.book_session(session=session, start=start, practitioner=clinician, by=receptionist)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        services.complete_session(session=session, by=clinician, outcomes=[{"measure": "hair_density", "value": 190}])
    measurement = OutcomeMeasurement.objects.get(session=session)
    with time_machine.travel(start + dt.timedelta(hours=2), tick=False):
        login(Client(), clinician).post(reverse("outcome_correct", args=[measurement.pk]),
                                        {"measure_hair_density": "119", "reason": "Typo: 119 not 190"})
    assert OutcomeMeasurement.objects.get(pk=measurement.pk).value == 119
    table = rows_text(login(Client(), manager).get(reverse("audit_log"), {"patient_name": "Weber"}))
    assert "Corrected an outcome of Hanna Weber" in table, table
    assert "Typo: 119 not 190" in table


def test_only_successful_report_reads_are_logged(manager):
    boss = login(Client(), manager)
    with mock.patch("web.reports.cohort_report", side_effect=RuntimeError("boom")), pytest.raises(RuntimeError):
        boss.get(reverse("report_cohort"))
    assert not AuditEvent.objects.filter(action=Action.REPORT).exists()
    assert boss.get(reverse("report_cohort")).status_code == 200
    assert AuditEvent.objects.filter(action=Action.REPORT).count() == 1
