"""Issue 30: every read of patient data leaves exactly one audit row.

The test walks every GET operation of the OpenAPI schema, every staff page
of web/urls.py and the admin's list, change and history pages of every
registered model, as the manager, and fails for an answer that shows a
patient (a record number, an email or a full name of the clinic's patients
is in it, or it is a photo) without a new row, or with more than one.
Reads that show no patient data are listed below and need no row."""

import datetime as dt

import pytest
import time_machine
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from audit.models import Action, AuditEvent
from patients.models import Patient
from sessions.models import CalendarFeed
from tests.api.test_role_matrix import ASKED, TABLE, world  # noqa: F401 - the world fixture
from web.urls import urlpatterns

# Binary answers about a patient: no name in the bytes, still patient data.
ALWAYS_PATIENT = {"/api/v1/photos/{id}/image/", "/api/v1/photos/{id}/thumbnail/"}

# Answers with no patient data (the clinic's setup, the catalogue, staff, the
# caller's own account).
NOT_PATIENT_API = {
    "/api/v1/", "/api/v1/schema/", "/api/v1/docs/", "/api/v1/auth/sessions/", "/api/v1/clinic/",
    "/api/v1/clinic/dlqi-wording/",
    "/api/v1/measures/", "/api/v1/protocols/", "/api/v1/protocols/{id}/", "/api/v1/practitioners/",
    "/api/v1/practitioners/{id}/", "/api/v1/rooms/", "/api/v1/rooms/{id}/", "/api/v1/absences/",
    "/api/v1/absences/{id}/", "/api/v1/products/", "/api/v1/products/{id}/", "/api/v1/lots/", "/api/v1/lots/{id}/",
}  # fmt: skip

PAGE_OBJECTS = {
    "patient_detail": "patient", "patient_edit": "patient", "patient_consent": "patient", "patient_photo": "patient",
    "enrol": "patient", "enrolment_withdraw": "enrolment", "session_book": "booked_later",
    "session_cancel": "booked_later", "session_no_show": "booked_now", "session_skip": "planned",
    "session_complete": "booked_now", "outcome_correct": "outcome", "lot_recall": "lot",
    "protocol_detail": "protocol", "protocol_edit": "protocol", "settings_room": "room",
    "settings_staff": "practitioner", "reminder_resend": None,
}  # fmt: skip


def identifying(clinic_id) -> list[str]:
    values = []
    for patient in Patient.objects.filter(clinic_id=clinic_id):
        values += [
            patient.record_number,
            patient.email,
            f"{patient.first_name} {patient.last_name}",
            f"{patient.last_name}, {patient.first_name}",
        ]
    return [value for value in values if value and len(value) >= 4]


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def check(response, before: int, *, patient_data_expected: bool, strings: list[str], label: str) -> str | None:
    if not 200 <= response.status_code < 300:
        return None
    text = body_of(response)
    shows_patient = patient_data_expected or any(value in text for value in strings)
    rows = AuditEvent.objects.count() - before
    if shows_patient and rows != 1:
        return f"{label}: {rows} audit rows for a read of patient data"
    return None


def test_every_api_read_of_patient_data_leaves_one_row(world):  # noqa: F811
    client = APIClient(HTTP_AUTHORIZATION=f"Token {world.tokens['mgr']}")
    strings = identifying(world.patient.clinic_id)
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    rows = {row.path: row for row in TABLE if row.method == "GET"}
    problems, walked = [], 0
    with time_machine.travel(ASKED, tick=False):
        for path, item in schema["paths"].items():
            if "get" not in item:
                continue
            row = rows[path]
            url = path.replace("{id}", str(world.objects[row.obj].pk)) if row.obj else path
            before = AuditEvent.objects.count()
            response = client.get(url, row.query)
            walked += 1
            expected = path in ALWAYS_PATIENT or path not in NOT_PATIENT_API
            problem = check(response, before, patient_data_expected=expected, strings=strings, label=f"GET {url}")
            if problem:
                problems.append(problem)
    assert walked > 30
    assert not problems, "\n".join(problems)


def test_every_page_read_of_patient_data_leaves_one_row(world):  # noqa: F811
    manager = world.users["mgr"]
    client = Client()
    client.force_login(manager)
    strings = identifying(manager.clinic_id)
    feed = CalendarFeed.objects.create(user=world.users["clin"], token="feed-token-for-the-audit-test")
    problems, walked = [], 0
    with time_machine.travel(ASKED, tick=False):
        for pattern in urlpatterns:
            if not isinstance(pattern, URLPattern) or pattern.name is None:
                continue
            route = str(pattern.pattern)
            if route.startswith(("p/", "u/", "accounts/")):
                continue  # the patient's own link pages; the sign-in pages
            if pattern.name == "calendar_feed":
                url, anonymous = reverse("calendar_feed", args=[feed.token]), True
            elif "<" in route:
                obj = PAGE_OBJECTS.get(pattern.name)
                if obj is None:
                    continue
                url, anonymous = reverse(pattern.name, args=[world.objects[obj].pk]), False
            else:
                url, anonymous = reverse(pattern.name), False
            before = AuditEvent.objects.count()
            response = (Client() if anonymous else client).get(url)
            walked += 1
            expected = pattern.name in ("calendar_feed", "due", "agenda", "patient_list", "lot_recall")
            problem = check(response, before, patient_data_expected=expected, strings=strings, label=f"GET {url}")
            if problem:
                problems.append(problem)
    assert walked > 20
    assert not problems, "\n".join(problems)
    event = AuditEvent.objects.filter(object_type="calendar feed").get()
    assert event.user == world.users["clin"] and event.action == Action.VIEW


def test_every_admin_read_of_patient_data_leaves_one_row(world):  # noqa: F811
    manager = world.users["mgr"]
    manager.is_staff = True
    manager.is_superuser = True
    manager.save()
    client = Client()
    client.force_login(manager)
    strings = identifying(manager.clinic_id)
    problems = []
    with time_machine.travel(ASKED, tick=False):
        for model in admin.site._registry:
            meta = model._meta
            patient_app = meta.app_label in ("patients", "treatment_sessions", "messaging")
            urls = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
            first = model._default_manager.order_by("pk").first()
            if first is not None:
                for view in ("change", "history"):
                    urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[first.pk]))
            for url in urls:
                before = AuditEvent.objects.count()
                response = client.get(url)
                expected = patient_app and first is not None
                problem = check(response, before, patient_data_expected=expected, strings=strings, label=f"GET {url}")
                if problem:
                    problems.append(problem)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/v1/sessions/"])
def test_a_list_row_names_the_ids_it_returned_and_the_search(world, path):  # noqa: F811
    client = APIClient(HTTP_AUTHORIZATION=f"Token {world.tokens['mgr']}")
    with time_machine.travel(ASKED, tick=False):
        answer = client.get(path, {"page": 1})
    event = AuditEvent.objects.order_by("-pk").first()
    ids = [item["id"] for item in answer.json()["results"]]
    assert event.action == Action.VIEW and event.user == world.users["mgr"]
    assert event.summary.startswith("Viewed the ") and "page=1" in event.summary
    assert "ids " + ", ".join(str(i) for i in ids[:20]) in event.summary


def test_a_photo_read_names_its_patient_kind(world):  # noqa: F811
    client = APIClient(HTTP_AUTHORIZATION=f"Token {world.tokens['mgr']}")
    photo = world.objects["photo"]
    with time_machine.travel(ASKED, tick=False):
        assert client.get(f"/api/v1/photos/{photo.pk}/image/").status_code == 200
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.action == Action.VIEW and event.summary.startswith("Viewed a photo")
    assert event.at.date() == dt.date(2026, 3, 2)


def test_a_search_row_keeps_the_ids_not_the_words(world):  # noqa: F811
    client = APIClient(HTTP_AUTHORIZATION=f"Token {world.tokens['mgr']}")
    name = world.patient.last_name
    with time_machine.travel(ASKED, tick=False):
        answer = client.get("/api/v1/patients/", {"search": name})
    event = AuditEvent.objects.order_by("-pk").first()
    assert f"search=({len(name)} characters)" in event.summary and name not in event.summary
    assert str(answer.json()["results"][0]["id"]) in event.summary
