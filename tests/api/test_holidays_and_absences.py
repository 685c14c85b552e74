"""Issue 24: public holidays as closures, closures with reasons, closures
that meet bookings name them, and practitioners' absences."""

import datetime as dt

import pytest
from django.test import Client

from clinics.models import Absence, Clinic, Closure
from messaging import tasks
from sessions.services import book_session
from tests.web.conftest import login

from .conftest import at


def holiday_dates(clinic):
    return {c.date: c.reason for c in clinic.closures.filter(holiday=True)}


def test_a_holiday_region_closes_its_holidays_for_two_years(client_as, manager, clinic, frozen):
    answer = client_as(manager).patch("/api/v1/clinic/", {"holiday_region": "DE-BE"}, format="json")
    assert answer.status_code == 200, answer.content
    days = holiday_dates(clinic)
    assert days[dt.date(2026, 3, 8)] == "Women's Day"  # Berlin's own holiday
    assert dt.date(2026, 10, 3) in days and dt.date(2027, 1, 1) in days and dt.date(2028, 1, 1) in days
    assert max(days) <= dt.date(2028, 3, 1) and min(days) >= dt.date(2026, 3, 1)
    detail = next(c for c in answer.json()["closure_details"] if c["date"] == "2026-10-03")
    assert detail == {"date": "2026-10-03", "reason": "German Unity Day", "holiday": True}


@pytest.mark.parametrize("region", ["XX", "DE-XX", "berlin", "DE-BE-1"])
def test_a_bad_region_is_400_and_changes_nothing(client_as, manager, clinic, frozen, region):
    answer = client_as(manager).patch("/api/v1/clinic/", {"holiday_region": region}, format="json")
    assert answer.status_code == 400 and "holiday_region" in answer.json()
    assert not clinic.closures.exists()


def test_a_reopened_holiday_stays_open_and_beat_keeps_the_rest(client_as, manager, clinic, frozen):
    client = client_as(manager)
    client.patch("/api/v1/clinic/", {"holiday_region": "DE-BE"}, format="json")
    days = [d.isoformat() for d in holiday_dates(clinic) if d != dt.date(2026, 3, 8)]
    assert client.patch("/api/v1/clinic/", {"closures": days}, format="json").status_code == 200
    Closure.objects.filter(clinic=clinic, date=dt.date(2026, 10, 3)).delete()  # as if never synced
    tasks.sync_holiday_closures()
    days = holiday_dates(clinic)
    assert dt.date(2026, 3, 8) not in days and dt.date(2026, 10, 3) in days


def test_beat_syncs_every_clinic_with_a_region_and_leaves_booked_holidays_open(
    clinic, frozen, first_injection, clinician, receptionist
):
    Clinic.objects.filter(pk=clinic.pk).update(holiday_region="DE-BE")
    # Good Friday 2026 is 3 April; a visit is booked then.
    first_injection.window_end = dt.date(2026, 4, 5)
    book_session(session=first_injection, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=receptionist)
    third = first_injection.enrolment.sessions.get(sequence=3)
    book_session(session=third, start=at(dt.date(2026, 4, 3), 10), practitioner=clinician, by=receptionist)
    left_open = tasks.sync_holiday_closures()
    assert left_open == {clinic.pk: ["2026-04-03"]}
    assert dt.date(2026, 4, 6) in holiday_dates(clinic) and dt.date(2026, 4, 3) not in holiday_dates(clinic)


def test_a_closure_meeting_bookings_names_the_patients_and_visits(client_as, manager, clinic, frozen, first_injection,
                                                                  clinician):
    book_session(session=first_injection, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=manager)
    answer = client_as(manager).patch("/api/v1/clinic/", {"closures": ["2026-03-16"]}, format="json")
    assert answer.status_code == 409
    assert "Hanna Weber, Injection #2 at 2026-03-16 10:00" in answer.json()["closures"][0]
    assert answer.json()["bookings"] == [
        {"session": first_injection.pk, "patient": "Hanna Weber", "phone": first_injection.patient.phone,
         "step": "Injection", "sequence": 2,
         "start": "2026-03-16T10:00:00+01:00", "rebook_url": f"/sessions/{first_injection.pk}/book/"}
    ]
    # The settings page says the same, with a link to rebook each.
    page = login(Client(), manager).post("/settings/closures/", {"date": "2026-03-16", "action": "add"})
    assert page.status_code == 400
    assert f'href="/sessions/{first_injection.pk}/book/"' in page.content.decode()
    assert "Hanna Weber" in page.content.decode()
    assert not clinic.closures.exists()


def test_a_closure_keeps_its_reason(manager, clinic, frozen):
    page = login(Client(), manager).post("/settings/closures/",
                                         {"date": "2026-04-20", "reason": "Team training", "action": "add"})
    assert page.status_code == 302
    assert clinic.closures.get().reason == "Team training"
    assert "Team training" in login(Client(), manager).get("/settings/").content.decode()


def test_an_absence_hides_the_practitioners_slots_and_refuses_their_bookings(
    client_as, manager, clinician, clinic, frozen, first_injection
):
    page = login(Client(), manager).post("/settings/absences/", {
        "practitioner": clinician.pk, "first_day": "2026-03-16", "last_day": "2026-03-18", "reason": "Congress",
    })
    assert page.status_code == 302, page.content
    assert Absence.objects.get().reason == "Congress"
    client = client_as(manager)
    slots = client.get(f"/api/v1/sessions/{first_injection.pk}/slots/",
                       {"date_from": "2026-03-16", "date_to": "2026-03-19", "practitioner": clinician.pk}).json()
    days = {s["start"][:10] for s in slots}
    assert days == {"2026-03-19"}
    answer = client.post(f"/api/v1/sessions/{first_injection.pk}/book/",
                         {"start": "2026-03-17T10:00", "practitioner": clinician.pk}, format="json")
    assert answer.status_code == 400 and "absent" in answer.json()["practitioner"][0]


def test_an_absence_over_bookings_is_refused_naming_them(manager, clinician, clinic, frozen, first_injection):
    book_session(session=first_injection, start=at(dt.date(2026, 3, 16), 10), practitioner=clinician, by=manager)
    page = login(Client(), manager).post("/settings/absences/", {
        "practitioner": clinician.pk, "first_day": "2026-03-15", "last_day": "2026-03-17",
    })
    assert page.status_code == 400
    assert f'href="/sessions/{first_injection.pk}/book/"' in page.content.decode()
    bad = login(Client(), manager).post("/settings/absences/", {
        "practitioner": clinician.pk, "first_day": "2026-03-20", "last_day": "2026-03-19",
    })
    assert bad.status_code == 400 and "last day" in bad.content.decode()
    assert not Absence.objects.exists()


def test_absences_over_the_api(client_as, manager, receptionist, clinician, clinic, frozen, first_injection, outsider):
    client = client_as(manager)
    body = {"practitioner": clinician.pk, "first_day": "2026-03-16", "last_day": "2026-03-18", "reason": "Congress"}
    assert client_as(receptionist).post("/api/v1/absences/", body, format="json").status_code == 403
    created = client.post("/api/v1/absences/", body, format="json")
    assert created.status_code == 201, created.content
    assert client_as(receptionist).get("/api/v1/absences/").json()["results"][0]["reason"] == "Congress"
    assert client_as(outsider).get("/api/v1/absences/").json()["results"] == []
    bad = client.post("/api/v1/absences/", {**body, "last_day": "2026-03-01"}, format="json")
    assert bad.status_code == 400 and "last_day" in bad.json()
    assert client.post("/api/v1/absences/", {**body, "practitioner": receptionist.pk},
                       format="json").status_code == 400
    book_session(session=first_injection, start=at(dt.date(2026, 3, 20), 10), practitioner=clinician, by=manager)
    clash = client.post("/api/v1/absences/", {**body, "first_day": "2026-03-20", "last_day": "2026-03-20"},
                        format="json")
    assert clash.status_code == 409 and clash.json()["bookings"][0]["session"] == first_injection.pk
    assert client.delete(f"/api/v1/absences/{created.json()['id']}/").status_code == 204
    assert not Absence.objects.exists()
