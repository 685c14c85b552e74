"""SPEC §14: every look at and change of a patient's data, staff, clinic,
room and settings change, login and export is in an append-only audit log
that managers read at /audit/ and GET /api/v1/audit/ with filters and CSV."""

import pytest
from django.db import DatabaseError, transaction
from rest_framework.test import APIClient

from audit.models import Action, AppendOnly, AuditEvent
from clinics.services import create_staff
from patients.models import Patient
from tests.factories import PASSWORD
from tests.web.conftest import login


def api(user):
    client = APIClient(HTTP_USER_AGENT="pytest-agent/1.0", REMOTE_ADDR="203.0.113.7")
    client.force_authenticate(user)
    return client


def entries(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_an_api_detail_read_is_recorded_with_who_when_what_and_where(receptionist, patient):
    assert api(receptionist).get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    [event] = entries(action=Action.VIEW)
    assert event.user == receptionist and event.username == "rita"
    assert event.clinic_id == patient.clinic_id
    assert (event.object_type, event.object_id, event.patient_ref) == ("patients.patient", str(patient.pk), patient.pk)
    assert event.ip == "203.0.113.7" and event.user_agent == "pytest-agent/1.0"
    assert event.summary == f"GET /api/v1/patients/{patient.pk}/"


def test_session_and_enrolment_details_and_the_calendar_name_their_patient(receptionist, patient, hair_protocol):
    from sessions.services import enrol_patient

    enrolment = enrol_patient(patient=patient, protocol=hair_protocol, start_date=_today(patient), by=receptionist)
    session = enrolment.sessions.first()
    client = api(receptionist)
    for path in (f"/api/v1/enrolments/{enrolment.pk}/", f"/api/v1/enrolments/{enrolment.pk}/outcomes/",
                 f"/api/v1/sessions/{session.pk}/", f"/api/v1/patients/{patient.pk}/calendar.ics"):
        assert client.get(path).status_code == 200, path
    views = entries(action=Action.VIEW)
    assert [e.patient_ref for e in views] == [patient.pk] * 4
    assert [e.object_type for e in views] == ["patients.enrolment", "patients.enrolment", "treatment_sessions.session",
                                              "patients.patient"]


def _today(patient):
    from django.utils import timezone

    return timezone.now().astimezone(patient.clinic.tz).date()


def test_a_refused_read_writes_nothing(outsider, patient):
    assert api(outsider).get(f"/api/v1/patients/{patient.pk}/").status_code == 404
    assert not entries(action=Action.VIEW)


def test_the_patient_page_is_recorded(client, receptionist, patient):
    login(client, receptionist)
    client.get(f"/patients/{patient.pk}/")
    [event] = entries(action=Action.VIEW)
    assert event.patient_ref == patient.pk and event.summary == f"GET /patients/{patient.pk}/"


def test_a_change_is_recorded_with_its_fields_not_its_values(receptionist, patient):
    api(receptionist).patch(f"/api/v1/patients/{patient.pk}/", {"phone": "+49 30 999"}, format="json")
    [event] = entries(action=Action.CHANGE, object_type="patients.patient")
    assert event.user == receptionist and event.patient_ref == patient.pk
    assert event.summary == "changed: phone"
    assert "999" not in event.summary


def test_enrolling_records_the_enrolment_and_its_sessions_get_history(receptionist, patient, hair_protocol):
    from sessions.models import Session
    from sessions.services import enrol_patient

    enrolment = enrol_patient(patient=patient, protocol=hair_protocol, start_date=_today(patient), by=receptionist)
    assert entries(action=Action.CREATE, object_type="patients.enrolment", object_id=str(enrolment.pk))
    # Sessions are created in bulk; each still has its history row, by the user.
    history = Session.history.filter(enrolment_id=enrolment.pk)
    assert history.count() == enrolment.sessions.count() == 7
    assert {h.history_user_id for h in history} == {receptionist.pk}


def test_staff_room_clinic_and_hours_changes_are_recorded(manager, clinic):
    client = api(manager)
    client.patch("/api/v1/clinic/", {"name": "Charité Skin Mitte", "opening_hours": [
        {"weekday": 0, "opens": "09:00", "closes": "17:00"}]}, format="json")
    kinds = {(e.action, e.object_type) for e in entries(clinic=clinic)}
    assert (Action.CHANGE, "clinics.clinic") in kinds
    assert (Action.CREATE, "clinics.openinghours") in kinds
    assert (Action.DELETE, "clinics.openinghours") in kinds
    staff = create_staff(username="newbie", clinic=clinic, role="reception", password="long-enough-password")
    staff.role = "clinician"
    staff.save()
    role_change = entries(action=Action.CHANGE, object_type="clinics.user", object_id=str(staff.pk))
    assert role_change[-1].summary == "changed: role"
    from tests.factories import RoomFactory

    RoomFactory(clinic=clinic, name="Laser room")
    assert entries(action=Action.CREATE, object_type="clinics.room")


def test_logins_are_recorded_on_every_door(client, receptionist):
    APIClient().post("/api/v1/auth/token/", {"username": "rita", "password": PASSWORD}, format="json")
    client.post("/accounts/login/", {"username": "rita", "password": PASSWORD})
    client.post("/accounts/logout/")
    actions = [e.action for e in entries(user=receptionist)]
    assert actions.count(Action.LOGIN) == 2 and Action.LOGOUT in actions


def test_entries_cannot_be_changed_or_deleted(receptionist, patient):
    api(receptionist).get(f"/api/v1/patients/{patient.pk}/")
    event = AuditEvent.objects.get(action=Action.VIEW)
    event.summary = "nothing to see"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().update(summary="x")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()
    # Nor behind the model's back: the database refuses too.
    for statement in ("UPDATE audit_auditevent SET summary = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic():
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).summary == f"GET /api/v1/patients/{patient.pk}/"


def test_no_api_method_or_admin_screen_edits_entries(manager, patient, client):
    api(manager).get(f"/api/v1/patients/{patient.pk}/")
    event = AuditEvent.objects.get(action=Action.VIEW)
    client_api = api(manager)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client_api, method)("/api/v1/audit/", {}, format="json").status_code == 405
        assert getattr(client_api, method)(f"/api/v1/audit/{event.pk}/", {}, format="json").status_code in (404, 405)
    manager.is_staff = manager.is_superuser = True
    manager.save()
    login(client, manager)
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"summary": "x"}).status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, summary__startswith="GET").exists()


def test_managers_read_the_log_with_filters_and_csv(manager, receptionist, outsider, patient):
    other = Patient.objects.create(clinic=patient.clinic, record_number="X-2", first_name="A", last_name="B",
                                   date_of_birth="1970-01-01")
    api(receptionist).get(f"/api/v1/patients/{patient.pk}/")
    api(receptionist).get(f"/api/v1/patients/{other.pk}/")
    api(manager).get(f"/api/v1/patients/{patient.pk}/")
    client = api(manager)
    assert api(receptionist).get("/api/v1/audit/").status_code == 403
    about = client.get("/api/v1/audit/", {"patient": patient.pk, "action": "view"}).json()
    assert about["count"] == 2
    assert {row["username"] for row in about["results"]} == {"rita", "max"}
    by_rita = client.get("/api/v1/audit/", {"user": receptionist.pk, "action": "view"}).json()
    assert by_rita["count"] == 2
    assert client.get("/api/v1/audit/", {"date_from": "not-a-date"}).status_code == 400
    # Another clinic's manager sees none of it.
    assert api(outsider).get("/api/v1/audit/", {"patient": patient.pk}).json()["count"] == 0
    csv = client.get("/api/v1/audit/csv/", {"patient": patient.pk, "action": "view"}, HTTP_ACCEPT="text/csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,at,user_id,username,action")
    assert len(lines) == 3
    # Downloading the log is itself recorded.
    assert entries(action=Action.EXPORT, object_type="audit.auditevent")


def test_the_audit_page_is_the_managers(client, manager, receptionist, patient):
    api(receptionist).get(f"/api/v1/patients/{patient.pk}/")
    login(client, receptionist)
    assert client.get("/audit/").status_code == 403
    client.logout()
    login(client, manager)
    page = client.get("/audit/", {"patient": patient.pk})
    assert page.status_code == 200
    assert receptionist.display_name in page.content.decode()  # issue 24: names, not usernames
    csv = client.get("/audit/export.csv", {"action": "view"})
    assert b"rita" in b"".join(csv.streaming_content)


def test_sessions_re_dated_by_a_cascade_keep_a_history_row(receptionist, clinician, patient, hair_protocol):
    import datetime as dt

    import time_machine

    from sessions.models import Session
    from sessions.services import book_session, enrol_patient
    from tests.api.conftest import NOW, START, at

    with time_machine.travel(NOW, tick=False):
        enrolment = enrol_patient(patient=patient, protocol=hair_protocol, start_date=START, by=receptionist)
        first_injection = enrolment.sessions.get(sequence=2)
        third = enrolment.sessions.get(sequence=3)
        before = Session.history.filter(id=third.pk).count()
        # Booked late in its window: every later planned session moves (SPEC §3).
        book_session(session=first_injection, start=at(dt.date(2026, 3, 25), 10), practitioner=clinician,
                     by=receptionist)
    moved = Session.history.filter(id=third.pk).order_by("history_date", "history_id")
    assert moved.count() == before + 1
    assert moved.last().history_type == "~" and moved.last().target_date == dt.date(2026, 4, 8)


def test_date_filters_take_the_clinic_s_days(manager, client):
    """The log shows times in the clinic's zone, so its days are the
    clinic's: 23:30 UTC on 5 March is 00:30 on 6 March in Berlin."""
    import datetime as dt

    late = AuditEvent.objects.create(clinic=manager.clinic, action="view", summary="late",
                                     at=dt.datetime(2026, 3, 5, 23, 30, tzinfo=dt.UTC))
    early = AuditEvent.objects.create(clinic=manager.clinic, action="view", summary="early",
                                      at=dt.datetime(2026, 3, 5, 22, 30, tzinfo=dt.UTC))
    assert manager.clinic.timezone == "Europe/Berlin"

    def ids(**params):
        return {row["id"] for row in api(manager).get("/api/v1/audit/", params).json()["results"]}

    assert ids(date_from="2026-03-06", date_to="2026-03-06") == {late.pk}
    assert ids(date_from="2026-03-05", date_to="2026-03-05") == {early.pk}
    client.force_login(manager)
    page = client.get("/audit/", {"date_from": "2026-03-06", "date_to": "2026-03-06"}).content.decode()
    assert "late" in page and "early" not in page
