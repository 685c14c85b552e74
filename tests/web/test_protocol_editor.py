"""Issue 13: the manager's protocol editor (/protocols/new/, /protocols/<id>/edit/)."""

import pytest
from django.test import Client
from django.urls import reverse

from protocols.models import Protocol
from protocols.services import load_measures
from tests.factories import make_protocol, step
from tests.web.conftest import login

pytestmark = pytest.mark.django_db


def editor_post(steps: list[dict], **fields) -> dict:
    data = {"name": "Scalp booster", "indication": "hair", "delivery": "injection", "product": "",
            "description": "", "active": "on"}
    data.update(fields)
    data.update({"steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0",
                 "steps-MIN_NUM_FORMS": "1", "steps-MAX_NUM_FORMS": "1000"})
    for i, s in enumerate(steps):
        row = {"name": "Injection", "kind": "treatment", "repeat": "1", "interval_days": "0", "anchor": "previous",
               "window_before_days": "0", "window_after_days": "0", "duration_minutes": "30", "adjunct": "none",
               "product": "", **s}
        data.update({f"steps-{i}-{k}": v for k, v in row.items()})
    return data


def test_only_the_manager_authors(receptionist, clinician, hair_protocol):
    for user in (receptionist, clinician):
        page = login(Client(), user)
        assert page.get(reverse("protocol_create")).status_code == 403
        assert page.post(reverse("protocol_edit", args=[hair_protocol.pk]), editor_post([{}])).status_code == 403
        assert "Edit protocol" not in page.get(reverse("protocol_detail", args=[hair_protocol.pk])).content.decode()


def test_a_new_protocol_is_previewed_then_saved(manager, clinic):
    load_measures()
    page = login(Client(), manager)
    steps = [{"name": "Baseline", "kind": "assessment", "measures": ["hair_density"]},
             {"name": "Injection", "repeat": "4", "interval_days": "14", "window_before_days": "2",
              "window_after_days": "3"}]
    preview = page.post(reverse("protocol_create"), {**editor_post(steps), "preview": "1"})
    body = preview.content.decode()
    assert preview.status_code == 200 and "5 sessions over 59 days" in body
    assert not Protocol.objects.filter(name="Scalp booster").exists()
    response = page.post(reverse("protocol_create"), {**editor_post(steps), "save": "1"})
    protocol = Protocol.objects.get(clinic=clinic, name="Scalp booster")
    assert response.status_code == 302 and response.url == reverse("protocol_detail", args=[protocol.pk])
    saved = list(protocol.steps.order_by("position"))
    assert [(s.name, s.repeat, s.interval_days) for s in saved] == [("Baseline", 1, 0), ("Injection", 4, 14)]
    assert [m.code for m in saved[0].measures.all()] == ["hair_density"]


def test_bad_steps_are_named_and_nothing_is_saved(manager, clinic):
    page = login(Client(), manager)
    response = page.post(reverse("protocol_create"), {**editor_post([{"name": "", "repeat": "0"}]), "save": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the step a name." in body and "Too low: enter a whole number from 1 to 200." in body
    assert not Protocol.objects.filter(clinic=clinic, name="Scalp booster").exists()


def test_a_protocol_in_use_is_saved_as_a_new_version(manager, clinic, enrolment, hair_protocol):
    page = login(Client(), manager)
    url = reverse("protocol_edit", args=[hair_protocol.pk])
    body = page.get(url).content.decode()
    assert "Save as a new version" in body and "a course keeps the steps it started with" in body
    form = page.get(url).context["formset"]
    steps = [{k: ("on" if v is True else v) for k, v in f.initial.items() if v is not False} for f in form.forms if f.initial]
    for s in steps:
        s["measures"] = [m.code for m in s.get("measures", [])]
    steps[0]["window_after_days"] = "5"
    response = page.post(url, {**editor_post(steps, name=hair_protocol.name, indication=hair_protocol.indication,
                                             delivery=hair_protocol.delivery), "save": "1"})
    successor = Protocol.objects.get(lineage=hair_protocol.lineage, is_current=True)
    assert response.status_code == 302 and successor.version == hair_protocol.version + 1
    assert successor.steps.order_by("position").first().window_after_days == 5
    enrolment.refresh_from_db()
    assert enrolment.protocol_id == hair_protocol.pk


def test_an_unused_protocol_is_edited_in_place_and_another_clinics_is_a_404(manager, clinic, other_clinic):
    mine = make_protocol(clinic, steps=[step("Baseline", "assessment", measures=["hair_density"])], name="Mine")
    page = login(Client(), manager)
    url = reverse("protocol_edit", args=[mine.pk])
    assert "Save protocol" in page.get(url).content.decode()
    page.post(url, {**editor_post([{"name": "Baseline visit", "kind": "assessment"}], name="Mine renamed"), "save": "1"})
    mine.refresh_from_db()
    assert (mine.name, mine.version, mine.steps.get().name) == ("Mine renamed", 1, "Baseline visit")
    theirs = make_protocol(other_clinic, name="Theirs")
    assert page.get(reverse("protocol_edit", args=[theirs.pk])).status_code == 404
