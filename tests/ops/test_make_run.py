"""`make run` as a new user meets it (SPEC §16): boot bin/run.py exactly as
`make run` does (config.settings, the embedded PostgreSQL from the wheel,
the demo clinic, web server, worker and beat) in a folder of its own, then
as reception, clinician and manager request every page reachable from the
navigation, every GET endpoint of the API schema for the demo's objects, and
every link in the demo's emails. Nothing may answer 5xx, and an API error
is JSON.

Links that differ only in their ids or query values are one kind of page:
the crawl requests up to PER_SHAPE of each kind (every patient's page is one
kind), so it stays a few minutes however big the demo grows.
"""

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("reception", "dr.weber", "manager")
PASSWORD = "regimen-demo"
PER_SHAPE = 4
# Not pages: leaving, static files, downloads of the browser's own.
SKIP = re.compile(r"^/(static/|accounts/logout|admin/logout|favicon)")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shape(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/N", parts.path)
    path = re.sub(r"/p/[^/]+/", "/p/T/", path)
    path = re.sub(r"\d{4}-\d{2}-\d{2}", "D", path)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{path}?{'&'.join(keys)}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """bin/run.py on a free port, with its var/ in a temporary folder."""
    var = tmp_path_factory.mktemp("make-run-var")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PYTEST"))}
    env.update({"REGIMEN_VAR_DIR": str(var), "PORT": str(port), "REMINDER_SCAN_SECONDS": "5",
                "SITE_URL": f"http://127.0.0.1:{port}"})  # also for the commands run beside it
    # Its own Redis database: the suite's workers and a developer's `make run` use others.
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    env["REDIS_URL"] = re.sub(r"/\d+$", "", redis) + "/11"
    log = open(var / "run.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "bin/run.py"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert process.poll() is None, (var / "run.log").read_text()
            if "Regimen is running" in (var / "run.log").read_text():
                break
            time.sleep(0.5)
        else:
            pytest.fail("make run did not serve within 300 s:\n" + (var / "run.log").read_text())
        output = (var / "run.log").read_text()
        database_url = re.search(r"^Database: (\S+)", output, re.M).group(1)
        yield {"base": base, "var": var, "output": output, "env": {**env, "DATABASE_URL": database_url,
                                                                   "DJANGO_SETTINGS_MODULE": "config.settings",
                                                                   "DEBUG": "true"}}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def login(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{base}/accounts/login/", timeout=30)
    answer = browser.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"}, timeout=30, allow_redirects=False,
    )
    assert answer.status_code == 302, (username, answer.status_code, answer.text[:500])
    return browser


def crawl(browser: requests.Session, base: str, start: list[str]) -> tuple[dict[str, int], set[str]]:
    """GET every same-site link reachable from `start`, up to PER_SHAPE of
    each shape: the 5xx answers, and the shapes of the pages seen."""
    seen: set[str] = set()
    per_shape: dict[str, int] = {}
    failures: dict[str, int] = {}
    queue = deque(start)
    while queue:
        url = queue.popleft()
        parts = urlsplit(url)
        key = parts.path + ("?" + parts.query if parts.query else "")
        if key in seen or SKIP.match(parts.path):
            continue
        seen.add(key)
        if per_shape.get(shape(key), 0) >= PER_SHAPE:
            continue
        per_shape[shape(key)] = per_shape.get(shape(key), 0) + 1
        answer = browser.get(base + key, timeout=60, allow_redirects=False)
        if answer.status_code >= 500:
            failures[key] = answer.status_code
        if answer.status_code in (301, 302) and answer.headers.get("Location"):
            queue.append(urljoin(base + key, answer.headers["Location"]))
            continue
        if "text/html" not in answer.headers.get("Content-Type", ""):
            continue
        parser = Links()
        parser.feed(answer.text)
        for href in parser.hrefs:
            target = urlsplit(urljoin(base + key, href))
            if target.netloc == urlsplit(base).netloc and target.scheme in ("http", "https"):
                queue.append(target.path + ("?" + target.query if target.query else ""))
    assert len(seen) > 20, f"the crawl found only {sorted(seen)}"
    return failures, set(per_shape)


# Pages each role must reach from the navigation, by shape.
MUST_REACH = {"/patients/N/?", "/patients/?", "/due/?", "/protocols/?", "/agenda/?", "/sessions/N/book/?"}
CLINICIAN_REACHES = {"/sessions/N/complete/?", "/outcomes/N/correct/?"}
MANAGER_REACHES = {"/reports/?", "/audit/?", "/settings/?"}


@pytest.mark.parametrize("username", ROLES)
def test_every_page_from_the_navigation_answers(demo, username):
    browser = login(demo["base"], username)
    failures, shapes = crawl(browser, demo["base"], ["/"])
    assert failures == {}, f"{username}: 5xx on {failures}"
    must = MUST_REACH | (CLINICIAN_REACHES if username != "reception" else set())
    must |= MANAGER_REACHES if username == "manager" else set()
    assert must <= shapes, f"{username} never reached {sorted(must - shapes)} (saw {len(shapes)} shapes)"


def api_get_paths(browser: requests.Session, base: str) -> list[str]:
    """Every GET path of the schema with the demo's first object of each kind filled in."""
    schema = browser.get(f"{base}/api/v1/schema/", params={"format": "json"}, timeout=60)
    assert schema.status_code == 200, schema.text[:300]
    paths = [p for p, operations in schema.json()["paths"].items() if "get" in operations]
    ids: dict[str, str] = {}

    def first_id(collection: str) -> str:
        if collection not in ids:
            answer = browser.get(base + collection, timeout=60)
            rows = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else []
            rows = rows.get("results", rows) if isinstance(rows, dict) else rows
            ids[collection] = str(rows[0]["id"]) if rows and isinstance(rows[0], dict) and "id" in rows[0] else "1"
        return ids[collection]

    filled = []
    for path in paths:
        while "{" in path:
            head, _, rest = path.partition("{")
            _name, _, tail = rest.partition("}")
            path = head + first_id(head) + tail
        filled.append(path)
    return filled


@pytest.mark.parametrize("username", ROLES)
def test_every_get_endpoint_of_the_api_answers_and_errors_are_json(demo, username):
    base = demo["base"]
    browser = login(base, username)
    failures, html_errors = {}, {}
    paths = api_get_paths(browser, base)
    assert len(paths) > 30
    for path in paths:
        answer = browser.get(base + path, timeout=120)
        if answer.status_code >= 500:
            failures[path] = answer.status_code
        if answer.status_code >= 400 and not answer.headers.get("Content-Type", "").startswith("application/json"):
            html_errors[path] = (answer.status_code, answer.headers.get("Content-Type"))
    assert failures == {}, f"{username}: 5xx on {failures}"
    assert html_errors == {}, f"{username}: errors that are not JSON: {html_errors}"
    # An unknown object is a JSON 404 too.
    missing = browser.get(f"{base}/api/v1/patients/999999999/", timeout=30)
    assert missing.status_code == 404 and missing.json()["detail"]


def test_outcomes_reports_and_charts_of_the_demo_answer(demo):
    """The pages that failed on the old embedded database, by name."""
    base = demo["base"]
    browser = login(base, "manager")
    enrolments = browser.get(f"{base}/api/v1/enrolments/", params={"page_size": 500}, timeout=60).json()["results"]
    assert enrolments
    for enrolment in enrolments:
        outcomes = browser.get(f"{base}/api/v1/enrolments/{enrolment['id']}/outcomes/", timeout=60)
        assert outcomes.status_code == 200, (enrolment["id"], outcomes.text[:300])
        page = browser.get(f"{base}/patients/{enrolment['patient']}/", timeout=60)
        assert page.status_code == 200, (enrolment["patient"], page.status_code)
        fhir = browser.get(f"{base}/api/v1/patients/{enrolment['patient']}/fhir/", timeout=60)
        assert fhir.status_code == 200 and fhir.json()["resourceType"] == "Bundle"
    assert browser.get(f"{base}/api/v1/reports/cohort/", timeout=60).status_code == 200
    assert browser.get(f"{base}/reports/", timeout=60).status_code == 200
    csv = browser.get(f"{base}/reports/cohort.csv", timeout=60)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")


def test_search_is_blind_to_accents_in_the_demo(demo):
    base = demo["base"]
    browser = login(base, "reception")
    for text, last_name in (("Kruger", "Krüger"), ("Muller, Thomas", "Müller"), ("müller", "Müller")):
        found = browser.get(f"{base}/api/v1/patients/", params={"search": text}, timeout=30).json()["results"]
        assert [p["last_name"] for p in found][:1] == [last_name], (text, found)
        page = browser.get(f"{base}/patients/", params={"q": text}, timeout=30)
        assert page.status_code == 200 and last_name in page.text


def test_every_link_in_the_demos_emails_answers(demo):
    """The demo's emails are .eml files, one per message, named by time,
    kind and id; each parses as an email, and every link in it works."""
    subprocess.run([sys.executable, "manage.py", "send_due_reminders"], cwd=ROOT, env=demo["env"], check=True,
                   capture_output=True, timeout=300)
    folder = demo["var"] / "emails"
    files = sorted(folder.glob("*.eml"))
    assert files, "no email was written"
    assert all(re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[a-z_]+-\w+\.eml", f.name) for f in files), [f.name for f in files]
    links: set[str] = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["To"] and message["Subject"] and message["Message-ID"]
        assert f"-{message['X-Regimen-Kind']}-" in path.name
        for part in message.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                links |= set(re.findall(r"https?://127\.0\.0\.1:\d+/[^\s\"<>']*", part.get_content()))
    assert links, "the emails link nowhere"
    failures = {}
    for link in sorted(links):
        answer = requests.get(link.replace("&amp;", "&"), timeout=60, allow_redirects=True)
        if answer.status_code >= 500:
            failures[link] = answer.status_code
    assert failures == {}, failures
