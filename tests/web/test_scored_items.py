"""The Complete page scores SCORAD, EASI, PASI and DLQI from their items: an
optional disclosure beside the typed-in score, whose items are all or none."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from protocols.instruments import EASI_ITEMS, EASI_REGIONS, SCORAD_INTENSITY_ITEMS
from sessions import services
from sessions.models import OutcomeMeasurement, SessionStatus
from tests.factories import make_protocol, step
from tests.web.conftest import browser_login, login, no_horizontal_scroll, unlabelled_fields

# A = 40 %, B = 2+2+1+2+1+1 = 9, C = 7 + 5 = 12: 40/5 + 7*9/2 + 12 = 51.5
SCORAD_POST = {
    "items_scorad__area_percent": "40",
    **{
        f"items_scorad__intensity__{key}": str(v)
        for key, v in zip(SCORAD_INTENSITY_ITEMS, (2, 2, 1, 2, 1, 1), strict=True)
    },
    "items_scorad__pruritus": "7",
    "items_scorad__sleeplessness": "5",
}
SCORAD_ITEMS = {
    "area_percent": 40,
    "intensity": dict(zip(SCORAD_INTENSITY_ITEMS, (2, 2, 1, 2, 1, 1), strict=True)),
    "pruritus": 7,
    "sleeplessness": 5,
}


@pytest.fixture
def doc(clinician):
    return login(Client(), clinician)


@pytest.fixture
def assessment(clinic, patient, receptionist, clinician):
    """An atopic-dermatitis assessment recording SCORAD, EASI and DLQI, booked tomorrow at 10:00."""
    protocol = make_protocol(
        clinic,
        name="Atopic dermatitis, secretome",
        indication="atopic_dermatitis",
        delivery="topical",
        steps=[step("Assessment", "assessment", duration_minutes=30, measures=["scorad", "easi", "dlqi"])],
    )
    tomorrow = timezone.now().astimezone(clinic.tz).date() + dt.timedelta(days=1)
    enrolment = services.enrol_patient(
        patient=patient, protocol=protocol, start_date=tomorrow, clinician=clinician, by=receptionist
    )
    session = enrolment.sessions.get(sequence=1)
    start = dt.datetime.combine(session.target_date, dt.time(10, 0), tzinfo=clinic.tz)
    return services.book_session(session=session, start=start, practitioner=clinician, by=receptionist)


def input_attrs(page: str, name: str) -> set[tuple[str, str]]:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag, name
    return set(re.findall(r'(\w+)="([^"]*)"', tag.group()))


def post(doc, session, **fields):
    data = {
        "ae-TOTAL_FORMS": "2",
        "ae-INITIAL_FORMS": "0",
        "ae-MIN_NUM_FORMS": "0",
        "ae-MAX_NUM_FORMS": "20",
        **{f"items_easi__regions__{r}__{k}": "0" for r in EASI_REGIONS for k in (*EASI_ITEMS, "area_percent")},
        **{f"items_dlqi__answers__{i}": "0" for i in range(10)},
        "notes": "Flare on the flexures",
        **fields,
    }
    with time_machine.travel(session.start + dt.timedelta(minutes=5), tick=False):
        return doc.post(reverse("session_complete", args=[session.pk]), data)


def unchanged(session):
    session.refresh_from_db()
    return session.status == SessionStatus.BOOKED and not OutcomeMeasurement.objects.exists()


def test_each_scored_measure_offers_its_labelled_items_in_an_open_section(doc, assessment):
    page = doc.get(reverse("session_complete", args=[assessment.pk])).content.decode()
    # SCORAD, EASI, DLQI: open, since the items are the only way to record them (SPEC §10).
    assert page.count('<details class="scored-items" open>') == 3
    assert "<summary>Score SCORAD from items</summary>" in page
    assert "<legend>Head and neck (signs 0–3 in half points)</legend>" in page
    assert "<legend>Intensity (0–3 each)</legend>" in page
    names = [
        *SCORAD_POST,
        *(f"items_dlqi__answers__{i}" for i in range(10)),
        *(f"items_easi__regions__{r}__{k}" for r in EASI_REGIONS for k in (*EASI_ITEMS, "area_percent")),
    ]
    for name in names:
        assert f'<label for="id_{name}"' in page, name
    assert '<label for="id_items_scorad__intensity__oozing_crusts">Oozing / crusts:</label>' in page
    assert input_attrs(page, "items_scorad__intensity__dryness") >= {("min", "0"), ("max", "3"), ("step", "1")}
    assert input_attrs(page, "items_scorad__pruritus") >= {("min", "0"), ("max", "10"), ("step", "any")}
    assert input_attrs(page, "items_easi__regions__trunk__area_percent") >= {("max", "100"), ("type", "number")}
    assert input_attrs(page, "items_easi__regions__trunk__erythema") >= {("step", "0.5"), ("max", "3")}
    assert '<option value="not_relevant">Not relevant (0)</option>' in page
    assert '<option value="yes">Yes, prevented work or study (3)</option>' in page


def select_of(page: str, name: str) -> str:
    start = page.index(f'name="{name}"')
    return page[start:page.index("</select>", start)]


def test_dlqi_offers_not_relevant_on_questions_3_to_10_only(doc, assessment):
    # The published DLQI has no "not relevant" on questions 1 and 2 (instruments.md, corrections).
    page = doc.get(reverse("session_complete", args=[assessment.pk])).content.decode()
    offered = ['value="not_relevant"' in select_of(page, f"items_dlqi__answers__{i}") for i in range(10)]
    assert offered == [False, False] + [True] * 8


def test_scorad_from_its_items_is_computed_and_stored_with_them(doc, assessment):
    response = post(doc, assessment, **SCORAD_POST)
    assert response.status_code == 302, response.context["form"].errors
    assessment.refresh_from_db()
    assert assessment.status == SessionStatus.COMPLETED
    scorad = OutcomeMeasurement.objects.get(session=assessment, measure__code="scorad")
    assert (scorad.value, scorad.items) == (Decimal("51.5"), SCORAD_ITEMS)
    page = doc.get(reverse("patient_detail", args=[assessment.patient_id])).content.decode()
    assert "51.5" in page


def test_dlqi_and_easi_from_items_too(doc, assessment, patient):
    patient.date_of_birth = dt.date(1980, 5, 1)
    patient.save()
    easi = {f"items_easi__regions__{r}__{k}": "0" for r in EASI_REGIONS for k in (*EASI_ITEMS, "area_percent")}
    easi.update({f"items_easi__regions__head_neck__{k}": v for k, v in zip(EASI_ITEMS, "2211", strict=True)})
    easi.update(
        {"items_easi__regions__head_neck__area_percent": "15", "items_easi__regions__lower_limbs__area_percent": "55"}
    )
    easi.update({f"items_easi__regions__lower_limbs__{k}": "1" for k in EASI_ITEMS})
    # Question 3 not relevant, question 7 "yes" (3), question 9 unanswered (scores 0, flagged).
    answers = (1, 2, "not_relevant", 3, 1, 0, "yes", 0, None, 2)
    dlqi = {f"items_dlqi__answers__{i}": "" if a is None else str(a) for i, a in enumerate(answers)}
    response = post(doc, assessment, **SCORAD_POST, **easi, **dlqi)
    assert response.status_code == 302, response.context["form"].errors
    rows = {m.measure.code: m for m in OutcomeMeasurement.objects.filter(session=assessment).select_related("measure")}
    assert rows["easi"].value == Decimal("7.6")  # an adult: head and neck weigh 0.1
    assert rows["easi"].items["regions"]["head_neck"] == {
        "erythema": 2,
        "oedema_papulation": 2,
        "excoriation": 1,
        "lichenification": 1,
        "area_percent": 15,
    }
    assert (rows["dlqi"].value, rows["dlqi"].items) == (12, {"answers": list(answers)})


def test_partly_filled_items_are_refused_beside_their_section(doc, assessment):
    partial = {key: value for key, value in SCORAD_POST.items() if key != "items_scorad__sleeplessness"}
    response = post(doc, assessment, **partial)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["items_scorad"] == ["1 of SCORAD's 9 items are empty; fill every item or none."]
    page = response.content.decode()
    assert '<details class="scored-items has-error" open>' in page
    assert 'id="id_items_scorad_error">1 of SCORAD' in page
    assert 'value="7"' in page  # what was typed stays
    assert unchanged(assessment)


def test_an_item_out_of_range_is_refused_beside_it(doc, assessment):
    response = post(doc, assessment, **{**SCORAD_POST, "items_scorad__intensity__dryness": "4"})
    assert "items_scorad__intensity__dryness" in response.context["form"].errors
    assert '<details class="scored-items" open>' in response.content.decode()
    assert unchanged(assessment)


def test_a_posted_total_is_ignored_and_the_items_decide(doc, assessment):
    """Issue 24: the total is read-only on the page (a disabled field), so a
    value posted anyway never reaches the service; the items give 51.5."""
    response = post(doc, assessment, measure_scorad="12", **SCORAD_POST)
    assert response.status_code == 302
    assert OutcomeMeasurement.objects.get(session=assessment, measure__code="scorad").value == Decimal("51.5")


def test_a_posted_total_without_items_records_nothing(doc, assessment):
    response = post(doc, assessment, measure_scorad="40")
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"] == [
        "This visit records SCORAD: enter the results, or say why they were not recorded."
    ]
    assert 'value="40"' not in response.content.decode()
    assert unchanged(assessment)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_sections_open_fit_800px_and_score_scorad(
    live_server, new_page, tmp_path, clinic, patient, receptionist, clinician
):
    """Every section opened without JavaScript of ours: labelled, no sideways
    scrolling at 800 px; SCORAD's items typed in by their labels store 51.5."""
    protocol = make_protocol(
        clinic,
        name="Psoriasis and dermatitis",
        steps=[step("Assessment", "assessment", duration_minutes=30, measures=["scorad", "easi", "pasi", "dlqi"])],
    )
    yesterday = timezone.now().astimezone(clinic.tz).date() - dt.timedelta(days=1)
    start = dt.datetime.combine(yesterday, dt.time(10, 0), tzinfo=clinic.tz)
    enrolment = services.enrol_patient(
        patient=patient,
        protocol=protocol,
        start_date=yesterday,
        clinician=clinician,
        by=receptionist,
        now=start - dt.timedelta(days=3),
    )
    session = services.book_session(
        session=enrolment.sessions.get(sequence=1),
        start=start,
        practitioner=clinician,
        by=receptionist,
        now=start - dt.timedelta(days=1),
    )
    page = browser_login(new_page(width=800, height=1000), live_server.url, clinician)
    page.goto(f"{live_server.url}/sessions/{session.pk}/complete/")
    assert page.locator("details[open]").count() == 4  # open from the start
    assert no_horizontal_scroll(page)
    assert unlabelled_fields(page) == []
    page.screenshot(path=str(tmp_path / "complete-items-800px.png"), full_page=True)

    scorad = page.locator("details", has_text="Score SCORAD from items")
    scorad.get_by_label("Area affected (%)").fill("40")
    for label, value in zip(
        ("Erythema", "Oedema", "Oozing", "Excoriation", "Lichenification", "Dryness"), "221211", strict=True
    ):
        scorad.get_by_label(label).fill(value)
    scorad.get_by_label("Pruritus").fill("7")
    scorad.get_by_label("Sleeplessness").fill("5")
    page.get_by_label("Why measures were not recorded").fill("EASI, PASI and DLQI next visit")
    page.get_by_role("button", name="Complete session").click()
    page.wait_for_url(f"{live_server.url}/patients/{patient.pk}/")
    scored = OutcomeMeasurement.objects.get(session=session)
    assert (scored.measure.code, scored.value, scored.items) == ("scorad", Decimal("51.5"), SCORAD_ITEMS)
