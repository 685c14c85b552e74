"""A clinician corrects a mistyped value from the patient page (SPEC §10) and
sees the chart change and the versions listed; reception gets no such page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import OutcomeMeasurement
from tests.factories import make_protocol, step
from tests.web.conftest import browser_login

STEPS = [
    step("Baseline assessment", "assessment", measures=["hair_density", "glogau"]),
    step("Review", "assessment", interval_days=14, window_after_days=14, measures=["hair_density", "glogau"]),
]


def _course(clinic, patient, receptionist, clinician):
    """Baseline 3 weeks ago (hair density 100, Glogau 3), review a week ago
    (a mistyped 192, Glogau 2)."""
    protocol = make_protocol(clinic, steps=STEPS, name="Hair course")
    today = timezone.now().astimezone(clinic.tz).date()
    start = today - dt.timedelta(days=21)
    enrolment = services.enrol_patient(
        patient=patient, protocol=protocol, start_date=start, by=receptionist,
        now=dt.datetime.combine(start - dt.timedelta(days=2), dt.time(9), tzinfo=clinic.tz),
    )
    values = ((100, 3), (192, 2))
    for session, (density, glogau) in zip(enrolment.sessions.order_by("sequence"), values, strict=True):
        begin = dt.datetime.combine(session.target_date, dt.time(10), tzinfo=clinic.tz)
        services.book_session(session=session, start=begin, practitioner=clinician, by=receptionist,
                              now=begin - dt.timedelta(days=3))
        services.complete_session(
            session=session, by=clinician, now=begin + dt.timedelta(minutes=30),
            outcomes=[{"measure": "hair_density", "value": density}, {"measure": "glogau", "value": glogau}],
        )
    return OutcomeMeasurement.objects.get(session__enrolment=enrolment, session__sequence=2,
                                          measure__code="hair_density")


@pytest.mark.django_db
def test_reception_has_no_correction_page(client, clinic, patient, receptionist, clinician):
    mistyped = _course(clinic, patient, receptionist, clinician)
    client.force_login(receptionist)
    assert client.get(reverse("outcome_correct", args=[mistyped.pk])).status_code == 403
    page = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert reverse("outcome_correct", args=[mistyped.pk]) not in page


@pytest.mark.django_db
def test_a_correction_without_a_reason_is_refused_beside_the_field(client, clinic, patient, receptionist, clinician):
    mistyped = _course(clinic, patient, receptionist, clinician)
    client.force_login(clinician)
    response = client.post(reverse("outcome_correct", args=[mistyped.pk]), {"measure_hair_density": "129"})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    mistyped.refresh_from_db()
    assert mistyped.value == 192


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_clinician_corrects_a_value_on_the_patient_page_and_the_chart_changes(
    live_server, new_page, tmp_path, clinic, patient, receptionist, clinician
):
    mistyped = _course(clinic, patient, receptionist, clinician)
    page = browser_login(new_page(width=800, height=1100), live_server.url, clinician)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    chart = page.locator('figure[data-measure="hair_density"]')
    assert chart.locator("circle.point").nth(1).get_attribute("data-value") == "192"
    assert chart.locator("line.baseline").count() == 1
    assert page.locator('figure[data-measure="glogau"] polyline.steps').count() == 1  # a grade is drawn as steps
    page.screenshot(path=str(tmp_path / "patient-before.png"), full_page=True)

    chart.locator("summary").click()
    chart.locator(f'tr[data-outcome="{mistyped.pk}"]').get_by_role("link", name="Correct").click()
    page.get_by_label("Hair density (phototrichogram) (hairs/cm²)").fill("129")
    page.get_by_label("Reason for the correction").fill("Typed 192 for 129 (digits swapped).")
    page.screenshot(path=str(tmp_path / "correct.png"), full_page=True)
    page.get_by_role("button", name="Save the correction").click()

    page.wait_for_url(f"{live_server.url}/patients/{patient.pk}/")
    chart = page.locator('figure[data-measure="hair_density"]')
    assert chart.locator("circle.point").nth(1).get_attribute("data-value") == "129"
    assert "+29.0 %" in chart.inner_text()
    page.screenshot(path=str(tmp_path / "patient-after.png"), full_page=True)

    page.goto(f"{live_server.url}/outcomes/{mistyped.pk}/correct/")
    versions = page.locator("table.versions tbody tr")
    assert versions.count() == 2
    assert "Typed 192 for 129 (digits swapped)." in versions.nth(0).inner_text()
