"""Every staff page through Django's test client: it renders for the roles
that may see it, is a 404 for another clinic's staff and a 403 for a role
that may not, and its forms refuse bad input beside the field."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinics.models import User
from patients.models import Enrolment, Patient
from sessions import services
from sessions.models import (
    AdverseEvent,
    Deviation,
    DeviationKind,
    OutcomeMeasurement,
    Reminder,
    ReminderKind,
    ReminderStatus,
    Session,
    SessionStatus,
)
from tests.factories import PatientFactory, lot_of, make_protocol, step
from tests.web.conftest import login


def url(name, *args):
    return reverse(name, args=args)


@pytest.fixture
def rec(client, receptionist):
    return login(client, receptionist)


@pytest.fixture
def doc(clinician):
    return login(Client(), clinician)


@pytest.fixture
def boss(manager):
    return login(Client(), manager)


@pytest.fixture
def other(outsider):
    return login(Client(), outsider)


@pytest.fixture
def failed_reminder(booked):
    return Reminder.objects.create(
        clinic=booked.clinic,
        session=booked,
        kind=ReminderKind.BOOKED,
        offset_hours=72,
        due_at=timezone.now() - dt.timedelta(hours=1),
        status=ReminderStatus.FAILED,
        attempts=5,
        last_error="SMTP 550 mailbox unavailable",
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- Front door ----------------------------------------------------------------------------------


def test_home_sends_anonymous_users_to_login_and_staff_to_the_agenda(client, receptionist):
    assert client.get("/").url == url("login")
    login(client, receptionist)
    assert client.get("/").url == url("agenda")


def test_login_page_and_logging_in(client, receptionist):
    page = client.get(url("login"))
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    response = client.post(url("login"), {"username": "rita", "password": "correct-horse-battery"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get(url("agenda")).status_code == 200
    client.post(url("logout"))
    assert client.get(url("agenda")).status_code == 302


@pytest.mark.parametrize("name", ["agenda", "due", "patient_list", "patient_create", "protocol_list", "failed_reminders"])
def test_pages_need_a_login(client, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response.url.startswith(url("login"))


def test_a_user_without_a_clinic_is_refused(client, db):
    User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.login(username="root", password="pw-root-123")
    response = client.get(url("agenda"))
    assert response.status_code == 403
    assert b"Not allowed" in response.content


def test_posts_need_a_csrf_token(receptionist, booked):
    client = Client(enforce_csrf_checks=True)
    login(client, receptionist)
    assert client.post(url("session_cancel", booked.pk)).status_code == 403
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


# --- Every page renders --------------------------------------------------------------------------


def test_every_page_renders_for_a_manager(boss, patient, booked, hair_protocol, failed_reminder):
    day = booked.target_date.isoformat()
    pages = [
        url("agenda"),
        url("agenda") + f"?date={day}",
        url("agenda") + f"?date={day}&view=week",
        url("agenda") + f"?date={day}&by=room",
        url("agenda") + "?date=not-a-date&view=nonsense",
        url("due"),
        url("patient_list"),
        url("patient_list") + "?q=weber",
        url("patient_create"),
        url("patient_detail", patient.pk),
        url("patient_edit", patient.pk),
        url("enrol", patient.pk),
        url("session_book", booked.pk),
        url("session_complete", booked.pk),
        url("failed_reminders"),
        url("protocol_list"),
        url("protocol_detail", hair_protocol.pk),
    ]
    for page in pages:
        response = boss.get(page, follow=True)
        assert response.status_code == 200, page
        assert b"<main" in response.content


def test_agenda_shows_the_booking_in_clinic_time_on_its_day_only(rec, booked):
    day = booked.target_date
    page = rec.get(url("agenda") + f"?date={day.isoformat()}").content.decode()
    assert f"10:00–{booked.end.astimezone(booked.clinic.tz):%H:%M}" in page  # 10:00 Berlin time, not UTC
    assert booked.patient.full_name in page
    assert "Baseline assessment #1" in page
    assert url("patient_detail", booked.patient_id) in page
    week = rec.get(url("agenda") + f"?date={day.isoformat()}&view=week").content.decode()
    assert booked.patient.full_name in week
    other_day = rec.get(url("agenda") + f"?date={(day + dt.timedelta(days=1)).isoformat()}").content.decode()
    assert booked.patient.full_name not in other_day


def test_agenda_marks_out_of_window_and_missed_bookings(rec, doc, enrolment, clinician, receptionist):
    first = enrolment.sessions.get(sequence=1)
    late = dt.datetime.combine(first.window_end + dt.timedelta(days=2), dt.time(9), tzinfo=first.clinic.tz)
    services.book_session(session=first, start=late, practitioner=clinician, override_reason="Travel", by=clinician)
    page = rec.get(url("agenda") + f"?date={late.date().isoformat()}").content.decode()
    assert "appt booked oow" in page
    assert "out of window" in page


# --- Scoping and roles ---------------------------------------------------------------------------


def test_another_clinics_objects_are_404(other, patient, booked, hair_protocol, failed_reminder):
    for page in [
        url("patient_detail", patient.pk),
        url("patient_edit", patient.pk),
        url("enrol", patient.pk),
        url("session_book", booked.pk),
        url("session_complete", booked.pk),
        url("protocol_detail", hair_protocol.pk),
    ]:
        assert other.get(page).status_code == 404, page
    for action in ["session_cancel", "session_no_show", "session_skip"]:
        assert other.post(url(action, booked.pk), {"skip-reason": "x"}).status_code == 404, action
    assert other.post(url("reminder_resend", failed_reminder.pk)).status_code == 404
    assert other.post(url("session_book", booked.pk), {"form": "slot"}).status_code == 404
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED


def test_another_clinics_data_is_not_listed(other, patient, booked, failed_reminder):
    assert patient.last_name not in other.get(url("patient_list")).content.decode()
    assert list(other.get(url("patient_list") + "?q=" + patient.last_name).context["patients"]) == []
    day = booked.target_date.isoformat()
    assert patient.last_name not in other.get(url("agenda") + f"?date={day}").content.decode()
    assert patient.last_name not in other.get(url("due")).content.decode()
    assert patient.last_name not in other.get(url("failed_reminders")).content.decode()
    assert b"Hair regeneration" not in other.get(url("protocol_list")).content


def test_reception_may_not_complete_skip_or_see_failed_reminders(rec, booked, failed_reminder):
    assert rec.get(url("session_complete", booked.pk)).status_code == 403
    assert rec.post(url("session_complete", booked.pk), {}).status_code == 403
    assert rec.post(url("session_skip", booked.pk), {"skip-reason": "ill"}).status_code == 403
    assert rec.get(url("failed_reminders")).status_code == 403
    assert rec.post(url("reminder_resend", failed_reminder.pk)).status_code == 403
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
    assert b"Failed reminders" not in rec.get(url("agenda")).content


def test_reception_does_not_see_the_complete_button(rec, doc, booked):
    complete = url("session_complete", booked.pk).encode()
    # From its booked start on, when it can be completed (issue 13).
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        for page in [url("patient_detail", booked.patient_id), url("session_book", booked.pk)]:
            assert complete not in rec.get(page).content
            assert complete in doc.get(page).content


def test_a_clinician_may_not_see_failed_reminders(doc):
    assert doc.get(url("failed_reminders")).status_code == 403


def test_forbidden_page_is_a_friendly_403(rec, booked):
    response = rec.get(url("session_complete", booked.pk))
    assert response.status_code == 403
    assert b"Not allowed" in response.content


# --- Patients ------------------------------------------------------------------------------------


def test_search_finds_patients_by_name_or_record_number(rec, clinic, patient):
    PatientFactory(clinic=clinic, first_name="Jonas", last_name="Becker", record_number="MRN-777")
    by_name = rec.get(url("patient_list") + "?q=weB").content.decode()
    assert "Weber, Hanna" in by_name and "Becker" not in by_name
    by_number = rec.get(url("patient_list") + "?q=mrn-777").content.decode()
    assert "Becker, Jonas" in by_number and "Weber" not in by_number
    assert "No patient matches" in rec.get(url("patient_list") + "?q=zzz").content.decode()
    assert rec.get(url("patient_list") + "?q=%00").status_code == 200


def test_create_a_patient_with_consent_and_its_date(rec, clinic):
    page = rec.get(url("patient_create")).content.decode()
    for field in ["record_number", "first_name", "last_name", "date_of_birth", "email", "phone", "skin_type",
                  "reminder_consent"]:
        assert f'<label for="id_{field}"' in page, field
    response = rec.post(
        url("patient_create"),
        {"record_number": "MRN-1", "first_name": "Ada", "last_name": "Lang", "date_of_birth": "1975-02-03",
         "email": "ada@example.org", "skin_type": "4", "reminder_consent": "on"},
    )
    patient = Patient.objects.get(clinic=clinic, record_number="MRN-1")
    assert response.url == url("patient_detail", patient.pk)
    assert patient.skin_type == 4 and patient.reminder_consent and patient.reminder_consent_changed_at
    detail = rec.get(response.url).content.decode()
    assert "consented" in detail and f"given {timezone.localtime(patient.reminder_consent_changed_at, clinic.tz):%d %b %Y}" in detail


def test_patient_form_errors_stand_beside_their_fields(rec, clinic, patient):
    response = rec.post(url("patient_create"), {"record_number": "", "first_name": "Ada", "date_of_birth": "03/02/75x"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) >= {"record_number", "last_name", "date_of_birth"}
    assert b'id="id_last_name_error"' in response.content
    duplicate = rec.post(
        url("patient_create"),
        {"record_number": patient.record_number, "first_name": "Ada", "last_name": "Lang", "date_of_birth": "1975-02-03"},
    )
    assert duplicate.status_code == 200
    assert "already exists" in " ".join(duplicate.context["form"].errors["record_number"])
    assert Patient.objects.filter(clinic=clinic).count() == 1


def test_edit_a_patient_and_withdraw_consent(rec, patient):
    data = {"record_number": patient.record_number, "first_name": "Hanna", "last_name": "Weber-Roth",
            "date_of_birth": "1980-05-17", "email": patient.email, "skin_type": "", "reminder_consent": ""}
    response = rec.post(url("patient_edit", patient.pk), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Weber-Roth" and not patient.reminder_consent and patient.skin_type is None
    assert "withdrawn" in rec.get(url("patient_edit", patient.pk)).content.decode()


# --- Enrolment -----------------------------------------------------------------------------------


def test_enrol_previews_without_saving_then_saves(rec, patient, hair_protocol, clinician):
    start = timezone.now().astimezone(patient.clinic.tz).date() + dt.timedelta(days=7)
    data = {"protocol": hair_protocol.pk, "start_date": start.isoformat(), "clinician": clinician.pk, "area": "crown"}
    preview = rec.post(url("enrol", patient.pk), {**data, "action": "preview"})
    assert preview.status_code == 200
    rows = preview.context["preview"]
    assert [r["planned"].dates.target_date for r in rows[:3]] == [
        start, start + dt.timedelta(days=14), start + dt.timedelta(days=28)
    ]
    assert b"Enrol patient" in preview.content
    assert not Enrolment.objects.exists()
    # Every select says what to choose, not Django's "---------".
    blank = rec.get(url("enrol", patient.pk)).content.decode()
    assert "Choose a protocol" in blank and "---------" not in blank
    saved = rec.post(url("enrol", patient.pk), {**data, "action": "save"})
    assert saved.status_code == 302
    enrolment = Enrolment.objects.get(patient=patient)
    assert (enrolment.clinician, enrolment.area, enrolment.sessions.count()) == (clinician, "crown", 7)


def test_enrol_refuses_other_clinics_protocols_and_far_dates(rec, patient, other_clinic):
    foreign = make_protocol(other_clinic)
    response = rec.post(url("enrol", patient.pk), {"protocol": foreign.pk, "start_date": "2026-01-01", "action": "save"})
    assert "protocol" in response.context["form"].errors
    mine = make_protocol(patient.clinic, name="Mine")
    response = rec.post(url("enrol", patient.pk), {"protocol": mine.pk, "start_date": "2099-01-01", "action": "save"})
    assert "two years" in " ".join(response.context["form"].errors["start_date"])
    assert not Enrolment.objects.exists()


# --- Booking -------------------------------------------------------------------------------------


def test_book_page_offers_free_slots_and_one_click_books(rec, enrolment, clinician):
    first = enrolment.sessions.get(sequence=1)
    page = rec.get(url("session_book", first.pk))
    groups = page.context["slot_groups"]
    assert groups and groups[0]["day"] == first.target_date
    slot = groups[0]["rows"][0]["slots"][0]
    response = rec.post(
        url("session_book", first.pk),
        {"form": "slot", "start": slot.start.isoformat(), "practitioner": slot.practitioner_id},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.start, first.practitioner) == (SessionStatus.BOOKED, slot.start, clinician)


def test_booking_a_taken_slot_says_so_and_changes_nothing(rec, booked, clinic, hair_protocol, receptionist):
    rival = PatientFactory(clinic=clinic)
    rival_session = services.enrol_patient(
        patient=rival, protocol=hair_protocol, start_date=booked.target_date, by=receptionist
    ).sessions.get(sequence=1)
    response = rec.post(
        url("session_book", rival_session.pk),
        {"form": "slot", "start": booked.start.isoformat(), "practitioner": booked.practitioner_id},
        follow=True,
    )
    assert any("is already booked at this time" in m for m in messages_of(response))
    rival_session.refresh_from_db()
    assert rival_session.status == SessionStatus.PLANNED


def test_reception_cannot_book_outside_the_window_a_clinician_can_with_a_reason(rec, doc, enrolment, clinician):
    first = enrolment.sessions.get(sequence=1)
    late = first.window_end + dt.timedelta(days=3)
    data = {"form": "time", "time-date": late.isoformat(), "time-time": "09:00", "time-practitioner": clinician.pk}
    response = rec.post(url("session_book", first.pk), data)
    assert response.status_code == 200
    assert "outside the window" in " ".join(response.context["time_form"].non_field_errors())
    assert b"time-override_reason" not in response.content
    first.refresh_from_db()
    assert first.status == SessionStatus.PLANNED

    missing = doc.post(url("session_book", first.pk), data)
    assert b'name="time-override_reason"' in missing.content
    first.refresh_from_db()
    assert first.status == SessionStatus.PLANNED
    booked = doc.post(url("session_book", first.pk), {**data, "time-override_reason": "Patient abroad"})
    assert booked.status_code == 302
    first.refresh_from_db()
    assert first.status == SessionStatus.BOOKED and first.out_of_window
    assert Deviation.objects.get(session=first).kind == DeviationKind.OUT_OF_WINDOW


def test_typed_time_in_a_dst_gap_is_refused_beside_the_time(clinic, receptionist, clinician):
    patient = PatientFactory(clinic=clinic)
    protocol = make_protocol(clinic, steps=[step("Visit", window_before_days=5, window_after_days=5)], name="Gap")
    gap_day = dt.date(2027, 3, 28)  # Berlin springs forward 02:00 -> 03:00
    with time_machine.travel(dt.datetime(2027, 3, 20, 9, tzinfo=dt.UTC), tick=False):
        session = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=gap_day, by=receptionist
        ).sessions.get()
        # Logged in at the travelled-to time, so the session cookie is fresh then.
        response = login(Client(), clinician).post(
            url("session_book", session.pk),
            {"form": "time", "time-date": gap_day.isoformat(), "time-time": "02:30", "time-practitioner": clinician.pk},
        )
    assert "does not exist" in " ".join(response.context["time_form"].errors["time"])


def test_cancel_no_show_and_skip(rec, doc, booked, clinician):
    early = rec.post(url("session_no_show", booked.pk), follow=True)
    assert any("only from its booked start" in m for m in messages_of(early))
    rec.post(url("session_cancel", booked.pk), {"cancel-reason": "patient"})
    booked.refresh_from_db()
    assert booked.status == SessionStatus.PLANNED and booked.start is None

    no_reason = doc.post(url("session_skip", booked.pk), {"skip-reason": ""}, follow=True)
    assert any("Say why" in m for m in messages_of(no_reason))
    doc.post(url("session_skip", booked.pk), {"skip-reason": "Scalp infection"})
    booked.refresh_from_db()
    assert booked.status == SessionStatus.SKIPPED and booked.skip_reason == "Scalp infection"


def test_no_show_after_the_start(rec, booked):
    with time_machine.travel(booked.start + dt.timedelta(minutes=20), tick=False):
        response = rec.post(url("session_no_show", booked.pk), follow=True)
    assert any("no-show" in m for m in messages_of(response))
    booked.refresh_from_db()
    assert booked.status == SessionStatus.PLANNED and booked.missed_count == 1


# --- Completion ----------------------------------------------------------------------------------


def test_complete_form_lists_the_steps_measures_with_units_and_ranges(doc, booked):
    page = doc.get(url("session_complete", booked.pk)).content.decode()
    assert '<label for="id_measure_hair_density">Hair density (phototrichogram) (hairs/cm²):</label>' in page
    assert 'min="0"' in page and 'max="600"' in page and 'step="any"' in page
    for field in ["lot", "product_form", "product_concentration", "notes", "not_done_reason",
                  "ae-0-description", "ae-0-grade", "ae-0-severity", "ae-0-serious", "ae-0-related_to_treatment"]:
        assert f'<label for="id_{field}"' in page, field


def complete_data(**overrides):
    data = {"ae-TOTAL_FORMS": "2", "ae-INITIAL_FORMS": "0", "ae-MIN_NUM_FORMS": "0", "ae-MAX_NUM_FORMS": "20",
            "measure_hair_density": "120", "product_form": "frozen", "notes": "Well tolerated"}
    data.update(overrides)
    return data


def test_completion_errors_stand_beside_their_fields(doc, booked):
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        out_of_range = doc.post(url("session_complete", booked.pk), complete_data(measure_hair_density="601"))
        missing = doc.post(url("session_complete", booked.pk), complete_data(measure_hair_density=""))
        half_event = doc.post(url("session_complete", booked.pk), complete_data(**{"ae-0-description": "Redness"}))
    assert "measure_hair_density" in out_of_range.context["form"].errors
    assert "Hair density (phototrichogram)" in " ".join(missing.context["form"].non_field_errors())
    assert "grade" in half_event.context["events"].forms[0].errors
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
    assert not OutcomeMeasurement.objects.exists()


def test_completion_before_the_start_is_refused_with_a_message(doc, booked):
    response = doc.post(url("session_complete", booked.pk), complete_data())
    assert "from its booked start" in " ".join(response.context["form"].non_field_errors())


def test_complete_a_session_with_outcomes_and_an_adverse_event(doc, booked, clinician):
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        response = doc.post(
            url("session_complete", booked.pk),
            complete_data(**{"ae-0-description": "Mild redness", "ae-0-severity": "mild",
                             "ae-0-related_to_treatment": "yes", "lot": str(lot_of(booked.clinic).pk)}),
        )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == SessionStatus.COMPLETED and booked.product_lot == "SEC-2026-01"
    assert OutcomeMeasurement.objects.get(session=booked).value == Decimal("120")
    event = AdverseEvent.objects.get(session=booked)
    assert (event.severity, event.related_to_treatment) == ("mild", "yes")
    page = doc.get(url("patient_detail", booked.patient_id)).content.decode()
    assert "Mild redness" in page and 'data-measure="hair_density"' in page
    assert doc.get(url("session_complete", booked.pk)).status_code == 302  # done: nothing left to complete


def test_patient_page_chart_shows_the_percent_change(doc, booked, clinician, enrolment):
    with time_machine.travel(booked.start + dt.timedelta(minutes=5), tick=False):
        services.complete_session(session=booked, by=clinician, outcomes=[{"measure": "hair_density", "value": 80}])
    second = enrolment.sessions.get(sequence=2)
    start = booked.start + dt.timedelta(days=14)
    with time_machine.travel(booked.start + dt.timedelta(hours=1), tick=False):
        services.book_session(session=second, start=start, practitioner=clinician, by=clinician)
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        services.complete_session(
            session=second,
            by=clinician,
            outcomes=[{"measure": "pain_vas", "value": 3}, {"measure": "hair_density", "value": 100}],
            lot=lot_of(booked.clinic),
        )
    page = doc.get(url("patient_detail", booked.patient_id)).content.decode()
    assert "+25.0 %" in page
    assert page.count('class="point"') == 3  # two density points, one pain point
    assert 'class="baseline"' in page and "Visit date and number" in page


# --- Due list and reminders ----------------------------------------------------------------------


def test_due_list_shows_unbooked_sessions_with_open_windows_oldest_first(rec, clinic, receptionist, hair_protocol):
    today = timezone.now().astimezone(clinic.tz).date()
    soon = services.enrol_patient(patient=PatientFactory(clinic=clinic, last_name="Soon"), protocol=hair_protocol,
                                  start_date=today + dt.timedelta(days=5), by=receptionist)
    now_open = services.enrol_patient(patient=PatientFactory(clinic=clinic, last_name="Nowopen"),
                                      protocol=hair_protocol, start_date=today, by=receptionist)
    services.enrol_patient(patient=PatientFactory(clinic=clinic, last_name="Farlater"), protocol=hair_protocol,
                           start_date=today + dt.timedelta(days=30), by=receptionist)
    response = rec.get(url("due"))
    sessions = [row["session"] for row in response.context["rows"]]
    assert sessions == [now_open.sessions.get(sequence=1), soon.sessions.get(sequence=1)]
    assert url("session_book", sessions[0].pk) in response.content.decode()


def test_failed_reminders_show_why_and_resend(boss, failed_reminder):
    page = boss.get(url("failed_reminders")).content.decode()
    assert "SMTP 550 mailbox unavailable" in page
    assert url("reminder_resend", failed_reminder.pk) in page
    response = boss.post(url("reminder_resend", failed_reminder.pk), follow=True)
    assert any("sent again" in m for m in messages_of(response))
    failed_reminder.refresh_from_db()
    assert failed_reminder.status == ReminderStatus.PENDING
    again = boss.post(url("reminder_resend", failed_reminder.pk), follow=True)
    assert any("Only a failed reminder" in m for m in messages_of(again))


def test_actions_refuse_get(rec, booked):
    assert rec.get(url("session_cancel", booked.pk)).status_code == 405
    assert Session.objects.get(pk=booked.pk).status == SessionStatus.BOOKED


def test_an_empty_agenda_day_points_to_the_next_booked_day(rec, booked):
    day_before = booked.target_date - dt.timedelta(days=1)
    page = rec.get(url("agenda") + f"?date={day_before.isoformat()}").content.decode()
    assert "Next booked day" in page
    assert f"date={booked.target_date.isoformat()}" in page


def test_malformed_input_is_never_a_server_error(doc, booked, patient, hair_protocol):
    gets = [
        url("agenda") + "?date=0001-01-01&view=week",
        url("agenda") + "?date=9999-12-31",
        url("agenda") + "?date=%00",
        url("session_book", booked.pk) + "?date=9999-12-31&practitioner=abc",
        url("patient_list") + "?q=" + "x" * 500,
    ]
    for page in gets:
        assert doc.get(page).status_code == 200, page
    posts = [
        (url("session_book", booked.pk), {"form": "slot", "start": "9999-12-31T23:59:59+00:00",
                                          "practitioner": booked.practitioner_id}),
        (url("session_book", booked.pk), {"form": "slot", "start": "nonsense", "practitioner": "x"}),
        (url("session_book", booked.pk), {"form": "time", "time-date": "9999-12-31", "time-time": "23:59",
                                          "time-practitioner": booked.practitioner_id, "time-override_reason": "x"}),
        (url("enrol", patient.pk), {"protocol": hair_protocol.pk, "start_date": "9999-12-01", "action": "preview"}),
        (url("enrol", patient.pk), {"protocol": hair_protocol.pk, "start_date": "0001-01-01", "action": "save"}),
        (url("enrol", patient.pk), {"protocol": "\x00", "start_date": "\x00"}),
        (url("patient_create"), {"record_number": "\x00", "first_name": "a" * 1000, "date_of_birth": "9999-99-99"}),
        (url("session_complete", booked.pk), {"ae-TOTAL_FORMS": "99999", "ae-INITIAL_FORMS": "x"}),
        (url("session_complete", booked.pk), complete_data(measure_hair_density="1e999")),
        (url("session_skip", booked.pk), {"skip-reason": "\x00"}),
    ]
    for page, data in posts:
        assert doc.post(page, data).status_code < 500, (page, data)
    booked.refresh_from_db()
    assert booked.status == SessionStatus.BOOKED
    assert not Enrolment.objects.exclude(pk=booked.enrolment_id).exists()


def test_the_agenda_opens_on_the_next_booked_day_when_today_is_empty(rec, booked):
    today = booked.start.astimezone(booked.clinic.tz).date() - dt.timedelta(days=1)
    with time_machine.travel(dt.datetime.combine(today, dt.time(7, 0), tzinfo=dt.UTC), tick=False):
        response = rec.get(url("agenda"), follow=True)
    assert response.redirect_chain[-1][0].endswith(
        f"?date={booked.start.astimezone(booked.clinic.tz).date().isoformat()}&view=day&by=practitioner"
    )
    assert booked.patient.last_name in response.content.decode()
    assert any("next day with bookings" in m for m in messages_of(response))
    # An explicit date is honoured, even when it is empty.
    with time_machine.travel(dt.datetime.combine(today, dt.time(7, 0), tzinfo=dt.UTC), tick=False):
        assert rec.get(url("agenda") + f"?date={today.isoformat()}").status_code == 200
