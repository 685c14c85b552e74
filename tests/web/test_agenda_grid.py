"""Issue 13: the agenda as a time grid, "my day" and the printable day list."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clinics.models import OpeningHours
from tests.web.conftest import login
from web.sessions.agenda_grid import build_grid

pytestmark = pytest.mark.django_db


def grid_of(response):
    return response.context["grid"]


def test_the_grid_places_a_booking_over_its_rows_and_shades_closed_hours(receptionist, clinician, booked, clinic):
    day = booked.start.astimezone(clinic.tz).date()
    OpeningHours.objects.filter(clinic=clinic, weekday=day.weekday()).update(opens=dt.time(9), closes=dt.time(17))
    page = login(Client(), receptionist)
    response = page.get(reverse("agenda"), {"date": day.isoformat(), "view": "grid"})
    grid = grid_of(response)
    column = [pk for pk, _ in grid["resources"]].index(clinician.pk)
    rows = {row.time: row.cells[column] for row in grid["rows"]}
    cell = rows[dt.time(10, 0)]
    assert cell.sessions == [booked]
    assert cell.span == booked.step.duration_minutes // clinic.slot_minutes
    assert rows[dt.time(10, 15)].covered
    assert grid["rows"][0].time == dt.time(9, 0) and rows[dt.time(16, 45)].open
    html = response.content.decode()
    assert f'rowspan="{cell.span}" class="booked"' in html
    assert f"aria-label=\"Book 11:00 with {clinician.display_name}\"" in html


def test_build_grid_shades_hours_outside_opening_and_extends_for_late_bookings():
    tz = dt.UTC

    class Booking:
        practitioner_id = 1
        start = dt.datetime(2027, 1, 4, 18, 0, tzinfo=tz)
        end = dt.datetime(2027, 1, 4, 18, 45, tzinfo=tz)

    rows = build_grid(day=dt.date(2027, 1, 4), tz=tz, slot_minutes=15, hours=[(dt.time(9), dt.time(17))],
                      closed=False, resources=[(1, "Dr A")], key="practitioner_id", sessions=[Booking()])
    times = [row.time for row in rows]
    assert times[0] == dt.time(9) and times[-1] == dt.time(18, 30)
    by_time = {row.time: row.cells[0] for row in rows}
    assert by_time[dt.time(16, 45)].open and not by_time[dt.time(17, 0)].open
    assert by_time[dt.time(18, 0)].span == 3 and by_time[dt.time(18, 30)].covered


def test_my_day_shows_only_the_clinicians_column(clinician, manager, booked):
    page = login(Client(), clinician)
    day = booked.start.astimezone(booked.clinic.tz).date()
    response = page.get(reverse("agenda"), {"date": day.isoformat(), "view": "grid", "mine": "1"})
    assert grid_of(response)["resources"] == [(clinician.pk, clinician.display_name)]
    assert "My day:" in response.content.decode()
    other = login(Client(), manager).get(reverse("agenda"), {"date": day.isoformat(), "view": "grid", "mine": "1"})
    assert all(not cell.sessions for row in grid_of(other)["rows"] for cell in row.cells)


def test_a_free_cell_leads_through_the_due_list_to_the_book_page_at_that_time(receptionist, clinician, enrolment):
    page = login(Client(), receptionist)
    second = enrolment.sessions.get(sequence=1)  # due tomorrow
    when = f"{second.window_start.isoformat()}T11:15"
    due = page.get(reverse("due"), {"slot": when, "practitioner": clinician.pk})
    assert due.context["slot"]["practitioner"] == clinician
    query = f"?date={second.window_start.isoformat()}&time=11:15&practitioner={clinician.pk}"
    assert f"{reverse('session_book', args=[second.pk])}{query}".replace("&", "&amp;") in due.content.decode()
    book = page.get(reverse("session_book", args=[second.pk]) + query)
    form = book.context["time_form"]
    assert form.initial["time"] == "11:15" and str(form.initial["practitioner"]) == str(clinician.pk)
    assert page.get(reverse("due"), {"slot": "nonsense", "practitioner": "x"}).context["slot"] is None


def test_the_day_list_is_a_printable_table(receptionist, booked):
    page = login(Client(), receptionist)
    day = booked.start.astimezone(booked.clinic.tz).date()
    response = page.get(reverse("agenda"), {"date": day.isoformat(), "view": "list"})
    assert response.context["day_list"] == [booked]
    assert "Hair regeneration" in response.content.decode()
