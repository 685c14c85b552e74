"""Simulated staff for `make load` (bench/load.py starts everything): reception
searching, registering and enrolling patients, booking and rebooking;
clinicians reading their day and completing visits with outcomes and the
lot used; managers reading the agenda, the cohort report and the reminder
outbox.

A 409 (a slot taken a moment earlier by someone else) and a 400 for a slot
that has just gone are answers the product gives by design and count as
successes; any 5xx, or any other unexpected status, is a failure.
"""

import datetime as dt
import json
import os
import random
import re
import sys
import uuid
from pathlib import Path

from locust import HttpUser, between, task

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from protocols.instruments import SCORED_CODES  # a pure module: no Django here

TOKENS = json.loads(Path(os.environ["LOAD_TOKENS"]).read_text())
SLUG = os.environ.get("LOAD_SLUG", "load")
PRACTITIONERS = int(os.environ.get("LOAD_PRACTITIONERS", "20"))
TZ_TODAY = dt.date.fromisoformat(os.environ["LOAD_TODAY"])
NAMES = ["Becker", "Demir", "Fischer", "Hoffmann", "Jansen", "Klein", "Lange", "Meyer", "Nowak", "Okafor"]


class Staff(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def on_start(self):
        # Tokens were made up front (bench/load.py): staff log in once a day.
        self.client.headers["Authorization"] = f"Token {TOKENS[self.username]}"

    def call(self, method: str, path: str, *, name: str, ok=(200, 201), json=None, params=None):
        """One request; `ok` statuses pass (a 409 where the product refuses by
        design is named in `ok`), everything else fails."""
        with self.client.request(method, path, json=json, params=params, name=name, catch_response=True) as answer:
            if answer.status_code in ok:
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            return answer

    def sessions(self, **params) -> list[dict]:
        answer = self.call("GET", "/api/v1/sessions/", params=params, name="/api/v1/sessions/?date_from&date_to")
        return answer.json()["results"] if answer.status_code == 200 else []

    def day(self, offset: int) -> str:
        return str(TZ_TODAY + dt.timedelta(days=offset))


class Reception(Staff):
    weight = 3

    def on_start(self):
        self.username = f"{SLUG}-desk{random.randint(1, 2)}"
        super().on_start()
        self.protocols = [p["id"] for p in self.call("GET", "/api/v1/protocols/", name="/api/v1/protocols/")
                          .json()["results"] if p["active"] and p["is_current"]]

    @task(4)
    def search(self):
        self.call("GET", "/api/v1/patients/", params={"search": random.choice(NAMES)},
                  name="/api/v1/patients/?search")

    @task(1)
    def register_and_enrol(self):
        patient = self.call("POST", "/api/v1/patients/", name="/api/v1/patients/", ok=(201,), json={
            "record_number": f"W-{uuid.uuid4().hex[:12]}", "first_name": "Walk", "last_name": random.choice(NAMES),
            "date_of_birth": "1984-05-06", "email": f"walk-{uuid.uuid4().hex[:8]}@patients.example",
            "reminder_consent": True,
        })
        if patient.status_code == 201:
            body = {"patient": patient.json()["id"], "protocol": random.choice(self.protocols),
                    "start_date": self.day(random.randint(1, 10))}
            with self.client.post("/api/v1/enrolments/", json=body, name="/api/v1/enrolments/",
                                  catch_response=True) as answer:
                # A start whose schedule cannot be booked is refused by design,
                # naming the next date that works: the receptionist takes it.
                suggested = re.search(r"\((\d{4}-\d{2}-\d{2})\)", answer.text) if answer.status_code == 400 else None
                if answer.status_code == 201 or (suggested and "start_date" in answer.json()):
                    answer.success()
                else:
                    answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            if suggested:
                self.call("POST", "/api/v1/enrolments/", name="/api/v1/enrolments/ (the suggested start)",
                          ok=(201,), json={**body, "start_date": suggested.group(1)})

    def book_into_a_slot(self, session: dict) -> None:
        slots = self.call("GET", f"/api/v1/sessions/{session['id']}/slots/", name="/api/v1/sessions/{id}/slots/")
        if slots.status_code == 200 and slots.json():
            slot = random.choice(slots.json()[:20])
            body = {"start": slot["start"], "practitioner": slot["practitioner"], "room": slot["room"]}
            with self.client.post(f"/api/v1/sessions/{session['id']}/book/", json=body,
                                  name="/api/v1/sessions/{id}/book/", catch_response=True) as answer:
                # 409: someone took the slot first. 400 on `start` alone: the
                # slot began between the list and the booking (today's
                # earliest slots are minutes away), refused by design.
                passed = answer.status_code == 400 and answer.json() == {"start": ["This time is in the past."]}
                if answer.status_code in (200, 409) or passed:
                    answer.success()
                else:
                    answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(3)
    def book(self):
        planned = [s for s in self.sessions(status="planned", date_from=self.day(1), date_to=self.day(14))
                   if s["kind"] != "home"]
        if planned:
            self.book_into_a_slot(random.choice(planned))

    @task(1)
    def rebook(self):
        booked = self.sessions(status="booked", date_from=self.day(2), date_to=self.day(14))
        if booked:
            self.book_into_a_slot(random.choice(booked))


class Clinician(Staff):
    weight = 2

    def on_start(self):
        self.username = f"{SLUG}-dr{random.randint(1, PRACTITIONERS)}"
        super().on_start()
        self.steps = {}  # (protocol id, step name) -> measure codes
        for protocol in self.call("GET", "/api/v1/protocols/", name="/api/v1/protocols/").json()["results"]:
            for step in protocol["steps"]:
                self.steps[(protocol["id"], step["name"])] = step["measures"]
        self.measures = {m["code"]: m for m in self.call("GET", "/api/v1/measures/", name="/api/v1/measures/")
                         .json()["results"]}
        usable = [lot for lot in self.call("GET", "/api/v1/lots/", params={"page_size": 500}, name="/api/v1/lots/")
                  .json()["results"] if lot["expiry_date"] >= self.day(0)]
        self.lot = max(usable, key=lambda lot: lot["expiry_date"])["id"] if usable else None
        self.enrolments = {}

    @task(3)
    def my_day(self):
        self.sessions(date_from=self.day(0), date_to=self.day(0), status="booked")

    @task(2)
    def complete_a_visit(self):
        now = dt.datetime.now(dt.UTC)
        due = [s for s in self.sessions(date_from=self.day(0), date_to=self.day(0), status="booked")
               if dt.datetime.fromisoformat(s["start"]) <= now]
        if not due:
            return
        session = random.choice(due)
        enrolment = self.enrolments.get(session["enrolment"])
        if enrolment is None:
            enrolment = self.call("GET", f"/api/v1/enrolments/{session['enrolment']}/",
                                  name="/api/v1/enrolments/{id}/").json()
            self.enrolments[session["enrolment"]] = enrolment
        codes = self.steps.get((enrolment["protocol"], session["step_name"]), [])
        outcomes = []
        for code in codes:
            if code in SCORED_CODES:
                continue  # scored from their items on the page; not recorded here (reason below)
            measure = self.measures[code]
            low, high = float(measure["min_value"]), float(measure["max_value"])
            outcomes.append({"measure": code, "value": round(low + (high - low) * 0.3)})
        body = {"outcomes": outcomes, "notes": "Load test visit"}
        if len(outcomes) < len(codes):
            body["not_done_reason"] = "Scored instruments recorded on paper during the load test"
        if session["kind"] == "treatment":
            body["lot"] = self.lot
        self.call("POST", f"/api/v1/sessions/{session['id']}/complete/", name="/api/v1/sessions/{id}/complete/",
                  ok=(200, 409), json=body)


class Manager(Staff):
    weight = 1

    def on_start(self):
        self.username = f"{SLUG}-manager"
        super().on_start()

    @task(3)
    def agenda(self):
        url = f"/api/v1/sessions/?date_from={self.day(0)}&date_to={self.day(0)}"
        while url:
            answer = self.call("GET", url, name="/api/v1/sessions/?date_from&date_to (all pages)")
            url = answer.json()["next"] if answer.status_code == 200 else None

    @task(1)
    def cohort_report(self):
        self.call("GET", "/api/v1/reports/cohort/", name="/api/v1/reports/cohort/")

    @task(1)
    def outbox(self):
        self.call("GET", "/api/v1/reminders/", params={"status": "sent"}, name="/api/v1/reminders/?status")


# --- Patients following their emails' links (SPEC §13, §18) --------------------------------------

LINKS = json.loads(Path(os.environ["LOAD_PATIENT_LINKS"]).read_text()) if os.environ.get("LOAD_PATIENT_LINKS") else {}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIME_FORM = re.compile(r'name="practitioner" value="(\d+)">(.*?)</form>', re.S)
START = re.compile(r'name="start" value="([^"]+)"')


class Patient(HttpUser):
    """A patient on a phone: opens a confirmation email's link and says
    "I'll come", or a "time to book" email's link and picks a time
    (bench/patient_links.py made the links with the server's key). A 404 is
    by design when staff moved, cancelled or completed that visit since the
    link was made; a 409 when another patient (or the desk) took the time a
    moment earlier. The questionnaire pages (issue 27) are not built yet."""

    fixed_count = int(os.environ.get("LOAD_PATIENTS", "0"))
    wait_time = between(2, 6)

    def page(self, path: str, name: str, *, data=None, ok=(200,)):
        method = "POST" if data is not None else "GET"
        with self.client.request(method, path, data=data, name=name, allow_redirects=False,
                                 catch_response=True) as answer:
            if answer.status_code in ok:
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            return answer

    @task(1)
    def confirm(self):
        if not LINKS.get("visit"):
            return
        path = random.choice(LINKS["visit"])
        page = self.page(path, "/p/{token}/", ok=(200, 404))
        token = CSRF.search(page.text) if page.status_code == 200 else None
        if token and 'value="confirm"' in page.text:
            self.page(path, "/p/{token}/ (I'll come)", data={"csrfmiddlewaretoken": token.group(1), "action": "confirm"})

    @task(2)
    def book_a_time(self):
        if not LINKS.get("book"):
            return
        path = random.choice(LINKS["book"])
        page = self.page(path, "/p/{token}/book/", ok=(200, 404))
        token = CSRF.search(page.text) if page.status_code == 200 else None
        choices = [(p, s) for p, form in TIME_FORM.findall(page.text) for s in START.findall(form)[:6]]
        if not token or not choices:
            return
        practitioner, start = random.choice(choices[:60])  # the first days, as patients choose
        answer = self.page(path, "/p/{token}/book/ (choose a time)", ok=(303, 409), data={
            "csrfmiddlewaretoken": token.group(1), "start": start, "practitioner": practitioner})
        if answer.status_code == 303:
            self.page(answer.headers["Location"], "/p/{token}/book/?booked=1")
