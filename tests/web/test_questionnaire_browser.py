"""The patient questionnaire (SPEC §17) walked in a real Chromium at a
phone's width (375 px): answers chosen with the keyboard and the mouse,
saved part-filled, sent, changed after sending; a late link refused; and
axe-core finds no serious or critical accessibility violation on any step.

axe-core's minified build (tests/assets/axe.min.js, MPL-2.0, its licence
header kept and its LICENSE beside it) is evaluated into the page by
Playwright, which the page's Content-Security-Policy does not block."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging import links
from sessions import services
from sessions.models import OutcomeMeasurement, Questionnaire
from tests.factories import make_protocol, step
from tests.web.conftest import no_horizontal_scroll, unlabelled_fields
from tests.web.test_patient_page_browser import _shots_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).resolve().parents[1] / "assets" / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}))"
    )
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in found if v["impact"] in ("serious", "critical")]


def test_a_patient_answers_saves_sends_and_changes_the_questionnaire_on_a_phone(
    live_server, new_page, console, tmp_path, clinic, patient, receptionist, clinician, settings
):
    settings.SITE_URL = live_server.url
    protocol = make_protocol(
        clinic,
        steps=[step("Eczema review", "assessment", window_after_days=20, duration_minutes=30,
                    measures=["easi", "poem", "itch_nrs"])],
        name="Eczema course", indication="atopic_dermatitis",
    )
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(patient=patient, protocol=protocol, start_date=tomorrow, by=receptionist)
    session = services.book_session(
        session=enrolment.sessions.get(), start=dt.datetime.combine(tomorrow, dt.time(10), tzinfo=clinic.tz),
        practitioner=clinician, by=receptionist,
    )
    path = urlparse(links.questionnaire_url(session)).path
    page = new_page(width=375, height=800)
    page.goto(f"{live_server.url}{path}")

    # POEM first, one question at a time in a labelled radio group.
    expect(page.get_by_role("heading", name="Your eczema over the last week (POEM)")).to_be_visible()
    assert page.get_by_text("Part 1 of 2").is_visible()
    assert no_horizontal_scroll(page)
    assert unlabelled_fields(page) == []
    assert serious_violations(page) == []
    page.screenshot(path=str(_shots_dir(tmp_path) / "questionnaire-phone.png"), full_page=True)
    first = page.get_by_role("group", name="1. Over the last week, on how many days has your skin been itchy")
    # The keyboard: Tab into the first group, arrows move the choice.
    first.get_by_role("radio", name="No days").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(first.get_by_role("radio", name="3–4 days")).to_be_checked()
    page.get_by_role("group", name="2. Over the last week, on how many nights").get_by_text("Every day").click()
    page.get_by_role("button", name="Save for later").click()
    expect(page.get_by_role("status")).to_contain_text("Your answers are saved")
    assert Questionnaire.objects.get(session=session).draft == {"poem": {"0": 2, "1": 4}}
    assert not OutcomeMeasurement.objects.filter(session=session).exists()

    # Back later: the saved answers are there; one question may stay unanswered.
    page.goto(f"{live_server.url}{path}")
    expect(first.get_by_role("radio", name="3–4 days")).to_be_checked()
    for number in (3, 4, 5, 6):
        page.get_by_role("group", name=f"{number}. Over the last week").get_by_text("1–2 days").click()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Your itch in the last 24 hours")).to_be_visible()
    assert no_horizontal_scroll(page)
    assert serious_violations(page) == []
    page.get_by_text("6", exact=True).click()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Check and send")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=str(_shots_dir(tmp_path) / "questionnaire-phone-send.png"), full_page=True)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("status")).to_contain_text("your answers have been sent")
    values = {v.measure.code: v for v in OutcomeMeasurement.objects.filter(session=session).select_related("measure")}
    assert values["poem"].value == 2 + 4 + 1 + 1 + 1 + 1 and values["poem"].source == "patient"
    assert values["itch_nrs"].value == 6
    assert values["poem"].observed_on == tomorrow

    # Changed after sending, until the visit is completed.
    page.get_by_role("link", name="Your itch in the last 24 hours").click()
    page.get_by_text("3", exact=True).click()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Send changes").click()
    expect(page.get_by_role("status")).to_contain_text("your answers have been sent")
    assert OutcomeMeasurement.objects.get(session=session, measure__code="itch_nrs").value == 3
    assert no_horizontal_scroll(page)

    # A link past the end of the visit's day shows nothing about anyone.
    late = links._dumps(links.Link(links.QUESTIONNAIRE, session.pk, int(timezone.now().timestamp()) - 1,
                                   links.booking_version(session)))
    page.goto(f"{live_server.url}/p/{late}/questionnaire/")
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    assert patient.last_name not in page.content()
    assert serious_violations(page) == []
    # The refusal is a 404, which Chromium logs: the one console error expected here.
    assert [e for e in console.errors if "404 (Not Found)" in e and "/questionnaire/" in e] == console.errors != []
    console.errors.clear()
