"""Staff pages around the patient questionnaire (SPEC §17): the completion
page shows the patient's answers instead of asking again and asks for DLQI
while its licensed wording is missing; the manager enters that wording and
the questionnaire's lead time."""

import datetime as dt
from urllib.parse import urlparse

import pytest
import time_machine
from django.test import Client

from messaging import links
from protocols.models import InstrumentWording
from sessions import services
from tests import factories
from tests.web.conftest import login

UTC = dt.UTC
BOOKED_AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VISIT = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(clinic, patient, receptionist, clinician):
    protocol = factories.make_protocol(
        clinic,
        steps=[factories.step("Eczema review", "assessment", window_after_days=20, duration_minutes=30,
                              measures=["iga", "poem", "dlqi"])],
        name="Eczema course", indication="atopic_dermatitis",
    )
    first = factories.enrol(patient, protocol, dt.date(2026, 11, 25), receptionist, at=BOOKED_AT).sessions.get()
    with time_machine.travel(BOOKED_AT, tick=False):
        return services.book_session(session=first, start=VISIT, practitioner=clinician, by=receptionist)


def test_the_completion_page_shows_the_answers_and_asks_for_the_rest(session, clinician, manager):
    path = urlparse(links.questionnaire_url(session)).path
    with time_machine.travel(VISIT - dt.timedelta(hours=6), tick=False):
        patient_browser = Client()
        patient_browser.post(path, {"step": 1, "action": "next", **{str(i): "2" for i in range(7)}})
        patient_browser.post(path, {"step": 2, "action": "send"})
    with time_machine.travel(VISIT + dt.timedelta(minutes=5), tick=False):
        page = login(Client(), clinician).get(f"/sessions/{session.pk}/complete/").content.decode()
        assert "Patient questionnaire" in page
        assert 'data-measure="poem"' in page and "the patient" in page
        assert 'name="items_poem' not in page  # not asked again
        assert 'name="items_dlqi__answers__0"' in page  # DLQI asked of staff
        assert "left out DLQI" in page
        manager_page = login(Client(), manager).get(f"/sessions/{session.pk}/complete/").content.decode()
        assert "/settings/wording/" in manager_page
        answer = login(Client(), clinician).post(
            f"/sessions/{session.pk}/complete/",
            {"measure_iga": "2", **{f"items_dlqi__answers__{i}": "1" for i in range(10)}, "ae-TOTAL_FORMS": "0",
             "ae-INITIAL_FORMS": "0"},
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]
    values = {v.measure.code: (v.value, v.source) for v in session.outcomes.select_related("measure")}
    assert values == {"poem": (14, "patient"), "iga": (2, "staff"), "dlqi": (10, "staff")}


def test_the_manager_enters_the_dlqi_wording_per_language(clinic, manager, receptionist):
    assert login(Client(), receptionist).get("/settings/wording/").status_code == 403
    browser = login(Client(), manager)
    page = browser.get("/settings/wording/?language=de")
    assert page.status_code == 200 and "not entered" in page.content.decode()
    form = {"language": "de", "instructions": "Ziel dieses Fragebogens ...",
            **{f"question_{n}": f"Lizenzierte Frage {n}" for n in range(1, 11)},
            **{f"answer_{k}": k.upper() for k in ("very_much", "a_lot", "a_little", "not_at_all", "not_relevant",
                                                   "yes", "no")}}
    missing = browser.post("/settings/wording/", {**form, "question_4": ""})
    assert missing.status_code == 400
    assert not InstrumentWording.objects.exists()
    assert browser.post("/settings/wording/", form).status_code == 302
    wording = InstrumentWording.objects.get(clinic=clinic, code="dlqi", language="de")
    assert wording.questions[3] == "Lizenzierte Frage 4" and wording.answers["no"] == "NO"
    assert not InstrumentWording.objects.filter(language="en").exists()


def test_the_lead_time_is_on_the_settings_page(clinic, manager):
    page = login(Client(), manager).get("/settings/").content.decode()
    assert 'name="questionnaire_lead_hours"' in page and 'value="48"' in page
