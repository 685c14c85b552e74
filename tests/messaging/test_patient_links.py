"""The patient's page behind an email's signed link (SPEC §13), through the
HTTP client with Django's CSRF checks on: the links are read out of emails
delivered to a real SMTP server."""

import datetime as dt
import re
from urllib.parse import urljoin, urlparse

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import signing
from django.test import Client

from messaging import links, outbox
from sessions import services
from sessions.models import PatientCancellation, Reminder, ReminderKind, ReminderStatus, SessionStatus
from tests.factories import PatientFactory
from tests.messaging.conftest import parts
from tests.web.conftest import login
from web.links import invalid_link_count

UTC = dt.UTC
BOOKED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WEDNESDAY_1000 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def clear_link_counters():
    """Delete the rate limit and refusal counters only: the cache shares its
    Redis database with the Celery broker, which a FLUSHDB would empty."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="*patient-link:*"):
        client.delete(key)


@pytest.fixture(autouse=True)
def fresh_counters():
    """The rate limit and the refusal counter live in the shared cache."""
    clear_link_counters()
    yield
    clear_link_counters()


@pytest.fixture
def browser_client():
    """A patient's browser: no login, CSRF enforced as in production."""
    return Client(enforce_csrf_checks=True)


def setup_clinic(clinic):
    clinic.phone = "+49 30 450 000"
    clinic.address = "Luisenstraße 2, 10117 Berlin"
    clinic.save()


def mailed_links(message) -> dict[str, str]:
    """'visit' / 'book' / 'unsubscribe' -> the path of that link in the email."""
    found = {}
    for url in re.findall(r"https?://\S+", parts(message)["text/plain"]):
        path = urlparse(url).path
        found["unsubscribe" if path.startswith("/u/") else "page"] = path
    return found


def at(moment, action):
    with time_machine.travel(moment, tick=False):
        return action()


@pytest.fixture
def course(smtp, clinic, patient, hair_protocol, receptionist, clinician):
    """Hanna Weber's baseline booked for Wednesday 10:00, two days after its
    target (a clinician's override), so later sessions follow the booking;
    and the confirmation that reached her, with its links."""
    setup_clinic(clinic)
    with time_machine.travel(BOOKED_AT, tick=False):
        enrolment = services.enrol_patient(
            patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 11, 30), by=receptionist
        )
        baseline = enrolment.sessions.get(sequence=1)
        services.book_session(
            session=baseline, start=WEDNESDAY_1000, practitioner=clinician, override_reason="patient travels",
            by=clinician,
        )  # fmt: skip
    outbox.scan(now=BOOKED_AT)
    [confirmation] = [m for m in smtp.messages if "is booked" in m["Subject"]]
    return {"session": baseline, "enrolment": enrolment, "links": mailed_links(confirmation)}


def post(client, path, action, moment):
    """GET the page (as the patient's browser does, for the CSRF cookie), then
    POST the button's form with its token."""
    with time_machine.travel(moment, tick=False):
        page = client.get(path)
        assert page.status_code == 200, page.content
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
        return client.post(path, {"action": action, "csrfmiddlewaretoken": token})


def test_the_page_shows_the_clinic_and_the_visit_and_i_will_come_shows_a_tick_on_the_agenda(
    course, browser_client, client, receptionist
):
    path = course["links"]["page"]
    page = at(BOOKED_AT + dt.timedelta(hours=1), lambda: browser_client.get(path))
    html = page.content.decode()
    assert "Charité Skin" in html
    assert "Baseline assessment (Hair regeneration)" in html
    assert "Wednesday 2 December 2026, 10:00" in html
    assert "Luisenstraße 2" in html
    assert 'href="/agenda/"' not in html  # no staff navigation
    assert "Weber" not in html  # nothing but the visit
    assert page["Cache-Control"].startswith("max-age=0")

    response = post(browser_client, path, "confirm", BOOKED_AT + dt.timedelta(hours=1))
    assert response.status_code == 200
    assert "we have noted that you will come" in response.content.decode()
    session = course["session"]
    session.refresh_from_db()
    assert session.patient_confirmed_at == BOOKED_AT + dt.timedelta(hours=1)

    agenda = login(client, receptionist).get("/agenda/", {"date": "2026-12-02"})
    assert "✓ confirmed" in agenda.content.decode()


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(course, browser_client):
    path = course["links"]["page"]
    at(BOOKED_AT, lambda: browser_client.get(path))
    response = at(BOOKED_AT, lambda: browser_client.post(path, {"action": "cancel_yes"}))
    assert response.status_code == 403
    course["session"].refresh_from_db()
    assert course["session"].status == SessionStatus.BOOKED


def test_the_patient_cancels_the_slot_is_freed_later_sessions_move_the_agenda_shows_it_and_the_link_is_spent(
    course, smtp, browser_client, client, receptionist, clinician, hair_protocol
):
    enrolment, session = course["enrolment"], course["session"]
    follow_up = enrolment.sessions.get(sequence=2)
    target_after_booking = follow_up.target_date
    path = course["links"]["page"]
    cancelled_at = BOOKED_AT + dt.timedelta(days=1)

    # "Cancel" asks first; a slip of the thumb changes nothing.
    asked = post(browser_client, path, "cancel", cancelled_at).content.decode()
    assert "Cancel this appointment?" in asked
    assert 'value="cancel_yes"' in asked
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED

    response = post(browser_client, path, "cancel_yes", cancelled_at)
    assert response.status_code == 200
    assert "Your appointment is cancelled" in response.content.decode()

    session.refresh_from_db()
    follow_up.refresh_from_db()
    assert (session.status, session.start) == (SessionStatus.PLANNED, None)
    assert follow_up.target_date != target_after_booking  # re-dated from the baseline's target again
    assert follow_up.target_date == session.target_date + dt.timedelta(days=14)
    [mark] = PatientCancellation.objects.all()
    assert (mark.session_id, mark.start, mark.practitioner) == (session.pk, WEDNESDAY_1000, clinician)

    # The patient is told, with the cancelling calendar entry.
    assert outbox.scan(now=cancelled_at)["sent"] == 1
    assert "METHOD:CANCEL" in parts(smtp.messages[-1])["text/calendar"]

    # The slot is free: staff book another patient's visit into it at once.
    other = PatientFactory(clinic=session.clinic, first_name="Jonas", last_name="Brandt")
    with time_machine.travel(cancelled_at, tick=False):
        other_enrolment = services.enrol_patient(
            patient=other, protocol=hair_protocol, start_date=dt.date(2026, 12, 2), by=receptionist
        )
        services.book_session(
            session=other_enrolment.sessions.get(sequence=1), start=WEDNESDAY_1000, practitioner=clinician,
            by=receptionist,
        )  # fmt: skip
    agenda = login(client, receptionist).get("/agenda/", {"date": "2026-12-02"})
    assert "cancelled by patient" in agenda.content.decode()
    assert "Hanna Weber" in agenda.content.decode()
    assert "Jonas Brandt" in agenda.content.decode()
    assert not session.reminders.filter(kind=ReminderKind.BOOKED, status=ReminderStatus.PENDING).exists()

    # The same link again: a plain page that says nothing about anyone.
    before = invalid_link_count()
    again = at(cancelled_at + dt.timedelta(minutes=1), lambda: browser_client.get(path))
    assert again.status_code == 404
    assert "This link is not valid" in again.content.decode()
    for private in ("Weber", "Baseline", "Charité", "2 December"):
        assert private not in again.content.decode()
    assert invalid_link_count() == before + 1


def test_a_tampered_link_is_refused_counted_and_shows_nothing(course, browser_client, caplog):
    path = course["links"]["page"]
    token = path.split("/")[2]
    tampered = f"/p/{token[:-3]}{'A' if token[-3] != 'A' else 'B'}{token[-2:]}/"
    response = at(BOOKED_AT, lambda: browser_client.get(tampered))
    assert response.status_code == 404
    assert "Charité" not in response.content.decode()
    assert invalid_link_count() == 1
    assert token[:-3] not in caplog.text  # counted, not logged with the token
    response = at(BOOKED_AT, lambda: browser_client.post(tampered, {"action": "cancel_yes"}))
    assert response.status_code in (403, 404)
    course["session"].refresh_from_db()
    assert course["session"].status == SessionStatus.BOOKED


def test_a_link_expires_at_the_sessions_start(course, browser_client):
    path = course["links"]["page"]
    assert at(WEDNESDAY_1000 - dt.timedelta(minutes=1), lambda: browser_client.get(path)).status_code == 200
    assert at(WEDNESDAY_1000, lambda: browser_client.get(path)).status_code == 404


def test_after_the_cut_off_the_page_says_to_call_and_a_cancel_is_refused(course, browser_client, clinic):
    path = course["links"]["page"]
    late = WEDNESDAY_1000 - dt.timedelta(hours=23)  # the default cut-off is 24 hours
    page = at(late, lambda: browser_client.get(path)).content.decode()
    assert "too late to cancel online" in page
    assert "+49 30 450 000" in page
    assert 'value="cancel"' not in page

    for action in ("cancel", "cancel_yes"):
        response = post(browser_client, path, action, late)
        assert "too late to cancel online" in response.content.decode()
    course["session"].refresh_from_db()
    assert course["session"].status == SessionStatus.BOOKED

    # A clinic with a shorter cut-off lets the same patient cancel then.
    clinic.cancel_cutoff_hours = 12
    clinic.save()
    post(browser_client, path, "cancel_yes", late)
    course["session"].refresh_from_db()
    assert course["session"].status == SessionStatus.PLANNED


def test_a_link_from_before_a_move_is_no_longer_valid(course, browser_client, receptionist, clinician):
    path = course["links"]["page"]
    with time_machine.travel(BOOKED_AT + dt.timedelta(hours=1), tick=False):
        services.book_session(
            session=course["session"], start=WEDNESDAY_1000 + dt.timedelta(hours=2), practitioner=clinician,
            override_reason="patient travels", by=clinician,
        )  # fmt: skip
    assert at(BOOKED_AT + dt.timedelta(hours=2), lambda: browser_client.get(path)).status_code == 404


def test_ask_to_rebook_puts_the_patient_on_the_due_list_until_staff_rebook(
    course, browser_client, client, receptionist, clinician
):
    path = course["links"]["page"]
    response = post(browser_client, path, "rebook", BOOKED_AT + dt.timedelta(hours=1))
    assert "the clinic will contact you" in response.content.decode()
    session = course["session"]
    due = login(client, receptionist).get("/due/").content.decode()
    assert "Patients asking for a booking" in due
    assert f'data-rebook-request="{session.pk}"' in due
    with time_machine.travel(BOOKED_AT + dt.timedelta(hours=2), tick=False):
        services.book_session(
            session=session, start=WEDNESDAY_1000 + dt.timedelta(hours=1), practitioner=clinician,
            override_reason="patient travels", by=clinician,
        )  # fmt: skip
    assert f'data-rebook-request="{session.pk}"' not in client.get("/due/").content.decode()


def test_a_time_to_book_email_has_the_phone_and_a_link_to_ask_for_a_booking(
    smtp, clinic, patient, hair_protocol, receptionist, browser_client, client
):
    setup_clinic(clinic)
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        services.enrol_patient(patient=patient, protocol=hair_protocol, start_date=dt.date(2026, 3, 2), by=receptionist)
    outbox.scan(now=dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    [message] = smtp.messages
    text = parts(message)["text/plain"]
    assert "Call us on +49 30 450 000" in text
    path = mailed_links(message)["page"]
    response = post(browser_client, path, "rebook", dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    assert "the clinic will contact you" in response.content.decode()
    assert "Patients asking for a booking" in login(client, receptionist).get("/due/").content.decode()

    # A clinic that does not take requests this way sends no such link.
    clinic.patients_may_request_booking = False
    clinic.save()
    assert at(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), lambda: browser_client.get(path)).status_code == 404


def test_the_pages_are_rate_limited_per_address(course, browser_client, settings):
    settings.PATIENT_LINK_RATE_PER_MINUTE = 3
    path = course["links"]["page"]
    codes = [at(BOOKED_AT, lambda: browser_client.get(path)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    # Guessing tokens is limited the same way.
    assert at(BOOKED_AT, lambda: browser_client.get("/p/guess/")).status_code == 429


def test_unsubscribe_from_the_page_withdraws_consent_with_its_date_and_stops_the_next_reminder(
    course, smtp, browser_client, patient
):
    path = course["links"]["unsubscribe"]
    moment = BOOKED_AT + dt.timedelta(hours=1)
    page = at(moment, lambda: browser_client.get(path)).content.decode()
    assert "Stop emails from Charité Skin?" in page
    response = post(browser_client, path, "", moment)
    assert "You are unsubscribed" in response.content.decode()
    patient.refresh_from_db()
    assert (patient.reminder_consent, patient.reminder_consent_changed_at) == (False, moment)
    assert outbox.scan(now=WEDNESDAY_1000 - dt.timedelta(hours=24))["claimed"] == 0
    assert len(smtp.messages) == 1  # the confirmation only


def test_one_click_unsubscribe_from_the_mail_program_stops_the_next_reminder(course, smtp, patient):
    [confirmation] = smtp.messages
    one_click = urlparse(confirmation["List-Unsubscribe"].strip().strip("<>")).path
    pending = Reminder.objects.filter(session__patient=patient, status=ReminderStatus.PENDING)
    assert pending.exists()
    # RFC 8058: a POST with this body, no cookies, no CSRF token.
    response = at(
        BOOKED_AT + dt.timedelta(hours=1),
        lambda: Client(enforce_csrf_checks=True).post(one_click, {"List-Unsubscribe": "One-Click"}),
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.reminder_consent is False
    assert patient.reminder_consent_changed_at == BOOKED_AT + dt.timedelta(hours=1)
    assert not pending.exists()
    assert outbox.scan(now=WEDNESDAY_1000 - dt.timedelta(hours=24))["claimed"] == 0
    assert len(smtp.messages) == 1
    # A GET does nothing (link checkers fetch URLs).
    assert Client().get(one_click).status_code == 405


def test_link_urls_follow_the_site_url_and_the_routes(settings):
    """The outbox resolves each route once, with a stand-in for the token:
    the link is the one reverse() makes, on whatever SITE_URL is now."""
    from django.urls import reverse

    from messaging import links

    token = links.unsubscribe_token(42)
    for site in ("https://clinic.example", "https://other.example/regimen/"):
        settings.SITE_URL = site
        for name in ("patient_visit", "patient_unsubscribe", "patient_unsubscribe_one_click"):
            url = links.link_url(name, token)
            assert url == urljoin(site, reverse(name, args=[token]))
            assert links.read(urlparse(url).path.split("/")[2], now=dt.datetime.now(UTC)).subject_id == 42


@pytest.mark.parametrize("link", [
    links.Link(links.VISIT, 1, 1_900_000_000),
    links.Link(links.BOOK, 987_654_321_012, 1_900_000_000),
    links.Link(links.UNSUBSCRIBE, 42, None),
])  # fmt: skip
def test_a_link_token_is_what_signing_dumps_writes(link, settings):
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        expected = signing.dumps({"p": link.purpose, "i": link.subject_id, "e": link.expires}, salt=links.SALT,
                                 compress=True)
        assert links._dumps(link) == expected
        settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
        other = links._dumps(link)
    assert other != expected
    assert links.read(other, now=dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)) == link


def test_behind_the_proxy_junk_from_other_clients_leaves_the_patients_link_working(course, settings):
    """Issue 30: behind Caddy REMOTE_ADDR is the proxy for everyone; the limit
    counts per client address as the proxy reports it (the last
    X-Forwarded-For entry, the one it appended), so 31 junk requests from 31
    addresses do not use up the real patient's."""
    settings.PATIENT_LINK_RATE_PER_MINUTE = 3
    settings.TRUSTED_PROXY_COUNT = 1
    path = course["links"]["page"]
    for n in range(31):
        junk = Client(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        at(BOOKED_AT, lambda junk=junk: junk.get("/p/guess/"))
    patient_browser = Client(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert at(BOOKED_AT, lambda: patient_browser.get(path)).status_code == 200
    # A client that writes its own X-Forwarded-For entries is still counted by the one the proxy appends.
    sly = [Client(REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 192.0.2.66") for n in range(4)]
    codes = [at(BOOKED_AT, lambda c=c: c.get("/p/guess/")).status_code for c in sly]
    assert codes[-1] == 429


def test_a_link_dies_for_good_once_its_booking_changed_even_if_booked_at_the_same_time_again(
    course, browser_client, clinician, receptionist
):
    """Issue 30: an old visit link came back to life when staff booked the same
    session at the same time again."""
    path = course["links"]["page"]
    session = course["session"]
    assert at(BOOKED_AT, lambda: browser_client.get(path)).status_code == 200
    with time_machine.travel(BOOKED_AT, tick=False):
        services.cancel_booking(session=session, by=receptionist)
        session.refresh_from_db()
        services.book_session(
            session=session, start=WEDNESDAY_1000, practitioner=clinician, override_reason="patient travels",
            by=clinician,
        )
    assert at(BOOKED_AT, lambda: browser_client.get(path)).status_code == 404
    # The link mailed for the new booking works.
    session.refresh_from_db()
    fresh = urlparse(links.visit_url(session)).path
    assert at(BOOKED_AT, lambda: browser_client.get(fresh)).status_code == 200
