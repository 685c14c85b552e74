"""The admin: every page renders for a superuser, managers see only their
own clinic, and nothing clinical can be deleted or changed behind the
services' back."""

from django.contrib import admin
from django.urls import reverse

from clinics.models import Clinic, Closure, OpeningHours, Role, Room, User
from patients.models import Enrolment, Patient
from protocols.library import PROTOCOLS
from protocols.models import OutcomeMeasure, Protocol
from sessions.models import AdverseEvent, Deviation, OutcomeMeasurement, Reminder, Session

REGISTERED = [Clinic, User, Room, OutcomeMeasure, Protocol, Patient, Enrolment, Session, OutcomeMeasurement,
              AdverseEvent, Deviation, Reminder]
CLINICAL = [Patient, Enrolment, Session, OutcomeMeasurement, AdverseEvent, Deviation, Reminder]
READ_ONLY = [Enrolment, Session, OutcomeMeasurement, AdverseEvent, Deviation, Reminder]
WITH_HISTORY = [Patient, Enrolment, Session, OutcomeMeasurement, AdverseEvent, Protocol]


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_the_brief_names_is_registered():
    assert set(REGISTERED) <= set(admin.site._registry)


def test_every_registered_changelist_renders_for_a_superuser(admin_client, clinic_history):
    # Including those registered by Django and DRF (groups, tokens).
    for model in admin.site._registry:
        assert admin_client.get(url(model, "changelist")).status_code == 200, model.__name__


def test_superuser_sees_every_changelist_and_change_page(admin_client, clinic_history, other_history):
    # One test over all models: the fixtures cost more than the requests.
    for model in REGISTERED:
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, model.__name__
        assert response.context["cl"].result_count == model.objects.count(), model.__name__
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} row to show"
        assert admin_client.get(url(model, "change", obj.pk)).status_code == 200, model.__name__


def test_history_pages_render(admin_client, clinic_history):
    for model in WITH_HISTORY:
        obj = model.objects.order_by("pk").first()
        assert admin_client.get(url(model, "history", obj.pk)).status_code == 200, model.__name__


def test_an_outcome_edit_shows_in_its_history(admin_client, clinic_history, clinician):
    from sessions.services import correct_outcome

    measurement = OutcomeMeasurement.objects.get(session__enrolment=clinic_history)
    correct_outcome(measurement=measurement, value=104, reason="Mistyped.", by=clinician)
    response = admin_client.get(url(OutcomeMeasurement, "history", measurement.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "104" in page and "100" in page


def test_superuser_search_and_filters_work(admin_client, clinic_history, other_history, clinic):
    response = admin_client.get(url(Patient, "changelist"), {"q": "Otherclinic"})
    assert response.status_code == 200
    assert "Otherclinic" in response.content.decode() and "Weber" not in response.content.decode()
    response = admin_client.get(url(Session, "changelist"), {"clinic__id__exact": clinic.pk, "status": "completed"})
    assert response.status_code == 200


def test_nothing_clinical_can_be_deleted(admin_client, clinic_history):
    for model in CLINICAL:
        obj = model.objects.order_by("pk").first()
        assert admin_client.get(url(model, "delete", obj.pk)).status_code == 403, model.__name__
        assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, model.__name__
        changelist = admin_client.get(url(model, "changelist"))
        assert "delete_selected" not in changelist.content.decode(), model.__name__
        assert model.objects.filter(pk=obj.pk).exists()


def test_workflow_records_are_read_only(admin_client, clinic_history):
    for model in READ_ONLY:
        obj = model.objects.order_by("pk").first()
        page = admin_client.get(url(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page, model.__name__
        assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403, model.__name__
        assert admin_client.get(url(model, "add")).status_code == 403, model.__name__


def test_enrolment_page_lists_its_sessions(admin_client, clinic_history):
    page = admin_client.get(url(Enrolment, "change", clinic_history.pk)).content.decode()
    for session in clinic_history.sessions.all():
        assert url(Session, "change", session.pk) in page


def test_a_protocol_with_enrolments_is_not_edited_in_place(admin_client, clinic_history, clinic):
    used = clinic_history.protocol
    page = admin_client.get(url(Protocol, "change", used.pk)).content.decode()
    assert 'name="_save"' not in page
    assert admin_client.post(url(Protocol, "change", used.pk), {"name": "Renamed"}).status_code == 403
    used.refresh_from_db()
    assert used.name != "Renamed"


def test_a_protocol_without_enrolments_has_an_editable_step_inline(admin_client, clinic):
    from tests.factories import make_protocol

    fresh = make_protocol(clinic, name="Unused")
    page = admin_client.get(url(Protocol, "change", fresh.pk)).content.decode()
    assert 'name="_save"' in page
    assert 'name="steps-0-measures"' in page  # filter_horizontal widget of the step inline


# --- managers --------------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_clinics_patients(client, admin_manager, clinic_history, other_history):
    client.force_login(admin_manager)
    response = client.get(url(Patient, "changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Weber" in page
    assert "Otherclinic" not in page
    # Another clinic's patient is as if it did not exist.
    other_patient = other_history.patient
    response = client.get(url(Patient, "change", other_patient.pk))
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_a_managers_changelists_hold_only_their_clinic(client, admin_manager, clinic_history, other_history,
                                                       other_clinic):
    client.force_login(admin_manager)
    lookups = {Clinic: "pk", OutcomeMeasurement: "session__clinic", AdverseEvent: "session__clinic",
               Deviation: "session__clinic"}
    for model in REGISTERED:
        response = client.get(url(model, "changelist"))
        assert response.status_code == 200, model.__name__
        shown = set(response.context["cl"].result_list.values_list("pk", flat=True))
        if model is OutcomeMeasure:
            assert shown == set(OutcomeMeasure.objects.values_list("pk", flat=True))  # the shared catalogue
            continue
        theirs = set(model.objects.filter(**{lookups.get(model, "clinic"): other_clinic.pk}).values_list("pk", flat=True))
        assert theirs, f"the other clinic needs {model.__name__} rows for this test to mean anything"
        assert shown and not shown & theirs, model.__name__
        assert other_clinic.name not in response.content.decode(), model.__name__  # not even in a filter


def test_a_manager_cannot_open_another_clinics_history(client, admin_manager, other_history):
    client.force_login(admin_manager)
    measurement = OutcomeMeasurement.objects.get(session__enrolment=other_history)
    response = client.get(url(OutcomeMeasurement, "history", measurement.pk))
    assert response.status_code in (403, 404)
    assert "Otherclinic" not in response.content.decode()


def test_a_manager_runs_their_clinic_settings_rooms_and_staff(client, admin_manager, clinic, other_clinic):
    client.force_login(admin_manager)
    response = client.post(url(Room, "add"), {"name": "Laser room", "active": "on"})
    assert response.status_code == 302
    assert Room.objects.get(name="Laser room").clinic == clinic

    page = client.get(url(Clinic, "change", clinic.pk))
    assert page.status_code == 200 and 'name="opening_hours-TOTAL_FORMS"' in page.content.decode()
    assert client.get(url(Clinic, "change", other_clinic.pk)).status_code == 302
    assert client.get(url(Clinic, "add")).status_code == 403
    assert OpeningHours.objects.filter(clinic=clinic).exists() and not Closure.objects.exists()


def test_a_manager_cannot_make_a_superuser(client, admin_manager, receptionist):
    client.force_login(admin_manager)
    page = client.get(url(User, "change", receptionist.pk)).content.decode()
    assert 'name="role"' in page
    assert 'name="is_superuser"' not in page and 'name="clinic"' not in page
    assert not User.objects.filter(is_superuser=True).exists()


def test_a_manager_cannot_delete_anything(client, admin_manager, clinic_history):
    client.force_login(admin_manager)
    room = Room.objects.get(clinic=admin_manager.clinic)
    assert client.post(url(Room, "delete", room.pk), {"post": "yes"}).status_code == 403
    assert Room.objects.filter(pk=room.pk).exists()


def test_staff_without_the_manager_role_see_nothing(client, receptionist, clinic_history):
    receptionist.is_staff = True
    receptionist.save(update_fields=["is_staff"])
    client.force_login(receptionist)
    assert client.get(url(Patient, "changelist")).status_code == 403
    assert receptionist.role == Role.RECEPTION


def test_a_manager_adds_staff_to_their_own_clinic(client, admin_manager, clinic):
    client.force_login(admin_manager)
    assert client.get(url(User, "add")).status_code == 200
    response = client.post(url(User, "add"), {
        "username": "newbie", "password1": "a-long-enough-pass", "password2": "a-long-enough-pass",
        "usable_password": "true", "role": Role.CLINICIAN, "first_name": "New", "last_name": "Bie",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    newbie = User.objects.get(username="newbie")
    assert (newbie.clinic, newbie.role, newbie.is_superuser) == (clinic, Role.CLINICIAN, False)


def test_a_clinic_added_in_the_admin_gets_the_library(admin_client):
    inline_management = {
        f"{prefix}-{key}": value
        for prefix in ("opening_hours", "closures")
        for key, value in (("TOTAL_FORMS", "1"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "1000"))
    }
    response = admin_client.post(url(Clinic, "add"), {
        "name": "Admin Clinic", "slug": "admin-clinic", "timezone": "Europe/Vienna", "slot_minutes": "15",
        "reminder_offsets_hours": "[72, 24]", "cancel_cutoff_hours": "24", "two_factor": "off", "language": "en",
        "questionnaire_lead_hours": "48",
        **inline_management,
        "opening_hours-0-weekday": "0", "opening_hours-0-opens": "09:00", "opening_hours-0-closes": "17:00",
        "closures-0-date": "2026-12-24", "closures-0-reason": "Christmas Eve",
    })
    assert response.status_code == 302
    clinic = Clinic.objects.get(slug="admin-clinic")
    assert clinic.protocols.count() == len(PROTOCOLS) == 8
    assert clinic.opening_hours.count() == 1 and clinic.closures.count() == 1


def test_bad_opening_hours_are_a_form_error_not_a_crash(admin_client, clinic):
    inline_management = {
        f"{prefix}-{key}": value
        for prefix in ("opening_hours", "closures")
        for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "1000"))
    }
    inline_management["opening_hours-TOTAL_FORMS"] = "1"
    response = admin_client.post(url(Clinic, "add"), {
        "name": "Bad Hours", "slug": "bad-hours", "timezone": "Europe/Berlin", "slot_minutes": "15",
        "reminder_offsets_hours": "[24]", **inline_management,
        "opening_hours-0-weekday": "9", "opening_hours-0-opens": "17:00", "opening_hours-0-closes": "09:00",
    })
    assert response.status_code == 200
    assert not Clinic.objects.filter(slug="bad-hours").exists()


def clinic_change_form_data(client, clinic) -> dict:
    """The clinic's admin change form as the browser would post it back
    unchanged: the main form and every inline, management forms included."""
    page = client.get(f"/admin/clinics/clinic/{clinic.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for index, row in enumerate(formset.forms):
            for name in row.fields:
                value = row[name].value()
                if value is not None:
                    data[f"{formset.prefix}-{index}-{name}"] = value
    return data


def test_changing_reminder_offsets_in_the_admin_replans_pending_reminders(client, clinic, manager, patient, hair_protocol,
                                                                           receptionist, clinician):
    import datetime as dt

    from django.utils import timezone

    from sessions import services
    from sessions.models import Reminder, ReminderStatus

    enrolment = services.enrol_patient(
        patient=patient, protocol=hair_protocol, start_date=timezone.localdate() + dt.timedelta(days=7), by=receptionist
    )
    first = enrolment.sessions.order_by("sequence").first()
    start = dt.datetime.combine(first.target_date, dt.time(10), tzinfo=clinic.tz)
    services.book_session(session=first, start=start, practitioner=clinician, by=receptionist)
    assert set(first.reminders.filter(status=ReminderStatus.PENDING, kind="booked").values_list("offset_hours", flat=True)) == {72, 24}

    manager.is_staff = True  # as create_staff makes every manager
    manager.save(update_fields=["is_staff"])
    client.force_login(manager)
    data = clinic_change_form_data(client, clinic)
    data["reminder_offsets_hours"] = "[48]"
    response = client.post(f"/admin/clinics/clinic/{clinic.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    pending = Reminder.objects.filter(session=first, status=ReminderStatus.PENDING, kind="booked")
    assert list(pending.values_list("offset_hours", flat=True)) == [48]

    data["reminder_offsets_hours"] = "[0, 48]"
    response = client.post(f"/admin/clinics/clinic/{clinic.pk}/change/", data)
    assert response.status_code == 200 and "each from 1 to 720" in response.content.decode()
    assert list(pending.values_list("offset_hours", flat=True)) == [48]


def test_the_admin_refuses_a_zone_change_or_closure_that_would_move_bookings(client, clinic, manager, patient,
                                                                           hair_protocol, receptionist, clinician):
    import datetime as dt

    from django.utils import timezone

    from sessions import services

    enrolment = services.enrol_patient(
        patient=patient, protocol=hair_protocol, start_date=timezone.localdate() + dt.timedelta(days=7), by=receptionist
    )
    first = enrolment.sessions.order_by("sequence").first()
    start = dt.datetime.combine(first.target_date, dt.time(10), tzinfo=clinic.tz)
    services.book_session(session=first, start=start, practitioner=clinician, by=receptionist)

    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager)
    data = clinic_change_form_data(client, clinic)
    moved = {**data, "timezone": "America/New_York"}
    response = client.post(f"/admin/clinics/clinic/{clinic.pk}/change/", moved)
    assert response.status_code == 200 and "would show at other local times" in response.content.decode()
    closures = {**data, "closures-TOTAL_FORMS": "1", "closures-0-date": first.target_date.isoformat(),
                "closures-0-reason": "Staff day"}
    response = client.post(f"/admin/clinics/clinic/{clinic.pk}/change/", closures)
    assert response.status_code == 200 and "Rebook them (or call the patients) before closing" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.timezone == "Europe/Berlin" and not clinic.closures.exists()
