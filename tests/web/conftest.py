import datetime as dt
import os

import pytest
from django.utils import timezone

from sessions import services
from tests.factories import PASSWORD, RoomFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM
# refuses to run where a loop is running unless told it is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def room(clinic):
    return RoomFactory(clinic=clinic, name="Room 1")


@pytest.fixture
def enrolment(patient, hair_protocol, receptionist, clinician):
    """Hanna Weber in the hair protocol, starting tomorrow (clinic time)."""
    tomorrow = timezone.now().astimezone(patient.clinic.tz).date() + dt.timedelta(days=1)
    return services.enrol_patient(
        patient=patient, protocol=hair_protocol, start_date=tomorrow, clinician=clinician, by=receptionist
    )


@pytest.fixture
def booked(enrolment, clinician, receptionist):
    """The baseline visit booked tomorrow at 10:00 clinic time with the clinician."""
    first = enrolment.sessions.order_by("sequence").first()
    start = dt.datetime.combine(first.target_date, dt.time(10, 0), tzinfo=first.clinic.tz)
    return services.book_session(session=first, start=start, practitioner=clinician, by=receptionist)


# --- Browser -------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("REGIMEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. A missing browser is an error, never a skip."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class ConsoleWatch:
    """Collects console errors and uncaught exceptions of every page it watches."""

    def __init__(self):
        self.errors: list[str] = []

    def watch(self, page):
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        return page


@pytest.fixture
def console():
    watch = ConsoleWatch()
    yield watch
    assert watch.errors == [], watch.errors


@pytest.fixture
def new_page(browser, console):
    """A factory of fresh browser pages (own cookies), watched for console errors."""
    contexts = []

    def make(width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return console.watch(context.new_page())

    yield make
    for context in contexts:
        context.close()


def browser_login(page, base_url, user):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/agenda/**")
    return page


def no_horizontal_scroll(page) -> bool:
    """Neither the page nor any table's own scroller scrolls sideways."""
    return page.evaluate(
        """[document.documentElement, ...document.querySelectorAll('.table-wrap')]
             .every(e => e.scrollWidth <= e.clientWidth + 1)"""
    )


def unlabelled_fields(page) -> list[str]:
    """Visible form fields without a <label> (hidden inputs need none)."""
    return page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(e => e.labels.length === 0).map(e => e.name || e.id)"""
    )
