"""Issue 13: the manager changes the opening hours on the settings page in Chromium."""

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.conftest import browser_login, no_horizontal_scroll, unlabelled_fields

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_manager_changes_wednesday_hours_and_sees_them(live_server, new_page, clinic, manager, tmp_path):
    page = browser_login(new_page(), live_server.url, manager)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Clinic settings")).to_be_visible()
    assert unlabelled_fields(page) == [] and no_horizontal_scroll(page)
    page.get_by_label("Wednesday first interval closes").fill("12:30")
    page.get_by_label("Wednesday second interval opens").fill("14:00")
    page.get_by_label("Wednesday second interval closes").fill("19:00")
    page.get_by_label("Sunday first interval opens").fill("")
    page.get_by_label("Sunday first interval closes").fill("")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".message.success")).to_contain_text("settings were saved")
    expect(page.get_by_label("Wednesday second interval opens")).to_have_value("14:00")
    expect(page.get_by_label("Sunday first interval opens")).to_have_value("")
    shots = Path(os.environ.get("REGIMEN_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(shots / "settings-saved.png"), full_page=True)
    assert [(h.opens, h.closes) for h in clinic.opening_hours.filter(weekday=2)] == [
        (dt.time(8), dt.time(12, 30)), (dt.time(14), dt.time(19))
    ]
    assert not clinic.opening_hours.filter(weekday=6).exists()
