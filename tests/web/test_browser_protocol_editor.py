"""Issue 13: the manager writes a new protocol in Chromium, previews its timeline and saves it."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from protocols.models import Protocol
from protocols.services import load_measures
from tests.web.conftest import browser_login, no_horizontal_scroll, unlabelled_fields

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_manager_writes_previews_and_saves_a_protocol(live_server, new_page, clinic, manager, tmp_path):
    load_measures()
    page = browser_login(new_page(), live_server.url, manager)
    page.get_by_role("link", name="Protocols").click()
    page.get_by_role("link", name="New protocol").click()
    assert unlabelled_fields(page) == [] and no_horizontal_scroll(page)
    page.get_by_label("Name:", exact=True).fill("Scar remodelling")
    page.get_by_label("Indication").select_option("scar")
    page.get_by_label("Delivery").select_option("microneedling")
    first = page.locator("fieldset.step-form").nth(0)
    first.get_by_label("Step:", exact=True).fill("Microneedling session")
    first.get_by_label("Times").fill("3")
    first.get_by_label("Interval (days)").fill("28")
    first.get_by_label("Window after (days)").fill("7")
    page.get_by_role("button", name="Preview timeline").click()
    expect(page.locator(".protocol-timeline")).to_contain_text("3 sessions over 91 days")
    assert Protocol.objects.filter(name="Scar remodelling").count() == 0
    shots = Path(os.environ.get("REGIMEN_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(shots / "protocol-editor-preview.png"), full_page=True)
    page.get_by_role("button", name="Save protocol").click()
    expect(page.locator(".message.success")).to_contain_text("Scar remodelling was saved.")
    protocol = Protocol.objects.get(clinic=clinic, name="Scar remodelling")
    assert [(s.repeat, s.interval_days, s.window_after_days) for s in protocol.steps.all()] == [(3, 28, 7)]
