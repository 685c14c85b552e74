"""The staff page /reports/: the cohort report in words, tables and charts,
its CSV and its print layout."""

import csv
import datetime as dt
import io
import os

import time_machine
from django.test import Client

from tests.factories import PASSWORD
from tests.web.conftest import browser_login, no_horizontal_scroll, unlabelled_fields

ASKED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def client_of(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def get(client, url):
    with time_machine.travel(ASKED, tick=False):
        return client.get(url)


def test_a_manager_reads_every_figure_in_words(manager, ten):
    answer = get(client_of(manager), "/reports/")
    assert answer.status_code == 200
    page = answer.content.decode()
    for words in (
        "Does a protocol work here?",
        "Change from each patient's baseline visit",
        "Mean change of Hair density (phototrichogram) per visit, with 95 % intervals",
        "24.50 (", "27.50",  # mean (with its interval) and median change at the end of course
        "5 of 10", "50 % (24–76 %)",  # peak itch responders with their Wilson interval
        "A visit counts once it is done or skipped",
        "Grade is CTCAE 1 (mild) to 5 (death)",
        "Follow-up reached",
    ):
        assert words in page, words


def test_the_csv_is_what_the_page_shows(manager, course_protocol, ten):
    answer = get(client_of(manager), f"/reports/cohort.csv?protocol={course_protocol.pk}")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    figures = {(r["section"], r["figure"], r["time_point"]): r for r in rows}
    end = "End-of-course assessment #1"
    assert figures[("enrolments", "total", "")]["value"] == "10"
    assert figures[("hair_density", "mean_change", end)]["value"] == "24.50"
    assert figures[("hair_density", "median_change", end)]["value"] == "27.50"
    rate = figures[("itch_nrs", "itch_4 rate", end)]
    assert (rate["value"], rate["ci95_low"], rate["ci95_high"]) == ("0.500", "0.237", "0.763")


def test_filters_apply_and_a_bad_one_is_named(manager, ten):
    page = get(client_of(manager), "/reports/?indication=scar").content.decode()
    assert "No outcome values recorded for these courses yet." in page
    page = get(client_of(manager), "/reports/?started_from=2026-05-01&started_to=2026-04-01").content.decode()
    assert "Give a date on or after started_from." in page and "A filter was not understood" in page


def test_reception_and_clinicians_do_not_see_reports(receptionist, clinician):
    for user in (receptionist, clinician):
        assert get(client_of(user), "/reports/").status_code == 403
        assert get(client_of(user), "/reports/cohort.csv").status_code == 403
        assert "/reports/" not in get(client_of(user), "/agenda/").content.decode()


def test_the_page_in_a_browser_and_on_paper(live_server, new_page, manager, ten, tmp_path):
    out = os.environ.get("REGIMEN_SCREENSHOTS") or str(tmp_path)
    with time_machine.travel(ASKED, tick=True):
        page = browser_login(new_page(), live_server.url, manager)
        page.goto(f"{live_server.url}/reports/")
        assert page.get_by_role("heading", name="Does a protocol work here?").is_visible()
        assert page.get_by_role("img", name="Mean change of Hair density (phototrichogram) per visit, with 95 % intervals").is_visible()
        assert unlabelled_fields(page) == []
        assert no_horizontal_scroll(page)
        page.screenshot(path=f"{out}/reports.png", full_page=True)
        page.emulate_media(media="print")
        assert not page.get_by_role("button", name="Show").is_visible()  # filters are not printed
        assert not page.get_by_role("link", name="Download CSV").is_visible()
        page.screenshot(path=f"{out}/reports-print.png", full_page=True)
        narrow = browser_login(new_page(width=800, height=1000), live_server.url, manager)
        narrow.goto(f"{live_server.url}/reports/")
        assert no_horizontal_scroll(narrow)
