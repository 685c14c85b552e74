"""Issue 13: a clinician withdraws an enrolment from the patient page, with a reason."""

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import EnrolmentStatus
from sessions.models import SessionStatus
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def test_a_clinician_withdraws_with_a_reason(clinician, enrolment, booked):
    page = login(Client(), clinician)
    detail = page.get(reverse("patient_detail", args=[enrolment.patient_id])).content.decode()
    assert "Withdraw from this protocol…" in detail
    url = reverse("enrolment_withdraw", args=[enrolment.pk])
    refused = page.post(url, follow=True)
    assert any("Say why the patient is withdrawn." in str(m) for m in refused.context["messages"])
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE
    page.post(url, {f"withdraw-{enrolment.pk}-reason": "Moved to Hamburg"})
    enrolment.refresh_from_db()
    booked.refresh_from_db()
    assert (enrolment.status, enrolment.withdrawn_reason) == (EnrolmentStatus.WITHDRAWN, "Moved to Hamburg")
    assert booked.status == SessionStatus.CANCELLED
    after = page.get(reverse("patient_detail", args=[enrolment.patient_id])).content.decode()
    assert "Moved to Hamburg" in after and "Withdraw from this protocol…" not in after


def test_reception_may_not_and_another_clinic_gets_a_404(receptionist, outsider, enrolment):
    url = reverse("enrolment_withdraw", args=[enrolment.pk])
    reception = login(Client(), receptionist)
    assert "Withdraw from this protocol" not in reception.get(
        reverse("patient_detail", args=[enrolment.patient_id])).content.decode()
    assert reception.post(url, {f"withdraw-{enrolment.pk}-reason": "x"}).status_code == 403
    assert login(Client(), outsider).post(url, {f"withdraw-{enrolment.pk}-reason": "x"}).status_code == 404
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACTIVE
