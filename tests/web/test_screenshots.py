"""A PNG of every staff page, 1280 px wide, over demo-like data built here.

`make screenshots` sets REGIMEN_SCREENSHOTS=docs/screenshots; in the normal
suite the PNGs go to a temporary directory. Either way each page must load
without console errors, fit 1280 px and 800 px without horizontal scrolling,
and give a non-empty PNG.
"""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from clinics.models import Role
from patients.models import Patient
from protocols.models import Protocol
from protocols.services import load_library
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus
from tests.factories import PatientFactory, RoomFactory, UserFactory, lot_of
from tests.web.conftest import browser_login, no_horizontal_scroll, unlabelled_fields

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Demo:
    """A clinic's week: a finished hair course with outcomes, bookings
    tomorrow (one out of window, one after a no-show), sessions due and
    failed reminders."""

    def __init__(self, clinic, receptionist, clinician, manager):
        self.clinic, self.tz = clinic, clinic.tz
        self.reception, self.clinician, self.manager = receptionist, clinician, manager
        clinician.first_name, clinician.last_name = "Claire", "Novak"
        clinician.save()
        manager.first_name, manager.last_name = "Max", "Richter"
        manager.save()
        self.second = UserFactory(clinic=clinic, role=Role.CLINICIAN, username="dora", first_name="Dora", last_name="Kim")
        self.rooms = [RoomFactory(clinic=clinic, name="Room A"), RoomFactory(clinic=clinic, name="Room B")]
        load_library(clinic)
        self.hair = Protocol.objects.get(clinic=clinic, library_key="hair-aga", is_current=True)
        self.photo = Protocol.objects.get(clinic=clinic, library_key="photoaging-4wk", is_current=True)
        self.today = timezone.now().astimezone(self.tz).date()
        self.tomorrow = self.today + dt.timedelta(days=1)

    def at(self, day, hour, minute=0):
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def patient(self, first, last, **fields):
        return PatientFactory(clinic=self.clinic, first_name=first, last_name=last, **fields)

    def enrol(self, patient, protocol, start):
        return services.enrol_patient(
            patient=patient,
            protocol=protocol,
            start_date=start,
            clinician=self.clinician,
            area="vertex scalp" if protocol == self.hair else "face",
            by=self.reception,
            now=self.at(start, 7) - dt.timedelta(days=3),
        )

    def session(self, enrolment, sequence):
        return enrolment.sessions.get(sequence=sequence)

    def book(self, session, start, practitioner=None, room=None, reason="", now=None):
        return services.book_session(
            session=session,
            start=start,
            practitioner=practitioner or self.clinician,
            room=room,
            override_reason=reason,
            by=self.clinician,
            now=now or start - dt.timedelta(days=1),
        )

    def done(self, enrolment, sequence, day, hour, outcomes, **extra):
        session = self.book(self.session(enrolment, sequence), self.at(day, hour), room=self.rooms[0])
        return services.complete_session(
            session=session,
            by=self.clinician,
            outcomes=[{"measure": code, "value": value} for code, value in outcomes.items()],
            lot=lot_of(self.clinic, "SC-2611-04", expiry=dt.date(2099, 12, 31)),
            product_form="lyophilised",
            now=session.start + dt.timedelta(minutes=40),
            **extra,
        )

    def build(self):
        # A finished course: baseline, six injections, end-of-course assessment.
        hanna = Patient.objects.get(clinic=self.clinic, first_name="Hanna")
        start = self.today - dt.timedelta(days=112)
        course = self.enrol(hanna, self.hair, start)
        self.done(course, 1, start, 9, {"hair_density": 118, "hair_thickness": 52})
        day = start
        for sequence, pain in zip(range(2, 8), (4, 3, 3, 2, 2, 1), strict=True):
            day = self.session(course, sequence).target_date + dt.timedelta(days=1)
            events = []
            if sequence == 3:
                events = [{"description": "Pinpoint bleeding and erythema, resolved in 2 days", "severity": "mild",
                           "related_to_treatment": "yes"}]
            self.done(course, sequence, day, 10, {"pain_vas": pain}, adverse_events=events)
        day = self.session(course, 8).target_date + dt.timedelta(days=2)
        self.done(course, 8, day, 9, {"hair_density": 149.5, "hair_thickness": 58, "pgic": 2})
        self.hanna = hanna

        # Mid-course: baseline done, the next injection booked tomorrow.
        jonas = self.patient("Jonas", "Becker", record_number="MRN-10234")
        start = self.today - dt.timedelta(days=13)
        jonas_course = self.enrol(jonas, self.hair, start)
        self.done(jonas_course, 1, start, 9, {"hair_density": 96, "hair_thickness": 47})
        self.book(self.session(jonas_course, 2), self.at(self.tomorrow, 9), room=self.rooms[0],
                  now=timezone.now())
        self.jonas_session = self.session(jonas_course, 2)

        # Photoaging course starting tomorrow, with the second clinician.
        lea = self.patient("Lea", "Schmidt", record_number="MRN-10311", skin_type=2)
        lea_course = self.enrol(lea, self.photo, self.tomorrow)
        self.book(self.session(lea_course, 1), self.at(self.tomorrow, 11), practitioner=self.second,
                  room=self.rooms[1], now=timezone.now())

        # Out of window: the first injection's window passed; booked tomorrow with a reason.
        sara = self.patient("Sara", "Okafor", record_number="MRN-10098", skin_type=5)
        start = self.today - dt.timedelta(days=31)
        sara_course = self.enrol(sara, self.hair, start)
        self.done(sara_course, 1, start, 11, {"hair_density": 104, "hair_thickness": 50})
        self.book(self.session(sara_course, 2), self.at(self.tomorrow, 14), room=self.rooms[0],
                  reason="Patient travelling for three weeks", now=timezone.now())

        # A no-show, rebooked tomorrow.
        tom = self.patient("Tom", "Lindqvist", record_number="MRN-10412", reminder_consent=False)
        start = self.today - dt.timedelta(days=2)
        tom_course = self.enrol(tom, self.hair, start)
        baseline = self.book(self.session(tom_course, 1), self.at(start, 10), room=self.rooms[1])
        services.mark_no_show(session=baseline, by=self.reception, reason="Did not come",
                              now=baseline.start + dt.timedelta(minutes=20))
        self.book(self.session(tom_course, 1), self.at(self.tomorrow, 15, 30), room=self.rooms[1],
                  reason="Missed baseline, rebooked", now=timezone.now())

        # Due to book: windows open now or within the week.
        mehmet = self.patient("Mehmet", "Yilmaz", record_number="MRN-10507")
        self.mehmet_course = self.enrol(mehmet, self.hair, self.today + dt.timedelta(days=3))
        self.mehmet = mehmet
        ana = self.patient("Ana", "Costa", record_number="MRN-10533")
        self.enrol(ana, self.photo, self.today)
        emil = self.patient("Emil", "Graf", record_number="MRN-10020", email="")
        self.enrol(emil, self.hair, self.today - dt.timedelta(days=4))

        # A visit that took place last week and was never completed: awaiting results.
        petra = self.patient("Petra", "Hartmann", record_number="MRN-10644", phone="+49 30 55501101")
        start = self.today - dt.timedelta(days=8)
        petra_course = self.enrol(petra, self.hair, start)
        self.book(self.session(petra_course, 1), self.at(start, 10), room=self.rooms[0])

        # Reminders that failed after every retry.
        for session, error in (
            (self.jonas_session, "SMTP 550 5.1.1 <jonas.becker@example.org>: mailbox unavailable"),
            (self.session(sara_course, 2), "SMTPServerDisconnected: Connection unexpectedly closed"),
        ):
            Reminder.objects.create(
                clinic=self.clinic, session=session, kind=ReminderKind.BOOKED, offset_hours=72,
                due_at=timezone.now() - dt.timedelta(hours=3), status=ReminderStatus.FAILED, attempts=5,
                last_error=error,
            )
        return self


def _shots_dir(tmp_path) -> Path:
    target = os.environ.get("REGIMEN_SCREENSHOTS")
    path = Path(target) if target else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_a_screenshot_of_every_page(live_server, new_page, tmp_path, clinic, patient, receptionist, clinician, manager):
    demo = Demo(clinic, receptionist, clinician, manager).build()
    url = live_server.url
    tomorrow = demo.tomorrow.isoformat()
    hair_first = demo.mehmet_course.sessions.get(sequence=1)
    pages = [
        ("agenda-day", f"/agenda/?date={tomorrow}"),
        ("agenda-week", f"/agenda/?date={tomorrow}&view=week"),
        ("agenda-rooms", f"/agenda/?date={tomorrow}&by=room"),
        ("agenda-grid", f"/agenda/?date={tomorrow}&view=grid"),
        ("agenda-grid-rooms", f"/agenda/?date={tomorrow}&view=grid&by=room"),
        ("agenda-day-list", f"/agenda/?date={tomorrow}&view=list"),
        ("due-list", "/due/"),
        ("patients", "/patients/"),
        ("patient-search", "/patients/?q=becker"),
        ("patient-new", "/patients/new/"),
        ("patient-edit", f"/patients/{demo.hanna.pk}/edit/"),
        ("patient-page", f"/patients/{demo.hanna.pk}/"),
        ("patient-page-midcourse", f"/patients/{demo.jonas_session.patient_id}/"),
        ("enrol", f"/patients/{demo.mehmet.pk}/enrol/"),
        ("book", f"/sessions/{hair_first.pk}/book/"),
        ("book-booked", f"/sessions/{demo.jonas_session.pk}/book/"),
        ("book-rebook", f"/sessions/{demo.jonas_session.pk}/book/?change_reason=patient#slots"),
        ("patient-search-accents", "/patients/?q=hartmann%2C+petra"),
        ("my-calendar", "/calendar/"),
        ("complete", f"/sessions/{demo.jonas_session.pk}/complete/"),
        ("failed-reminders", "/reminders/failed/"),
        ("protocols", "/protocols/"),
        ("protocol-detail", f"/protocols/{demo.hair.pk}/"),
        ("settings", "/settings/"),
        ("protocol-edit", f"/protocols/{demo.hair.pk}/edit/"),
        ("protocol-new", "/protocols/new/"),
        ("lots", "/lots/"),
        # tests/reports/test_page.py keeps reports.png (and its print) over its own cohort of ten.
        ("reports-demo", "/reports/"),
        ("reports-demo-hair", f"/reports/?protocol={demo.hair.pk}"),
        ("audit-log", "/audit/"),
    ]
    out = _shots_dir(tmp_path)

    login_page = new_page()
    login_page.goto(f"{url}/accounts/login/")
    assert unlabelled_fields(login_page) == []
    login_page.screenshot(path=str(out / "login.png"), full_page=True)
    saved = [out / "login.png"]

    page = browser_login(new_page(), url, manager)
    for name, path in pages:
        response = page.goto(url + path)
        assert response.status == 200, (name, response.status)
        assert no_horizontal_scroll(page), f"{name} scrolls sideways at 1280 px"
        assert unlabelled_fields(page) == [], name
        target = out / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        saved.append(target)
        if name == "enrol":
            # The enrol page with its preview of the generated dates.
            page.get_by_label("Protocol").select_option(label=f"{demo.hair.name} (v{demo.hair.version})")
            page.get_by_role("button", name="Preview schedule").click()
            page.locator("#preview").wait_for()
            target = out / "enrol-preview.png"
            page.screenshot(path=str(target), full_page=True)
            saved.append(target)

    tablet = browser_login(new_page(width=800, height=1000), url, manager)
    for name, path in pages:
        tablet.goto(url + path)
        assert no_horizontal_scroll(tablet), f"{name} scrolls sideways at 800 px"
    for name in ("agenda-day", "agenda-grid", "agenda-grid-rooms", "agenda-day-list", "due-list", "patient-page",
                 "book", "settings", "protocol-edit"):
        tablet.goto(url + dict(pages)[name])
        target = out / f"{name}-800px.png"
        tablet.screenshot(path=str(target), full_page=True)
        saved.append(target)

    # The day list as it prints: no navigation, no buttons.
    page.goto(url + dict(pages)["agenda-day-list"])
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    target = out / "agenda-day-list-print.png"
    page.screenshot(path=str(target), full_page=True)
    saved.append(target)
    page.emulate_media(media="screen")

    for target in saved:
        assert target.stat().st_size > 1000, target
