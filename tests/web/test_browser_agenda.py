"""Issue 13 in a real Chromium: the agenda time grid at 1280 and 800 px
(columns, blocks, closed hours, a free cell that books), and a booking made
with the keyboard alone, its focus visible at every step."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from clinics.models import OpeningHours
from sessions import services
from sessions.models import Session, SessionStatus
from tests.factories import PASSWORD, PatientFactory
from tests.web.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def second_patient(enrolment, receptionist, clinician):
    """Jonas Becker in the same protocol from the same day, not yet booked."""
    jonas = PatientFactory(clinic=enrolment.clinic, first_name="Jonas", last_name="Becker")
    course = services.enrol_patient(patient=jonas, protocol=enrolment.protocol, start_date=enrolment.start_date,
                                    clinician=clinician, by=receptionist)
    return course.sessions.order_by("sequence").first()


@pytest.mark.parametrize("width", [1280, 800])
def test_the_grid_shows_columns_and_blocks_and_a_free_cell_books(
    live_server, new_page, receptionist, clinician, manager, booked, width
):
    day = booked.start.astimezone(booked.clinic.tz).date()
    OpeningHours.objects.filter(clinic=booked.clinic, weekday=day.weekday()).update(
        opens=dt.time(9), closes=dt.time(17)
    )
    jonas = second_patient(booked.enrolment, receptionist, clinician)
    desk = browser_login(new_page(width=width, height=900), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/agenda/?date={day.isoformat()}&view=grid")

    grid = desk.locator("table.grid")
    headers = grid.locator("thead th")
    expect(headers.first).to_have_text("Time")
    expect(headers.filter(has_text=clinician.display_name)).to_have_count(1)
    expect(headers.filter(has_text=manager.display_name)).to_have_count(1)
    block = grid.locator("td.booked")
    expect(block).to_have_count(1)
    expect(block).to_contain_text("Weber")
    expect(block).to_be_visible()
    # The rows run from opening to closing time, one per slot.
    expect(grid.locator("tbody th").first).to_have_text("09:00")
    expect(grid.locator("tbody th").last).to_have_text("16:45")

    # Nothing overflows: the page does not scroll sideways and neither does the grid's own scroller
    # (the fixed table layout shares the width among the columns), so every cell is reachable.
    assert desk.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    wrap = desk.locator(".grid-wrap")
    assert wrap.evaluate("e => getComputedStyle(e).overflowX") == "auto"  # the fallback if columns multiply
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    box = block.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width

    free = desk.get_by_role("link", name=f"Book 11:15 with {clinician.display_name}")
    expect(free).to_be_visible()
    cell = free.bounding_box()
    assert cell["width"] > 20 and cell["height"] > 10 and cell["x"] + cell["width"] <= width
    free.click()
    expect(desk.locator("#chosen-slot")).to_contain_text(f"11:15 with {clinician.display_name}")
    desk.locator(f"tr[data-session='{jonas.pk}']").get_by_role("link", name="Book").click()
    expect(desk.get_by_label("Time:", exact=True)).to_have_value("11:15")
    desk.get_by_role("button", name="Book this time").click()
    expect(desk.locator(".message.success")).to_be_visible()

    jonas.refresh_from_db()
    assert jonas.status == SessionStatus.BOOKED
    assert jonas.practitioner_id == clinician.pk
    assert jonas.start.astimezone(jonas.clinic.tz).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(11, 15))

    desk.goto(f"{live_server.url}/agenda/?date={day.isoformat()}&view=grid")
    expect(desk.locator("table.grid td.booked")).to_have_count(2)
    expect(desk.locator("table.grid td.booked", has_text="Becker")).to_be_visible()
    expect(desk.get_by_role("link", name=f"Book 11:15 with {clinician.display_name}")).to_have_count(0)


def test_the_grid_shades_closed_hours(live_server, new_page, receptionist, manager, booked):
    day = booked.start.astimezone(booked.clinic.tz).date()
    # The clinic shortens that day's hours after the 10:00 booking was made:
    # the grid still shows the booking, in rows shaded as closed.
    OpeningHours.objects.filter(clinic=booked.clinic, weekday=day.weekday()).update(
        opens=dt.time(9), closes=dt.time(10)
    )
    desk = browser_login(new_page(width=800), live_server.url, receptionist)
    desk.goto(f"{live_server.url}/agenda/?date={day.isoformat()}&view=grid")
    closed = desk.locator("table.grid td.closed")
    expect(closed).to_have_count(2)  # the other column's 10:00 and 10:15
    expect(closed.first).to_be_visible()
    assert closed.first.evaluate("e => getComputedStyle(e).backgroundImage").startswith("repeating-linear-gradient")
    expect(desk.locator("table.grid td.booked")).to_contain_text("Weber")


# --- Keyboard only ------------------------------------------------------------------------------

FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {
    text: (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText) || e.innerText
           || e.value || '').trim(),
    visible: e.matches(':focus-visible'),
    field: e.matches('input, select, textarea'),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
  };
}"""


def tab_to(page, name: str, *, exact: bool = False, limit: int = 120) -> dict:
    """Press Tab until the focused control's name
    is `name` (`exact`) or starts with it; every control passed on the way must show where the
    focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus is None:
            continue
        # Links and buttons reached with Tab are :focus-visible; a date field's focus sits inside it.
        assert focus["visible"] or focus["field"], f"focus not visible on {focus}"
        assert focus["outline"] or focus["shadow"], f"focus not visible on {focus}"
        if focus["text"] == name or (not exact and focus["text"].startswith(name)):
            return focus
    raise AssertionError(f"{name!r} cannot be reached with Tab")


def test_a_receptionist_books_with_the_keyboard_alone(live_server, new_page, receptionist, enrolment):
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, "Username")
    page.keyboard.type(receptionist.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/agenda/**")

    # From the patient page: Tab to the baseline visit's Book link.
    page.goto(f"{live_server.url}/patients/{enrolment.patient_id}/")
    tab_to(page, "Book", exact=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**/sessions/*/book/")
    first = Session.objects.get(pk=int(page.url.rstrip("/").split("/")[-2]))
    assert first.enrolment_id == enrolment.pk and first.sequence == 1

    # Narrow the slots to one practitioner: the select takes the arrow keys, Enter on Show.
    tab_to(page, "Practitioner")
    page.keyboard.press("ArrowDown")
    chosen = page.get_by_label("Practitioner", exact=True).evaluate("e => e.selectedOptions[0].text")
    assert chosen != "Anyone"
    tab_to(page, "Show", exact=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**practitioner=*")

    # The slot list: the first free time, reached with Tab; Shift+Tab goes back past it and Tab returns.
    slot = tab_to(page, "Book ")
    assert slot["text"].endswith(f" with {chosen}")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS)["text"] == slot["text"]
    page.keyboard.press("Space")
    expect(page.locator(".message.success")).to_be_visible()

    first.refresh_from_db()
    assert first.status == SessionStatus.BOOKED
    assert slot["text"] == f"Book {first.start.astimezone(first.clinic.tz):%a %d %b %H:%M} with {first.practitioner.display_name}"
