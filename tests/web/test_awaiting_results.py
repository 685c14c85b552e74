"""Issue 13: visits that took place but were never completed are listed
(due list, navigation count, API filter), and "Complete" is offered only
where the session can be completed now."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from sessions import services
from sessions.models import SessionStatus
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(clinician):
    return login(Client(), clinician)


def test_a_future_booking_is_not_awaiting_results_and_offers_no_complete(doc, booked):
    due = doc.get(reverse("due"))
    assert due.context["awaiting"] == []
    assert "awaiting results" not in due.content.decode()
    page = doc.get(reverse("patient_detail", args=[booked.patient_id])).content.decode()
    assert reverse("session_complete", args=[booked.pk]) not in page
    manage = doc.get(reverse("session_book", args=[booked.pk])).content.decode()
    assert reverse("session_complete", args=[booked.pk]) not in manage


def test_the_complete_page_of_a_future_visit_says_why_and_locks_the_form(doc, booked):
    page = doc.get(reverse("session_complete", args=[booked.pk])).content.decode()
    assert "Not yet: A booked session can be completed only from its booked start on." in page
    assert '<fieldset class="plain" disabled aria-describedby="not-yet">' in page
    with time_machine.travel(booked.start, tick=False):
        page = doc.get(reverse("session_complete", args=[booked.pk])).content.decode()
    assert "Not yet" not in page and '<fieldset class="plain">' in page


def test_a_visit_17_days_ago_is_listed_with_a_count_in_the_navigation(clinician, booked):
    with time_machine.travel(booked.start + dt.timedelta(days=17), tick=False):
        doc = login(Client(), clinician)  # a fresh login: 17 days outlive a staff session
        due = doc.get(reverse("due"))
        assert [s.pk for s in due.context["awaiting"]] == [booked.pk]
        html = due.content.decode()
        assert '1<span class="visually-hidden"> awaiting results</span>' in html
        assert reverse("session_complete", args=[booked.pk]) in html
        # Every staff page's navigation shows the count.
        agenda = doc.get(reverse("agenda") + "?date=2020-01-01").content.decode()
        assert '1<span class="visually-hidden"> awaiting results</span>' in agenda
        page = doc.get(reverse("patient_detail", args=[booked.patient_id])).content.decode()
        assert reverse("session_complete", args=[booked.pk]) in page
        assert doc.get(reverse("session_complete", args=[booked.pk])).status_code == 200


def test_a_receptionist_sees_the_list_without_complete(client, receptionist, booked):
    with time_machine.travel(booked.start + dt.timedelta(days=2), tick=False):
        login(client, receptionist)
        due = client.get(reverse("due"))
    assert [s.pk for s in due.context["awaiting"]] == [booked.pk]
    assert reverse("session_complete", args=[booked.pk]) not in due.content.decode()


def test_api_filter_awaiting_results(clinician, booked, enrolment):
    api = APIClient()
    api.force_authenticate(clinician)
    url = "/api/v1/sessions/"
    before = api.get(url, {"awaiting_results": "true"}).json()
    assert (before["results"] if isinstance(before, dict) else before) == []
    with time_machine.travel(booked.start + dt.timedelta(days=17), tick=False):
        awaiting = api.get(url, {"awaiting_results": "true"}).json()
        others = api.get(url, {"awaiting_results": "false"}).json()
    rows = awaiting["results"] if isinstance(awaiting, dict) else awaiting
    other_rows = others["results"] if isinstance(others, dict) else others
    assert [r["id"] for r in rows] == [booked.pk]
    assert booked.pk not in [r["id"] for r in other_rows]
    assert len(other_rows) == enrolment.sessions.count() - 1
    bad = api.get(url, {"awaiting_results": "maybe"})
    assert bad.status_code == 400 and "awaiting_results" in bad.json()


def test_completing_takes_it_off_the_list(clinician, booked):
    with time_machine.travel(booked.start + dt.timedelta(days=3), tick=False):
        doc = login(Client(), clinician)
        assert [s.pk for s in doc.get(reverse("due")).context["awaiting"]] == [booked.pk]
        services.complete_session(
            session=booked, by=clinician, outcomes=[{"measure": "hair_density", "value": 120}]
        )
        assert doc.get(reverse("due")).context["awaiting"] == []
    booked.refresh_from_db()
    assert booked.status == SessionStatus.COMPLETED


def test_the_agenda_names_each_visits_protocol(doc, booked):
    day = booked.start.astimezone(booked.clinic.tz).date().isoformat()
    html = doc.get(reverse("agenda") + f"?date={day}").content.decode()
    assert '<span>Baseline assessment #1</span> <span class="protocol">· Hair regeneration</span>' in html
