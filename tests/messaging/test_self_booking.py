"""Patients book their own visits inside the protocol's window (SPEC §18),
through the HTTP client with Django's CSRF checks on: the page behind
`/p/<token>/book/`, its window's edges, a move before and after the
cut-off, a time that would push a later booking out of its window, bad
input, the rate limit, tampered and dead links, the staff's marks, and two
patients racing for one slot (two threads, two database connections)."""

import datetime as dt
import re
import threading
from urllib.parse import urlparse

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from messaging import emails, links
from sessions import services
from sessions.models import Reminder, ReminderKind, ReminderStatus, Session, SessionStatus
from tests.factories import PatientFactory, UserFactory, make_protocol, step
from tests.messaging.test_patient_links import clear_link_counters
from tests.web.conftest import login

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday; the course starts Monday 23 November
STEPS = [
    step("Baseline", "assessment", window_after_days=7, duration_minutes=30),
    step("Injection", repeat=2, interval_days=14, window_after_days=14, duration_minutes=45),
]


@pytest.fixture(autouse=True)
def fresh_counters():
    clear_link_counters()
    yield
    clear_link_counters()


@pytest.fixture
def browser_client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def course(clinic, patient, receptionist, clinician, manager):
    """Hanna Weber's course: a baseline (window 23–30 November) and two
    injections (the first's window 7–21 December); the clinic lets
    patients book, is open 08:00–20:00 every day, with 15-minute slots."""
    clinic.patients_may_book = True
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()
    protocol = make_protocol(clinic, steps=STEPS, name="Hair")
    with time_machine.travel(NOW, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=protocol, start_date=dt.date(2026, 11, 23), by=receptionist
        )
    return enrolment


def session_of(enrolment, sequence) -> Session:
    return enrolment.sessions.get(sequence=sequence)


def page_path(session) -> str:
    return urlparse(links.self_book_url(session)).path


def at(moment, action):
    with time_machine.travel(moment, tick=False):
        return action()


def berlin(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.timezone(dt.timedelta(hours=1)))


def choose(client, path, moment, start, practitioner_id):
    """GET the page (for the CSRF cookie), then POST the time's button."""
    with time_machine.travel(moment, tick=False):
        page = client.get(path)
        assert page.status_code == 200, page.content
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
        data = {"csrfmiddlewaretoken": token, "practitioner": str(practitioner_id)}
        if start is not None:
            data["start"] = start if isinstance(start, str) else start.isoformat()
        return client.post(path, data)


def offered_starts(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def test_the_window_opens_email_links_to_the_page_and_a_booking_runs_through_the_staff_booking(
    course, browser_client, clinician
):
    baseline = session_of(course, 1)
    reminder = Reminder.objects.get(session=baseline, kind=ReminderKind.WINDOW_OPEN)
    body = at(NOW, lambda: emails.build_email(reminder).body)
    path = urlparse(re.search(r"https?://\S+/p/\S+/book/", body).group(0)).path

    page = at(NOW, lambda: browser_client.get(path))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Choose a time for your visit" in html
    assert "<summary>Monday 23 November 2026</summary>" in html
    assert "<summary>Monday 30 November 2026</summary>" in html
    assert "December" not in html  # after the window
    assert "Weber" not in html  # nothing about anyone but the visit
    assert 'value="2026-11-23T10:00:00+01:00"' in html  # ISO 8601 with the offset, in the clinic's time

    # An hour after the enrolment: the audit names the fields changed since
    # the history's previous row, which a frozen clock would leave at the same instant.
    later = NOW + dt.timedelta(hours=1)
    response = choose(browser_client, path, later, berlin(dt.date(2026, 11, 24), 10), clinician.pk)
    assert response.status_code == 303
    baseline.refresh_from_db()
    assert baseline.status == SessionStatus.BOOKED
    assert baseline.start == dt.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert baseline.practitioner == clinician and baseline.booked_by_patient
    # The cascade ran: the first injection follows the baseline's booking.
    assert session_of(course, 2).target_date == dt.date(2026, 12, 8)
    # One confirmation email, through the outbox, as for a staff booking.
    assert Reminder.objects.filter(session=baseline, kind=ReminderKind.CONFIRMATION).count() == 1
    # In the history (without a staff user) and so in the audit log.
    record = baseline.history.order_by("-history_date", "-history_id").first()
    assert record.booked_by_patient and record.history_user is None
    assert AuditEvent.objects.filter(
        object_id=str(baseline.pk), user=None, summary__contains="booked_by_patient"
    ).exists()

    shown = at(NOW, lambda: browser_client.get(response["Location"]))
    html = shown.content.decode()
    assert "You are booked" in html and "Tuesday 24 November 2026, 10:00" in html
    ics_url = re.search(r'href="([^"]+appointment\.ics)"', html).group(1)
    ics = at(NOW, lambda: browser_client.get(ics_url))
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"DTSTART:20261124T090000Z" in ics.content


def test_the_window_edges_from_tomorrow_at_most_14_days_and_nothing_outside_is_booked(
    course, browser_client, clinician
):
    injection = session_of(course, 2)  # window Monday 7 to Monday 21 December: 15 days
    path = page_path(injection)
    sunday = dt.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    html = at(sunday, lambda: browser_client.get(path)).content.decode()
    assert "<summary>Monday 7 December 2026</summary>" in html and "<summary>Sunday 20 December 2026</summary>" in html
    assert "<summary>Monday 21 December 2026</summary>" not in html  # the window's 15th day: not shown
    starts = offered_starts(html)
    assert starts[0] == "2026-12-07T08:00:00+01:00" and starts[-1].startswith("2026-12-20T")

    # On the window's first day, the page starts tomorrow.
    monday = dt.datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    html = at(monday, lambda: browser_client.get(path)).content.decode()
    assert "<summary>Monday 7 December 2026</summary>" not in html
    assert "<summary>Tuesday 8 December 2026</summary>" in html

    for start in (berlin(dt.date(2026, 12, 21), 10), berlin(dt.date(2026, 12, 6), 10), "2026-12-07T10:00:00+01:00"):
        moment = sunday if start != "2026-12-07T10:00:00+01:00" else monday
        response = choose(browser_client, path, moment, start, clinician.pk)
        assert response.status_code == 400
        assert "Time:" in response.content.decode()
    injection.refresh_from_db()
    assert injection.status == SessionStatus.PLANNED


@pytest.mark.parametrize(
    "start, practitioner, field",
    [
        ("next tuesday", "mine", "Time:"),
        ("2026-11-24T10:00:00", "mine", "Time:"),  # no offset
        ("2026-11-24T10:00:00+01:00", "abc", "Practitioner:"),
        ("2026-11-24T10:00:00+01:00", "receptionist", "Practitioner:"),  # not a practitioner
        ("2026-11-24T10:00:00+01:00", "outsider", "Practitioner:"),  # another clinic's
        ("9999-12-31T23:45:00-14:00", "mine", "Time:"),
        (None, "mine", "Time:"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    course, browser_client, clinician, receptionist, outsider, start, practitioner, field
):
    baseline = session_of(course, 1)
    ids = {"mine": clinician.pk, "receptionist": receptionist.pk, "outsider": outsider.pk, "abc": "abc"}
    response = choose(browser_client, page_path(baseline), NOW, start, ids[practitioner])
    assert response.status_code == 400
    assert field in response.content.decode()
    baseline.refresh_from_db()
    assert (
        baseline.status == SessionStatus.PLANNED
        and not Reminder.objects.filter(session=baseline, kind=ReminderKind.CONFIRMATION).exists()
    )


def test_a_post_without_the_csrf_token_is_refused(course, browser_client, clinician):
    baseline = session_of(course, 1)
    path = page_path(baseline)
    at(NOW, lambda: browser_client.get(path))
    response = at(
        NOW, lambda: browser_client.post(path, {"start": "2026-11-24T10:00:00+01:00", "practitioner": clinician.pk})
    )
    assert response.status_code == 403
    baseline.refresh_from_db()
    assert baseline.status == SessionStatus.PLANNED


def test_a_time_that_would_push_a_later_booking_out_of_its_window_is_not_offered(
    course, browser_client, clinician, receptionist
):
    baseline, injection = session_of(course, 1), session_of(course, 2)
    with time_machine.travel(NOW, tick=False):
        services.book_session(
            session=baseline, start=berlin(dt.date(2026, 11, 23), 9), practitioner=clinician, by=receptionist
        )
        services.book_session(
            session=injection, start=berlin(dt.date(2026, 12, 7), 9), practitioner=clinician, by=receptionist
        )
    path = page_path(session_of(course, 1))
    html = at(NOW, lambda: browser_client.get(path)).content.decode()
    # Moving the baseline to the 24th or later would move the injection's
    # window to start after the 7th, where it is booked.
    assert "<summary>Monday 23 November 2026</summary>" in html
    assert "<summary>Tuesday 24 November 2026</summary>" not in html
    response = choose(browser_client, path, NOW, berlin(dt.date(2026, 11, 25), 10), clinician.pk)
    assert response.status_code == 400
    assert "later visit" in response.content.decode()
    assert session_of(course, 1).start == dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_move_before_the_cut_off_goes_through_and_after_it_is_refused(
    course, browser_client, clinician, manager, receptionist
):
    baseline = session_of(course, 1)
    booked_at = dt.datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    with time_machine.travel(NOW, tick=False):
        services.book_session(session=baseline, start=booked_at, practitioner=manager, by=receptionist)
        # Her practitioner is busy on the 26th at 11:00: that time is offered with a colleague, named.
        other = services.enrol_patient(
            patient=PatientFactory(clinic=baseline.clinic),
            protocol=course.protocol,
            start_date=dt.date(2026, 11, 26),
            by=receptionist,
        )
        services.book_session(
            session=session_of(other, 1),
            start=berlin(dt.date(2026, 11, 26), 11),
            practitioner=manager,
            by=receptionist,
        )
    path = page_path(baseline)
    html = at(NOW, lambda: browser_client.get(path)).content.decode()
    assert "Choose another time" in html and "Wednesday 25 November 2026, 10:00" in html
    first_group = re.search(r'<p class="slot-who">(.*?)</p>', html).group(1)
    assert manager.display_name in first_group and "your practitioner" in first_group
    thursday = html[html.index("Thursday 26 November 2026</summary>") :]
    thursday = thursday[: thursday.index("</details>")]
    colleague = re.search(rf'value="{clinician.pk}">(.*?)</form>', thursday, re.S).group(1)
    assert clinician.display_name in colleague and offered_starts(colleague) == [
        "2026-11-26T10:45:00+01:00",
        "2026-11-26T11:00:00+01:00",
        "2026-11-26T11:15:00+01:00",
    ]  # each time once: with her practitioner when free, else a colleague, named
    assert 'value="2026-11-25T10:00:00+01:00"' not in re.search(
        rf'value="{manager.pk}">.*?</form>', html[html.index("Wednesday 25 November 2026</summary>") :], re.S
    ).group(0)  # the current booking is not offered to itself

    new = berlin(dt.date(2026, 11, 26), 11)
    response = choose(browser_client, path, NOW, new, clinician.pk)
    assert response.status_code == 303
    baseline.refresh_from_db()
    assert baseline.start == new and baseline.practitioner == clinician and baseline.booked_by_patient
    # The notice of the new time (a confirmation, as the first one had not gone out yet).
    [notice] = Reminder.objects.filter(
        session=baseline, kind__in=(ReminderKind.CONFIRMATION, ReminderKind.MOVED), status=ReminderStatus.PENDING
    )
    assert notice.event_start == new

    late = new - dt.timedelta(hours=23)  # the clinic's cut-off is 24 hours
    html = at(late, lambda: browser_client.get(path)).content.decode()
    assert "too late to change this appointment online" in html and not offered_starts(html)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is None  # no form to post
    at(late, lambda: browser_client.get(path))
    csrf = browser_client.cookies["csrftoken"].value
    response = at(
        late,
        lambda: browser_client.post(
            path,
            {"start": berlin(dt.date(2026, 11, 28), 10).isoformat(), "practitioner": clinician.pk},
            HTTP_X_CSRFTOKEN=csrf,
        ),
    )
    assert response.status_code == 409
    assert "too late" in response.content.decode()
    baseline.refresh_from_db()
    assert baseline.start == new


def test_links_are_rate_limited_per_address(course, browser_client, settings):
    settings.PATIENT_LINK_RATE_PER_MINUTE = 3
    path = page_path(session_of(course, 1))
    codes = [at(NOW, lambda: browser_client.get(path)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert at(NOW, lambda: other.get(path)).status_code == 200


def test_a_tampered_an_expired_and_a_spent_link_show_nothing_about_anyone(
    course, browser_client, clinician, receptionist
):
    baseline = session_of(course, 1)
    path = page_path(baseline)
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    visit_token_path = f"/p/{links._dumps(links.Link(links.VISIT, baseline.pk, None))}/book/"
    for bad, moment in (
        (tampered, NOW),
        (visit_token_path, NOW),  # a token for another purpose
        (path, dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),  # the window has closed
    ):
        response = at(moment, lambda bad=bad: browser_client.get(bad))
        html = response.content.decode()
        assert response.status_code == 404, bad
        assert "Baseline" not in html and "Hanna" not in html and "Charité" not in html

    # The session is done (skipped here): the link dies.
    at(NOW, lambda: services.skip_session(session=baseline, reason="Not needed", by=clinician))
    assert at(NOW, lambda: browser_client.get(path)).status_code == 404


def test_the_clinic_setting_turns_the_page_and_the_links_off(course, browser_client, clinic):
    baseline = session_of(course, 1)
    path = page_path(baseline)
    clinic.patients_may_book = False
    clinic.save()
    assert at(NOW, lambda: browser_client.get(path)).status_code == 404
    reminder = Reminder.objects.get(session=baseline, kind=ReminderKind.WINDOW_OPEN)
    assert "/book/" not in at(NOW, lambda: emails.build_email(reminder).body)


def test_staff_see_booked_by_the_patient_on_the_agenda_the_patient_page_and_the_api(
    course, browser_client, client, receptionist, clinician
):
    baseline = session_of(course, 1)
    response = choose(browser_client, page_path(baseline), NOW, berlin(dt.date(2026, 11, 24), 10), clinician.pk)
    assert response.status_code == 303
    staff = login(client, receptionist)
    with time_machine.travel(NOW, tick=False):
        agenda = staff.get("/agenda/", {"date": "2026-11-24"}).content.decode()
        assert "booked by the patient" in agenda
        detail = staff.get(f"/patients/{baseline.patient_id}/").content.decode()
        assert "booked by the patient" in detail
        data = staff.get(f"/api/v1/sessions/{baseline.pk}/").json()
        assert data["booked_by_patient"] is True
        # A staff move clears the mark.
        services.book_session(
            session=baseline, start=berlin(dt.date(2026, 11, 25), 10), practitioner=clinician, by=receptionist
        )
        assert staff.get(f"/api/v1/sessions/{baseline.pk}/").json()["booked_by_patient"] is False


def test_the_visit_page_of_a_booked_session_links_to_the_booking_page(course, browser_client, clinician, receptionist):
    baseline = session_of(course, 1)
    at(
        NOW,
        lambda: services.book_session(
            session=baseline, start=berlin(dt.date(2026, 11, 25), 10), practitioner=clinician, by=receptionist
        ),
    )
    visit = urlparse(links.visit_url(session_of(course, 1))).path
    html = at(NOW, lambda: browser_client.get(visit)).content.decode()
    link = re.search(r'href="([^"]+/book/)">Choose another time', html).group(1)
    assert at(NOW, lambda: browser_client.get(urlparse(link).path)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_patients_taking_one_slot_one_gets_it_the_other_sees_fresh_slots(clinic, receptionist):
    """Real time (the threads share the clock), two database connections."""
    clinic.patients_may_book = True
    clinic.save()
    only = UserFactory(clinic=clinic, role="clinician", username="solo")
    protocol = make_protocol(
        clinic, steps=[step("Scalp", repeat=1, window_after_days=10, duration_minutes=30)], name="Scalp"
    )
    start_day = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=2)
    sessions = []
    for name in ("Anna", "Berta"):
        enrolment = services.enrol_patient(
            patient=PatientFactory(clinic=clinic, first_name=name),
            protocol=protocol,
            start_date=start_day,
            by=receptionist,
        )
        sessions.append(enrolment.sessions.get())
    slot = dt.datetime.combine(start_day + dt.timedelta(days=1), dt.time(10, 0), tzinfo=clinic.tz)
    barrier = threading.Barrier(2)
    results = {}

    def patient_books(session):
        try:
            browser = Client()
            path = page_path(session)
            assert browser.get(path).status_code == 200
            barrier.wait()
            results[session.pk] = browser.post(path, {"start": slot.isoformat(), "practitioner": only.pk})
        finally:
            connection.close()

    threads = [threading.Thread(target=patient_books, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(r.status_code for r in results.values())
    assert codes == [303, 409], codes
    [loser] = [r for r in results.values() if r.status_code == 409]
    html = loser.content.decode()
    assert "just taken" in html
    assert slot.isoformat() not in offered_starts(html) and offered_starts(html)  # fresh slots, not the taken one
    assert Session.objects.filter(start=slot, status=SessionStatus.BOOKED).count() == 1
    assert Reminder.objects.filter(session__in=sessions, kind=ReminderKind.CONFIRMATION).count() == 1


def test_the_missed_and_the_cancellation_emails_of_an_unbooked_session_link_to_the_page(
    course, browser_client, clinician, receptionist
):
    baseline = session_of(course, 1)
    start = berlin(dt.date(2026, 11, 23), 10)
    at(NOW, lambda: services.book_session(session=baseline, start=start, practitioner=clinician, by=receptionist))
    after = start + dt.timedelta(hours=2)
    at(after, lambda: services.mark_no_show(session=session_of(course, 1), by=receptionist))
    missed = Reminder.objects.get(session=baseline, kind=ReminderKind.MISSED)
    body = at(after, lambda: emails.build_email(missed).body)
    path = urlparse(re.search(r"https?://\S+/p/\S+/book/", body).group(0)).path
    assert at(after, lambda: browser_client.get(path)).status_code == 200

    # A clinic's cancellation of a booking the patient was told about.
    injection = session_of(course, 2)
    at(after, lambda: services.book_session(session=injection, start=berlin(dt.date(2026, 12, 8), 10),
                                            practitioner=clinician, by=receptionist))  # fmt: skip
    Reminder.objects.filter(session=injection, kind=ReminderKind.CONFIRMATION).update(status=ReminderStatus.SENT)
    at(after, lambda: services.cancel_booking(session=session_of(course, 2), by=receptionist))
    notice = Reminder.objects.get(session=injection, kind=ReminderKind.CANCELLED)
    assert "/book/" in at(after, lambda: emails.build_email(notice).body)


def test_the_setting_is_off_by_default_and_the_manager_turns_it_on(manager, receptionist):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    assert api.get("/api/v1/clinic/").json()["patients_may_book"] is False
    answer = api.patch("/api/v1/clinic/", {"patients_may_book": True}, format="json")
    assert answer.status_code == 200 and answer.json()["patients_may_book"] is True
    desk = APIClient()
    desk.force_authenticate(receptionist)
    assert desk.patch("/api/v1/clinic/", {"patients_may_book": False}, format="json").status_code == 403
    manager.clinic.refresh_from_db()
    assert manager.clinic.patients_may_book is True
