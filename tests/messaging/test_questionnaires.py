"""The patient questionnaire before a visit (SPEC §17): the email through the
outbox to a real SMTP server, its lead time, voiding and re-planning on a
move or a cancellation, consent; the page through the front door (partial
save, send, change, the link's end); the values it makes (source, visit
date, scoring rules, history); what staff see (API, agenda, due list)."""

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
import time_machine
from django.test import Client

from messaging import outbox
from protocols import instruments
from protocols.models import InstrumentWording, OutcomeMeasure
from sessions import services
from sessions.models import OutcomeMeasurement, Questionnaire, Reminder, ReminderKind, ReminderStatus
from sessions.patients.changes import update_patient
from tests import factories
from tests.messaging.conftest import parts

UTC = dt.UTC
BOOKED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VISIT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Berlin
MOVED = dt.datetime(2026, 12, 4, 13, 30, tzinfo=UTC)  # Friday 14:30

ECZEMA_STEPS = [
    factories.step(
        "Eczema review", "assessment", repeat=1, window_after_days=20, duration_minutes=30,
        measures=["easi", "poem", "itch_nrs", "dlqi"],
    )
]


@pytest.fixture
def eczema(clinic):
    return factories.make_protocol(clinic, steps=ECZEMA_STEPS, name="Eczema course", indication="atopic_dermatitis")


def at(moment, action):
    with time_machine.travel(moment, tick=False):
        return action()


def booked(patient, protocol, receptionist, clinician, start=VISIT):
    session = factories.enrol(patient, protocol, dt.date(2026, 11, 25), receptionist, at=BOOKED_AT).sessions.get()
    return at(BOOKED_AT, lambda: services.book_session(session=session, start=start, practitioner=clinician,
                                                       by=receptionist))


def questionnaire_rows(session):
    return list(Reminder.objects.filter(session=session, kind=ReminderKind.QUESTIONNAIRE).order_by("id"))


def page_path(message) -> str:
    text = parts(message)["text/plain"]
    return urlparse(re.search(r"https?://\S+/questionnaire/", text).group(0)).path


# --- Scoring (clinical/instruments.md) ---------------------------------------------------------------


def test_poem_one_unanswered_question_scores_zero_and_is_flagged_two_are_invalid():
    assert instruments.poem_score([4, 4, 4, 4, 4, 4, 4]).total == 28
    score = instruments.poem_score([2, None, 3, 1, 0, 4, 2])
    assert (score.total, score.unanswered) == (12, (2,))
    with pytest.raises(ValueError, match="POEM questions 2, 5 are unanswered"):
        instruments.poem_score([2, None, 3, 1, None, 4, 2])
    with pytest.raises(ValueError, match="POEM question 1 must be 0-4"):
        instruments.poem_score([5, 0, 0, 0, 0, 0, 0])
    assert [instruments.poem_band(t) for t in (2, 3, 7, 8, 16, 17, 24, 25)] == [
        "clear or almost clear", "mild", "mild", "moderate", "moderate", "severe", "severe", "very severe",
    ]


def test_posas_patient_sums_six_items_and_keeps_the_overall_opinion_apart():
    assert instruments.posas_patient([1, 2, 3, 4, 5, 6], 9) == 21
    with pytest.raises(ValueError, match="item 3"):
        instruments.posas_patient([1, 2, None, 4, 5, 6], 9)


# --- The email: lead time, once, consent, move and cancel ----------------------------------------------


def test_the_questionnaire_goes_out_48_hours_before_the_visit_once_with_a_signed_link(
    smtp, clinic, patient, eczema, receptionist, clinician
):
    session = booked(patient, eczema, receptionist, clinician)
    [row] = questionnaire_rows(session)
    assert row.due_at == VISIT - dt.timedelta(hours=48)
    outbox.scan(now=row.due_at - dt.timedelta(minutes=1))  # the confirmation and the 72-hour reminder
    assert not [m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]
    assert outbox.scan(now=row.due_at)["sent"] == 1
    assert outbox.scan(now=row.due_at + dt.timedelta(hours=1))["claimed"] == 0  # once
    [message] = [m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]
    assert message["X-Regimen-Kind"] == "questionnaire"
    assert "a few questions before your visit on Wednesday 2 December 2026, 10:00" in message["Subject"]
    path = page_path(message)
    assert path.startswith("/p/") and path.endswith("/questionnaire/")
    assert message["List-Unsubscribe"]
    row.refresh_from_db()
    assert row.status == ReminderStatus.SENT


def test_the_lead_time_is_the_clinics_setting(clinic, patient, eczema, receptionist, clinician, manager, client_as):
    answer = client_as(manager).patch("/api/v1/clinic/", {"questionnaire_lead_hours": 72}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["questionnaire_lead_hours"] == 72
    session = booked(patient, eczema, receptionist, clinician)
    [row] = questionnaire_rows(session)
    assert row.due_at == VISIT - dt.timedelta(hours=72)
    bad = client_as(manager).patch("/api/v1/clinic/", {"questionnaire_lead_hours": 0}, format="json")
    assert bad.status_code == 400 and "questionnaire_lead_hours" in bad.json()


def test_no_questionnaire_without_email_consent_or_patient_reported_measures(
    clinic, patient, eczema, receptionist, clinician
):
    clinician_only = factories.make_protocol(clinic, steps=[{**ECZEMA_STEPS[0], "measures": ["easi"]}], name="EASI")
    hair = factories.enrol(factories.PatientFactory(clinic=clinic), clinician_only, dt.date(2026, 11, 25),
                           receptionist, at=BOOKED_AT).sessions.get()
    at(BOOKED_AT, lambda: services.book_session(session=hair, start=VISIT, practitioner=clinician, by=receptionist))
    assert questionnaire_rows(hair) == []
    patient.reminder_consent = False
    patient.save()
    session = booked(patient, eczema, receptionist, clinician, start=MOVED)
    assert questionnaire_rows(session) == []


def test_a_move_voids_the_questionnaire_and_plans_it_for_the_new_time_with_a_new_link(
    smtp, clinic, patient, eczema, receptionist, clinician
):
    session = booked(patient, eczema, receptionist, clinician)
    outbox.scan(now=VISIT - dt.timedelta(hours=48))
    [first_mail] = [m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]
    old_path = page_path(first_mail)
    moved_at = VISIT - dt.timedelta(hours=40)
    at(moved_at, lambda: services.book_session(session=session, start=MOVED, practitioner=clinician,
                                               by=receptionist, change_reason="patient"))
    rows = questionnaire_rows(session)
    assert [(r.status, r.due_at) for r in rows] == [
        (ReminderStatus.SENT, VISIT - dt.timedelta(hours=48)),
        (ReminderStatus.PENDING, MOVED - dt.timedelta(hours=48)),
    ]
    outbox.scan(now=MOVED - dt.timedelta(hours=48))
    second = [m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]
    assert len(second) == 2
    assert "Friday 4 December 2026, 14:30" in second[1]["Subject"]
    new_path = page_path(second[1])
    with time_machine.travel(MOVED - dt.timedelta(hours=47), tick=False):
        assert Client().get(old_path).status_code == 404  # the old booking's link is dead
        assert Client().get(new_path).status_code == 200


def test_a_pending_questionnaire_is_voided_by_a_cancellation_and_planned_again_on_rebooking(
    clinic, patient, eczema, receptionist, clinician
):
    session = booked(patient, eczema, receptionist, clinician)
    at(BOOKED_AT, lambda: services.cancel_booking(session=session, reason="patient", by=receptionist))
    assert [r.status for r in questionnaire_rows(session)] == [ReminderStatus.VOID]
    at(BOOKED_AT, lambda: services.book_session(session=session, start=MOVED, practitioner=clinician, by=receptionist))
    assert [(r.status, r.due_at) for r in questionnaire_rows(session)] == [
        (ReminderStatus.VOID, VISIT - dt.timedelta(hours=48)),
        (ReminderStatus.PENDING, MOVED - dt.timedelta(hours=48)),
    ]


def test_withdrawn_consent_voids_it_at_send_time(clinic, patient, eczema, receptionist, clinician):
    session = booked(patient, eczema, receptionist, clinician)
    [row] = questionnaire_rows(session)
    # Claimed before the change would void it: the send-time check catches it.
    claims = outbox.claim_due(row.due_at)
    Reminder.objects.filter(pk=row.pk).update(status=ReminderStatus.SENDING)
    patient.reminder_consent = False
    patient.save()
    outcomes = outbox.send_batch([c for c in claims if c.reminder_id == row.pk], now=row.due_at)
    assert outcomes[row.pk] == outbox.VOID


# --- The page and the values it makes ---------------------------------------------------------------


def _link(session):
    from messaging import links

    return urlparse(links.questionnaire_url(session)).path


def test_the_page_saves_part_filled_sends_once_and_makes_values_dated_by_the_visit(
    clinic, patient, eczema, receptionist, clinician
):
    session = booked(patient, eczema, receptionist, clinician)
    path = _link(session)
    browser = Client()
    answered_at = VISIT - dt.timedelta(hours=30)
    with time_machine.travel(answered_at, tick=False):
        page = browser.get(path)
        assert page.status_code == 200
        text = page.content.decode()
        # DLQI's wording is not entered: POEM, then the itch NRS, then "send".
        assert "on how many nights has your sleep been disturbed" in text
        assert "Part 1 of 2" in text
        assert "Dermatology Life Quality Index" not in text
        assert Questionnaire.objects.get(session=session).opened_at == answered_at
        # Part-filled: saved, nothing sent.
        answer = browser.post(path, {"step": 1, "action": "later", "0": "2", "1": "1"})
        assert answer.status_code == 302
        assert Questionnaire.objects.get(session=session).draft == {"poem": {"0": 2, "1": 1}}
        assert not OutcomeMeasurement.objects.filter(session=session).exists()
        # Sending with five POEM questions unanswered is refused, naming POEM.
        refused = browser.post(path, {"step": 3, "action": "send"})
        assert refused.status_code == 200
        assert "POEM" in refused.content.decode() and "unanswered" in refused.content.decode()
        # One POEM question left out is allowed (it scores 0).
        browser.post(path, {"step": 1, "action": "next", "0": "2", "1": "1", "2": "0", "3": "4", "4": "3", "5": "2"})
        browser.post(path, {"step": 2, "action": "next", "0": "7"})
        sent = browser.post(path, {"step": 3, "action": "send"})
        assert sent.status_code == 302
    values = {v.measure.code: v for v in OutcomeMeasurement.objects.filter(session=session).select_related("measure")}
    assert set(values) == {"poem", "itch_nrs"}
    poem = values["poem"]
    assert (poem.value, poem.items) == (12, {"answers": [2, 1, 0, 4, 3, 2, None]})
    assert (poem.source, poem.recorded_by, poem.answered_at) == ("patient", None, answered_at)
    assert poem.observed_on == dt.date(2026, 12, 2)  # the visit's date, not the day it was answered
    assert values["itch_nrs"].value == 7
    # Changed later the same way, until the visit is completed; the history keeps both.
    later = VISIT - dt.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        browser.post(path, {"step": 2, "action": "next", "0": "5"})
        assert browser.post(path, {"step": 3, "action": "send"}).status_code == 302
    itch = OutcomeMeasurement.objects.get(session=session, measure__code="itch_nrs")
    assert itch.value == 5 and itch.answered_at == answered_at
    assert [h.value for h in itch.history.order_by("history_date")] == [7, 5]
    row = Questionnaire.objects.get(session=session)
    assert (row.answered_at, row.changed_at) == (answered_at, later)
    # Answered before the visit: no questionnaire email is wanted any more.
    assert all(r.status != ReminderStatus.PENDING for r in questionnaire_rows(session))


def test_completion_asks_only_for_what_the_patient_did_not_answer_and_then_locks_the_answers(
    clinic, patient, eczema, receptionist, clinician, client_as
):
    session = booked(patient, eczema, receptionist, clinician)
    path = _link(session)
    browser = Client()
    with time_machine.travel(VISIT - dt.timedelta(hours=5), tick=False):
        browser.post(path, {"step": 1, "action": "next", **{str(i): "1" for i in range(7)}})
        browser.post(path, {"step": 2, "action": "next", "0": "4"})
        browser.post(path, {"step": 3, "action": "send"})
    dlqi = {"measure": "dlqi", "items": {"answers": [1, 1, 0, 0, 0, 0, "yes", 0, 0, None]}}
    easi = {"measure": "easi", "items": {"regions": {r: {"erythema": 1, "oedema_papulation": 1, "excoriation": 0,
            "lichenification": 0, "area_percent": 10} for r in instruments.EASI_REGIONS}}}
    with time_machine.travel(VISIT + dt.timedelta(minutes=20), tick=False):
        again = factories.complete_over_api(
            client_as(clinician), session, {"outcomes": [easi, dlqi, {"measure": "poem", "items": {"answers": [0] * 7}}]}
        )
        assert again.status_code == 400 and "already answered in the questionnaire" in str(again.json())
        done = factories.complete_over_api(client_as(clinician), session, {"outcomes": [easi, dlqi]})
        assert done.status_code == 200, done.content
        sources = {o["measure"]: (o["source"], o["observed_on"]) for o in done.json()["outcomes"]}
        assert sources == {
            "easi": ("staff", "2026-12-02"), "dlqi": ("staff", "2026-12-02"),
            "poem": ("patient", "2026-12-02"), "itch_nrs": ("patient", "2026-12-02"),
        }
        dlqi_row = next(o for o in done.json()["outcomes"] if o["measure"] == "dlqi")
        assert dlqi_row["value"] == 5 and dlqi_row["interpretation"]["unanswered"] == [10]
        # The visit is completed: the page shows the answers and takes no change.
        page = browser.get(path + "?step=2")
        assert page.status_code == 200 and "can no longer be changed" in page.content.decode()
        browser.post(path, {"step": 2, "action": "next", "0": "9"})
    assert OutcomeMeasurement.objects.get(session=session, measure__code="itch_nrs").value == 4


def test_dlqi_two_unanswered_questions_are_refused_by_the_staff_paper_entry(
    clinic, patient, eczema, receptionist, clinician, client_as
):
    session = booked(patient, eczema, receptionist, clinician)
    url = f"/api/v1/sessions/{session.pk}/questionnaire/"
    bad = client_as(receptionist).post(
        url, {"outcomes": [{"measure": "dlqi", "items": {"answers": [1, 1, None, None, 0, 0, 0, 0, 0, 0]}}]},
        format="json",
    )
    assert bad.status_code == 400 and "DLQI questions 3, 4 are unanswered" in str(bad.json())
    bare = client_as(receptionist).post(url, {"outcomes": [{"measure": "poem", "value": 12}]}, format="json")
    assert bare.status_code == 400 and "items" in str(bare.json())
    paper = client_as(receptionist).post(
        url,
        {"outcomes": [{"measure": "dlqi", "items": {"answers": [3, 2, 1, 0, "not_relevant", 0, 2, 1, 0, 0]}},
                      {"measure": "itch_nrs", "value": 6}]},
        format="json",
    )
    assert paper.status_code == 200, paper.content
    body = paper.json()
    assert body["answered"] and body["source"] == "staff"
    values = {v["measure"]: v for v in body["values"]}
    assert values["dlqi"]["value"] == 9 and values["dlqi"]["source"] == "staff"
    assert values["dlqi"]["recorded_by"] == receptionist.pk
    assert values["dlqi"]["observed_on"] == "2026-12-02"


def test_a_tampered_or_late_link_shows_nothing(clinic, patient, eczema, receptionist, clinician):
    session = booked(patient, eczema, receptionist, clinician)
    path = _link(session)
    token = path.split("/")[2]
    tampered = path.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    with time_machine.travel(VISIT - dt.timedelta(hours=1), tick=False):
        refused = Client().get(tampered)
        assert refused.status_code == 404
        assert patient.last_name not in refused.content.decode()
        assert Client().get(path).status_code == 200
    # Still good on the visit's day, after the visit has begun; dead after midnight (Berlin).
    with time_machine.travel(dt.datetime(2026, 12, 2, 22, 59, tzinfo=UTC), tick=False):
        assert Client().get(path).status_code == 200
    with time_machine.travel(dt.datetime(2026, 12, 2, 23, 0, tzinfo=UTC), tick=False):
        late = Client().get(path)
        assert late.status_code == 404 and patient.last_name not in late.content.decode()


# --- Licensed wording ----------------------------------------------------------------------------------


DLQI_EN = {
    "instructions": "The aim of this questionnaire is to measure how much your skin problem has affected your life "
    "OVER THE LAST WEEK.",
    "questions": [f"Licensed question {n}" for n in range(1, 11)],
    "answers": {"very_much": "Very much", "a_lot": "A lot", "a_little": "A little", "not_at_all": "Not at all",
                "not_relevant": "Not relevant", "yes": "Yes", "no": "No"},
}


def test_the_manager_enters_the_licensed_dlqi_wording_and_the_questionnaire_then_asks_it(
    clinic, patient, eczema, receptionist, clinician, manager, client_as
):
    session = booked(patient, eczema, receptionist, clinician)
    status = client_as(receptionist).get(f"/api/v1/sessions/{session.pk}/questionnaire/").json()
    assert status["left_out"] == ["dlqi"] and status["measures"] == ["poem", "itch_nrs", "dlqi"]
    url = "/api/v1/clinic/dlqi-wording/"
    assert client_as(receptionist).put(url, {**DLQI_EN, "language": "en"}, format="json").status_code == 403
    short = client_as(manager).put(url, {**DLQI_EN, "language": "en", "questions": DLQI_EN["questions"][:9]},
                                   format="json")
    assert short.status_code == 400 and "questions" in short.json()
    labels = {**DLQI_EN["answers"], "no": ""}
    blank = client_as(manager).put(url, {**DLQI_EN, "language": "en", "answers": labels}, format="json")
    assert blank.status_code == 400 and "answers" in blank.json()
    french = client_as(manager).put(url, {**DLQI_EN, "language": "fr"}, format="json")
    assert french.status_code == 400 and "language" in french.json()
    # The text rules of issue 30: no control or bidi characters, questions on one line.
    for field, bad in (("questions", ["Line\none", *DLQI_EN["questions"][1:]]),
                       ("answers", {**DLQI_EN["answers"], "no": "No\u202e"}), ("instructions", "Esc \x1b")):
        refused = client_as(manager).put(url, {**DLQI_EN, "language": "en", field: bad}, format="json")
        assert refused.status_code == 400 and field in refused.json(), (field, refused.content)
    assert not InstrumentWording.objects.filter(clinic=clinic).exists()
    saved = client_as(manager).put(url, {**DLQI_EN, "language": "en"}, format="json")
    assert saved.status_code == 200, saved.content
    assert [(row["language"], row["entered"]) for row in saved.json()] == [("en", True), ("de", False)]
    assert client_as(receptionist).get(url).json()[0]["questions"][0] == "Licensed question 1"
    assert InstrumentWording.objects.get(clinic=clinic, code="dlqi", language="en").questions[6] == "Licensed question 7"
    status = client_as(receptionist).get(f"/api/v1/sessions/{session.pk}/questionnaire/").json()
    assert status["left_out"] == []
    with time_machine.travel(VISIT - dt.timedelta(hours=3), tick=False):
        page = Client().get(_link(session) + "?step=3").content.decode()
    assert "Licensed question 7" in page and "No: A lot" in page and "Part 3 of 3" in page


# --- Staff: status, agenda, due list --------------------------------------------------------------------


def test_staff_see_sent_opened_and_answered(smtp, clinic, patient, eczema, receptionist, clinician, client_as):
    session = booked(patient, eczema, receptionist, clinician)
    url = f"/api/v1/sessions/{session.pk}/questionnaire/"
    status = client_as(receptionist).get(url).json()
    assert (status["asked"], status["sent"], status["opened"], status["answered"]) == (True, False, False, False)
    assert status["email_due_at"] == "2026-11-30T10:00:00+01:00"
    outbox.scan(now=VISIT - dt.timedelta(hours=48))
    assert client_as(receptionist).get(url).json()["sent"]
    with time_machine.travel(VISIT - dt.timedelta(hours=20), tick=False):
        Client().get(_link(session))
    assert client_as(receptionist).get(url).json()["opened"]
    with time_machine.travel(VISIT - dt.timedelta(hours=19), tick=False):
        browser = Client()
        browser.post(_link(session), {"step": 1, "action": "next", **{str(i): "0" for i in range(7)}})
        browser.post(_link(session), {"step": 2, "action": "next", "0": "1"})
        browser.post(_link(session), {"step": 3, "action": "send"})
    status = client_as(receptionist).get(url).json()
    assert status["answered"] and status["answered_before_visit"] and status["source"] == "patient"
    assert status["answered_at"] == "2026-12-01T15:00:00+01:00"
    assert {v["measure"] for v in status["values"]} == {"poem", "itch_nrs"}
    assert client_as(factories.UserFactory(clinic=factories.ClinicFactory())).get(url).status_code == 404


def test_the_due_list_shows_visits_in_the_next_two_days_without_answers(
    clinic, patient, eczema, receptionist, clinician
):
    from tests.web.conftest import login

    session = booked(patient, eczema, receptionist, clinician)
    other = booked(factories.PatientFactory(clinic=clinic, last_name="Zweig"), eczema, receptionist, clinician,
                   start=MOVED)
    with time_machine.travel(VISIT - dt.timedelta(hours=30), tick=False):
        page = login(Client(), receptionist).get("/due/").content.decode()
        agenda = login(Client(), receptionist).get("/agenda/?date=2026-12-02").content.decode()
    assert "No answers yet" in page
    assert patient.last_name in page.split("No answers yet", 1)[1]
    assert other.patient.last_name not in page.split("No answers yet", 1)[1]  # more than two days ahead
    assert "Questionnaire: not answered" in agenda
    with time_machine.travel(VISIT - dt.timedelta(hours=29), tick=False):
        browser = Client()
        browser.post(_link(session), {"step": 1, "action": "next", **{str(i): "0" for i in range(7)}})
        browser.post(_link(session), {"step": 2, "action": "next", "0": "1"})
        browser.post(_link(session), {"step": 3, "action": "send"})
        agenda = login(Client(), receptionist).get("/agenda/?date=2026-12-02").content.decode()
        page = login(Client(), receptionist).get("/due/").content.decode()
    assert "Questionnaire: answered" in agenda
    assert "No answers yet" not in page


def test_poem_and_pgic_are_patient_reported_measures_in_the_catalogue(db):
    factories.make_protocol(factories.ClinicFactory())
    measures = {m.code: m for m in OutcomeMeasure.objects.filter(reported_by="patient")}
    assert set(measures) == {"dlqi", "poem", "itch_nrs", "posas_patient", "pgic"}
    assert (measures["poem"].min_value, measures["poem"].max_value) == (0, 28)
    assert (measures["pgic"].min_value, measures["pgic"].max_value, measures["pgic"].ordinal) == (1, 7, True)
    assert OutcomeMeasure.objects.get(code="easi").reported_by == "clinician"


def test_unsubscribed_patient_gets_no_questionnaire_planned(clinic, patient, eczema, receptionist, clinician):
    session = booked(patient, eczema, receptionist, clinician)
    at(BOOKED_AT, lambda: update_patient(patient=patient, data={"reminder_consent": False}, by=receptionist))
    assert [r.status for r in questionnaire_rows(session)] == [ReminderStatus.VOID]


def test_the_history_of_a_patient_value_names_its_source_and_no_staff_member(
    clinic, patient, eczema, receptionist, clinician, client_as
):
    session = booked(patient, eczema, receptionist, clinician)
    path = _link(session)
    browser = Client()
    for hours, itch in ((30, "7"), (20, "5")):
        with time_machine.travel(VISIT - dt.timedelta(hours=hours), tick=False):
            browser.post(path, {"step": 1, "action": "next", **{str(i): "1" for i in range(7)}})
            browser.post(path, {"step": 2, "action": "next", "0": itch})
            browser.post(path, {"step": 3, "action": "send"})
    itch = OutcomeMeasurement.objects.get(session=session, measure__code="itch_nrs")
    versions = client_as(clinician).get(f"/api/v1/outcomes/{itch.pk}/history/").json()
    assert [(v["value"], v["source"], v["by"], v["reason"]) for v in versions] == [
        (7, "patient", None, "answered in the questionnaire"),
        (5, "patient", None, "changed in the questionnaire"),
    ]
    # FHIR: the patient is the performer, and their own change is not a correction.
    dlqi = {"measure": "dlqi", "items": {"answers": [1] * 10}}
    easi = {"measure": "easi", "items": {"regions": {r: {"erythema": 1, "oedema_papulation": 1, "excoriation": 0,
            "lichenification": 0, "area_percent": 10} for r in instruments.EASI_REGIONS}}}
    with time_machine.travel(VISIT + dt.timedelta(minutes=20), tick=False):
        assert factories.complete_over_api(client_as(clinician), session, {"outcomes": [easi, dlqi]}).status_code == 200
    bundle = client_as(factories.UserFactory(clinic=clinic, role="manager")).get(
        f"/api/v1/patients/{patient.pk}/fhir/"
    ).json()
    observations = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Observation"}
    patient_ref = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
                       and e["resource"]["id"] == str(itch.pk))["subject"]
    assert observations[str(itch.pk)]["performer"] == [patient_ref]
    assert observations[str(itch.pk)]["status"] == "final"
    easi_row = OutcomeMeasurement.objects.get(session=session, measure__code="easi")
    assert "performer" not in observations[str(easi_row.pk)]


def test_a_temporary_smtp_failure_is_retried_and_the_questionnaire_still_goes_once(
    smtp, settings, clinic, patient, eczema, receptionist, clinician
):
    session = booked(patient, eczema, receptionist, clinician)
    [row] = questionnaire_rows(session)
    outbox.scan(now=row.due_at - dt.timedelta(minutes=1))  # the confirmation and the 72-hour reminder
    smtp.replies[patient.email] = ["451 4.3.0 try again later"]
    assert outbox.scan(now=row.due_at)["retry"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (ReminderStatus.PENDING, 1)
    assert outbox.scan(now=row.next_attempt_at)["sent"] == 1
    assert outbox.scan(now=row.next_attempt_at + dt.timedelta(hours=1))["claimed"] == 0
    assert len([m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]) == 1


def test_the_cohort_report_gives_the_share_answered_before_the_visit_and_reports_poem_like_the_others(
    clinic, eczema, receptionist, clinician, manager, client_as
):
    easi = {"measure": "easi", "items": {"regions": {r: {"erythema": 1, "oedema_papulation": 1, "excoriation": 0,
            "lichenification": 0, "area_percent": 10} for r in instruments.EASI_REGIONS}}}
    dlqi = {"measure": "dlqi", "items": {"answers": [1] * 10}}
    starts = (VISIT, VISIT + dt.timedelta(hours=2), VISIT + dt.timedelta(hours=4))
    for index, start in enumerate(starts):
        session = booked(factories.PatientFactory(clinic=clinic), eczema, receptionist, clinician, start=start)
        if index == 0:  # answered online the day before
            with time_machine.travel(start - dt.timedelta(hours=20), tick=False):
                browser = Client()
                browser.post(_link(session), {"step": 1, "action": "next", **{str(i): "2" for i in range(7)}})
                browser.post(_link(session), {"step": 2, "action": "next", "0": "5"})
                browser.post(_link(session), {"step": 3, "action": "send"})
        outcomes = [easi, dlqi]
        if index > 0:  # asked at the visit: on paper for the second, by the clinician for the third
            outcomes += [{"measure": "poem", "items": {"answers": [1] * 7}}, {"measure": "itch_nrs", "value": 4}]
        with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
            answer = factories.complete_over_api(client_as(clinician), session, {"outcomes": outcomes})
            assert answer.status_code == 200, answer.content
    with time_machine.travel(VISIT + dt.timedelta(days=1), tick=False):
        body = client_as(manager).get("/api/v1/reports/cohort/").json()
        from tests.web.conftest import login

        page = login(Client(), manager).get("/reports/").content.decode()
    asked = body["questionnaires"]
    assert (asked["visits"], asked["answered_before_visit"], asked["by_patient"]) == (3, 1, 1)
    assert asked["rate"] == "0.333" and float(asked["ci95"][0]) < 0.333 < float(asked["ci95"][1])
    measures = {m["code"]: m for m in body["measures"]}
    assert measures["poem"]["reported_by"] == "patient" and measures["easi"]["reported_by"] == "clinician"
    # The one visit is each course's baseline: POEM counted like any measure, whoever gave it.
    assert [p["n"] for p in measures["poem"]["time_points"]] == [3]
    assert "Patient questionnaires" in page and 'data-figure="questionnaires"' in page
    assert "<td>33 %</td>" in page.split('data-figure="questionnaires"')[1]


def test_the_email_and_the_page_speak_the_patients_language_formally(
    smtp, clinic, patient, eczema, receptionist, clinician
):
    patient.language = "de"
    patient.save(update_fields=["language"])
    session = booked(patient, eczema, receptionist, clinician)
    [row] = questionnaire_rows(session)
    outbox.scan(now=row.due_at)
    [message] = [m for m in smtp.messages if m["X-Regimen-Kind"] == "questionnaire"]
    assert "ein paar Fragen vor Ihrem Termin" in str(message["Subject"])
    assert "Bitte beantworten Sie vor Ihrem Termin" in parts(message)["text/plain"]
    with time_machine.travel(row.due_at + dt.timedelta(hours=1), tick=False):
        page = Client().get(page_path(message)).content.decode()
    assert '<html lang="de">' in page
    assert "Fragen vor Ihrem Termin" in page and "Teil 1 von 2" in page
    assert "In wie vielen Nächten war Ihr Schlaf in der letzten Woche wegen Ihres Ekzems gestört?" in page
    assert "An 3–4 Tagen" in page and "Speichern und weiter" in page
