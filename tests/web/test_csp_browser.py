"""The Content-Security-Policy in a real Chromium: the pages that used inline
styles and the API docs run without a single violation (each would be a
console error), and the schedule timeline is still drawn."""

import pytest

from tests.web.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_patient_page_agenda_and_docs_run_under_the_policy(live_server, new_page, manager, patient, booked):
    page = browser_login(new_page(), live_server.url, manager)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    band = page.locator(".band .window").first
    band.wait_for()
    # The positions come from data attributes, set by regimen.js through the DOM.
    assert band.evaluate("e => e.style.left").endswith("%")
    assert band.evaluate("e => e.style.width").endswith("%")
    assert page.locator(".band .booked").first.evaluate("e => e.style.left").endswith("%")
    page.goto(f"{live_server.url}/agenda/")
    assert page.locator(".swatch-booked").first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(15, 94, 110)"
    page.goto(f"{live_server.url}/audit/")
    page.get_by_role("heading", name="Audit log").wait_for()
    docs = new_page()
    docs.goto(f"{live_server.url}/api/v1/docs/")
    docs.locator(".swagger-ui .info .title").wait_for()
    # The `console` fixture fails the test on any console error (a CSP violation is one).
